"""ViT autoencoder: patch embedding, 2-D sin-cos positions, class token, pre-LN blocks, light decoder.

The encoder is reusable by MAE (encode a subset of patches with ``keep_idx``), FPNet (class token
as the global token) and SPNet (patch tokens on the ``grid``). Shapes:

* input ``x``: ``[B, C, H, W]`` with C = ``config.in_channels`` and H = W = ``config.image_size``;
* ``encode(x, keep_idx=None)`` → ``(cls [B, D], patches [B, K, D])`` with K = N or ``keep_idx.shape[1]``;
* ``decode(cls, patches, keep_idx=None)`` → ``[B, C, H, W]``; missing patches (not in ``keep_idx``)
  are filled with a learned mask token before the decoder blocks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn

from solarray.models.layers import (
    Block,
    _check_divisible,
    gather_tokens,
    init_weights,
    patchify,
    sincos_pos_embed_2d,
    unpatchify,
)
from solarray.models.registry import register


@dataclass
class ViTAEConfig:
    """ViT autoencoder sizes. ``in_channels`` must come from the data (``len(channels)``)."""

    in_channels: int = 0
    image_size: int = 64  # pixels (H = W)
    patch_size: int = 8  # pixels
    embed_dim: int = 64
    depth: int = 2
    num_heads: int = 4
    mlp_ratio: float = 4.0
    decoder_dim: int = 64
    decoder_depth: int = 1
    decoder_heads: int = 4

    PRESETS: ClassVar[dict[str, dict]] = {
        "tiny": dict(image_size=64, patch_size=8, embed_dim=64, depth=2, num_heads=4,
                     decoder_dim=64, decoder_depth=1, decoder_heads=4),
        "small": dict(image_size=128, patch_size=8, embed_dim=192, depth=4, num_heads=4,
                      decoder_dim=128, decoder_depth=2, decoder_heads=4),
        # ViT-B/16 encoder with the MAE decoder (SolarCHIP trains ViT backbones at 512²).
        "paper": dict(image_size=512, patch_size=16, embed_dim=768, depth=12, num_heads=12,
                      decoder_dim=512, decoder_depth=8, decoder_heads=16),
    }

    def __post_init__(self) -> None:
        if self.in_channels <= 0:
            raise ValueError(
                f"ViTAEConfig.in_channels must be a positive channel count taken from the data "
                f"(len(channels)), got {self.in_channels}"
            )
        _check_divisible(self.image_size, self.patch_size, "patch_size")
        for name in ("embed_dim", "decoder_dim"):
            if getattr(self, name) % 4:
                raise ValueError(f"ViTAEConfig.{name} must be divisible by 4 (2-D sin-cos)")


class ViTEncoder(nn.Module):
    """Patch embedding + class token + fixed 2-D sin-cos positions + pre-LN blocks + final LN."""

    def __init__(self, in_channels: int, image_size: int, patch_size: int, embed_dim: int,
                 depth: int, num_heads: int, mlp_ratio: float = 4.0):
        super().__init__()
        self.patch_size = patch_size
        self.grid_size = (image_size // patch_size, image_size // patch_size)
        self.num_patches = self.grid_size[0] * self.grid_size[1]
        self.embed_dim = embed_dim
        self.patch_embed = nn.Conv2d(in_channels, embed_dim, patch_size, stride=patch_size)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dim))
        self.register_buffer(
            "pos_embed", sincos_pos_embed_2d(embed_dim, *self.grid_size)[None], persistent=False
        )
        self.blocks = nn.ModuleList(Block(embed_dim, num_heads, mlp_ratio) for _ in range(depth))
        self.norm = nn.LayerNorm(embed_dim)
        self.apply(init_weights)
        # Patch embedding as a linear layer over flattened patches (MAE recipe).
        w = self.patch_embed.weight.data
        nn.init.xavier_uniform_(w.view(w.shape[0], -1))
        nn.init.normal_(self.cls_token, std=0.02)

    def tokens(self, x: torch.Tensor) -> torch.Tensor:
        """Patch tokens with positions, before the blocks: ``[B, N, D]``."""
        t = self.patch_embed(x).flatten(2).transpose(1, 2)
        return t + self.pos_embed

    def forward(self, x: torch.Tensor, keep_idx: torch.Tensor | None = None
                ) -> tuple[torch.Tensor, torch.Tensor]:
        t = self.tokens(x)
        if keep_idx is not None:
            t = gather_tokens(t, keep_idx)
        cls = self.cls_token.expand(t.shape[0], -1, -1)
        t = torch.cat([cls, t], dim=1)
        for block in self.blocks:
            t = block(t)
        t = self.norm(t)
        return t[:, 0], t[:, 1:]


class ViTDecoder(nn.Module):
    """Light transformer decoder: tokens → pixels of every patch."""

    def __init__(self, out_channels: int, grid_size: tuple[int, int], patch_size: int,
                 embed_dim: int, decoder_dim: int, depth: int, num_heads: int,
                 mlp_ratio: float = 4.0):
        super().__init__()
        self.out_channels = out_channels
        self.grid_size = grid_size
        self.patch_size = patch_size
        self.embed = nn.Linear(embed_dim, decoder_dim)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, decoder_dim))
        self.register_buffer(
            "pos_embed", sincos_pos_embed_2d(decoder_dim, *grid_size, cls_token=True)[None],
            persistent=False,
        )
        self.blocks = nn.ModuleList(
            Block(decoder_dim, num_heads, mlp_ratio) for _ in range(depth)
        )
        self.norm = nn.LayerNorm(decoder_dim)
        self.head = nn.Linear(decoder_dim, patch_size * patch_size * out_channels)
        self.apply(init_weights)
        nn.init.normal_(self.mask_token, std=0.02)

    def forward(self, cls: torch.Tensor, patches: torch.Tensor,
                keep_idx: torch.Tensor | None = None) -> torch.Tensor:
        b = cls.shape[0]
        n = self.grid_size[0] * self.grid_size[1]
        t = self.embed(patches)
        if keep_idx is not None:
            full = self.mask_token.expand(b, n, -1).clone()
            full.scatter_(1, keep_idx[..., None].expand(-1, -1, t.shape[-1]), t)
            t = full
        elif t.shape[1] != n:
            raise ValueError(f"decoder got {t.shape[1]} patch tokens, expected {n} (or keep_idx)")
        t = torch.cat([self.embed(cls)[:, None], t], dim=1) + self.pos_embed
        for block in self.blocks:
            t = block(t)
        pixels = self.head(self.norm(t)[:, 1:])
        return unpatchify(pixels, self.patch_size, self.out_channels, self.grid_size)


@register("vit_ae")
class ViTAE(nn.Module):
    """ViT autoencoder (see module docstring for shapes)."""

    config_class = ViTAEConfig

    def __init__(self, config: ViTAEConfig):
        super().__init__()
        self.config = config
        c = config
        self.encoder = ViTEncoder(c.in_channels, c.image_size, c.patch_size, c.embed_dim,
                                  c.depth, c.num_heads, c.mlp_ratio)
        self.decoder = ViTDecoder(c.in_channels, self.encoder.grid_size, c.patch_size,
                                  c.embed_dim, c.decoder_dim, c.decoder_depth, c.decoder_heads,
                                  c.mlp_ratio)

    @property
    def patch_size(self) -> int:
        return self.config.patch_size

    @property
    def grid_size(self) -> tuple[int, int]:
        return self.encoder.grid_size

    @property
    def num_patches(self) -> int:
        return self.encoder.num_patches

    @property
    def embed_dim(self) -> int:
        return self.config.embed_dim

    def patchify(self, x: torch.Tensor) -> torch.Tensor:
        """``[B, C, H, W]`` → ``[B, N, p·p·C]`` (the decoder's target layout)."""
        return patchify(x, self.patch_size)

    def encode(self, x: torch.Tensor, keep_idx: torch.Tensor | None = None
               ) -> tuple[torch.Tensor, torch.Tensor]:
        """``x [B, C, H, W]`` → ``(cls [B, D], patches [B, K, D])``; ``keep_idx [B, K]`` selects patches."""
        self._check_input(x)
        return self.encoder(x, keep_idx)

    def decode(self, cls: torch.Tensor, patches: torch.Tensor,
               keep_idx: torch.Tensor | None = None) -> torch.Tensor:
        """Tokens → reconstruction ``[B, C, H, W]``."""
        return self.decoder(cls, patches, keep_idx)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        cls, patches = self.encode(x)
        return self.decode(cls, patches)

    def embed(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Per-sample embeddings for export: ``{"cls": [B, D]}``."""
        return {"cls": self.encode(x)[0]}

    def _check_input(self, x: torch.Tensor) -> None:
        c = self.config
        if x.dim() != 4 or x.shape[1] != c.in_channels or tuple(x.shape[2:]) != (
            c.image_size, c.image_size
        ):
            raise ValueError(
                f"vit_ae expects [B, {c.in_channels}, {c.image_size}, {c.image_size}], "
                f"got {tuple(x.shape)}"
            )
