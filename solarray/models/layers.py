"""Building blocks shared by the backbones: patchify, 2-D sin-cos positions, pre-LN blocks.

Plain PyTorch (no torchvision/timm). Channel counts are always parameters: SDO stacks have 1–14
channels, so nothing here assumes RGB.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def patchify(images: torch.Tensor, patch_size: int) -> torch.Tensor:
    """``[B, C, H, W]`` → ``[B, N, p·p·C]`` with N = (H/p)·(W/p), row-major over the patch grid.

    Each patch vector is ordered (py, px, c), so :func:`unpatchify` is its exact inverse.
    """
    b, c, h, w = images.shape
    p = patch_size
    if h % p or w % p:
        raise ValueError(f"image size {h}x{w} is not divisible by patch size {p}")
    gh, gw = h // p, w // p
    x = images.reshape(b, c, gh, p, gw, p)
    x = torch.einsum("bchpwq->bhwpqc", x)
    return x.reshape(b, gh * gw, p * p * c)


def unpatchify(patches: torch.Tensor, patch_size: int, channels: int,
               grid: tuple[int, int]) -> torch.Tensor:
    """``[B, N, p·p·C]`` → ``[B, C, H, W]``; inverse of :func:`patchify` for a ``grid`` = (gh, gw)."""
    b, n, d = patches.shape
    p = patch_size
    gh, gw = grid
    if n != gh * gw or d != p * p * channels:
        raise ValueError(
            f"patches {tuple(patches.shape)} do not match grid {grid}, patch {p}, {channels} channels"
        )
    x = patches.reshape(b, gh, gw, p, p, channels)
    x = torch.einsum("bhwpqc->bchpwq", x)
    return x.reshape(b, channels, gh * p, gw * p)


def sincos_pos_embed_1d(dim: int, positions: torch.Tensor) -> torch.Tensor:
    """Fixed sin-cos embedding ``[len(positions), dim]`` (dim even); frequencies 1/10000^(2i/dim)."""
    if dim % 2:
        raise ValueError(f"sin-cos embedding dimension must be even, got {dim}")
    omega = torch.arange(dim // 2, dtype=torch.float64) / (dim / 2.0)
    omega = 1.0 / 10000.0**omega
    out = positions.reshape(-1).to(torch.float64)[:, None] * omega[None, :]
    return torch.cat([torch.sin(out), torch.cos(out)], dim=1).float()


def sincos_pos_embed_2d(dim: int, grid_h: int, grid_w: int, cls_token: bool = False) -> torch.Tensor:
    """2-D sin-cos positions ``[gh·gw (+1), dim]``, row-major like :func:`patchify`.

    The first half of the dimensions encodes the row, the second half the column (MAE convention);
    with ``cls_token`` a zero row is prepended for the class token. ``dim`` must be divisible by 4.
    """
    if dim % 4:
        raise ValueError(f"2-D sin-cos embedding dimension must be divisible by 4, got {dim}")
    rows, cols = torch.meshgrid(
        torch.arange(grid_h, dtype=torch.float64), torch.arange(grid_w, dtype=torch.float64),
        indexing="ij",
    )
    emb = torch.cat(
        [sincos_pos_embed_1d(dim // 2, rows), sincos_pos_embed_1d(dim // 2, cols)], dim=1
    )
    if cls_token:
        emb = torch.cat([torch.zeros(1, dim), emb], dim=0)
    return emb


class Attention(nn.Module):
    """Multi-head self-attention (scaled dot product, no bias tricks)."""

    def __init__(self, dim: int, num_heads: int):
        super().__init__()
        if dim % num_heads:
            raise ValueError(f"embed dim {dim} is not divisible by num_heads {num_heads}")
        self.num_heads = num_heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, d = x.shape
        qkv = self.qkv(x).reshape(b, n, 3, self.num_heads, d // self.num_heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4)
        out = F.scaled_dot_product_attention(q, k, v)
        return self.proj(out.transpose(1, 2).reshape(b, n, d))


class Block(nn.Module):
    """Pre-LN transformer block: ``x + Attn(LN(x))``, then ``x + MLP(LN(x))``."""

    def __init__(self, dim: int, num_heads: int, mlp_ratio: float = 4.0):
        super().__init__()
        hidden = int(dim * mlp_ratio)
        self.norm1 = nn.LayerNorm(dim)
        self.attn = Attention(dim, num_heads)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


def init_weights(module: nn.Module) -> None:
    """Xavier-uniform linear layers, zero biases, unit LayerNorm (the MAE/ViT recipe)."""
    if isinstance(module, nn.Linear):
        nn.init.xavier_uniform_(module.weight)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.LayerNorm | nn.GroupNorm):
        nn.init.ones_(module.weight)
        nn.init.zeros_(module.bias)
    elif isinstance(module, nn.Conv2d | nn.ConvTranspose2d):
        nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
        if module.bias is not None:
            nn.init.zeros_(module.bias)


def gather_tokens(tokens: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """Select tokens ``[B, N, D]`` at ``index`` ``[B, K]`` (long) → ``[B, K, D]``."""
    if index.dim() != 2 or index.shape[0] != tokens.shape[0]:
        raise ValueError(
            f"token index must be [B, K] with B={tokens.shape[0]}, got {tuple(index.shape)}"
        )
    return torch.gather(tokens, 1, index[..., None].expand(-1, -1, tokens.shape[-1]))


def _check_divisible(image_size: int, factor: int, what: str) -> int:
    if image_size % factor:
        raise ValueError(f"image_size {image_size} is not divisible by the {what} ({factor})")
    return image_size // factor


def num_groups(channels: int) -> int:
    """Largest group count ≤ 8 dividing ``channels`` (GroupNorm that works for any width)."""
    return math.gcd(channels, 8)
