"""CNN autoencoder with the same token interface as the ViT autoencoder.

The encoder downsamples by 2 per stage; its last feature map ``[B, D, h, w]`` read row-major is the
patch-token sequence ``[B, h·w, D]`` (one token per ``patch_size`` = 2^stages pixel square, the same
layout as :func:`solarray.models.layers.patchify`), and a pooled projection of it is the class
token ``[B, D]``. So SolarCHIP's global/local objectives apply to either backbone unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn

from solarray.models.layers import _check_divisible, gather_tokens, init_weights, num_groups
from solarray.models.registry import register


@dataclass
class CNNAEConfig:
    """CNN autoencoder sizes. ``in_channels`` must come from the data (``len(channels)``)."""

    in_channels: int = 0
    image_size: int = 64  # pixels (H = W)
    widths: tuple[int, ...] = (16, 32, 64)  # one stride-2 stage per entry
    embed_dim: int = 64

    PRESETS: ClassVar[dict[str, dict]] = {
        "tiny": dict(image_size=64, widths=(16, 32, 64), embed_dim=64),
        "paper": dict(image_size=512, widths=(64, 128, 256, 512), embed_dim=512),
    }

    def __post_init__(self) -> None:
        self.widths = tuple(int(w) for w in self.widths)
        if self.in_channels <= 0:
            raise ValueError(
                f"CNNAEConfig.in_channels must be a positive channel count taken from the data "
                f"(len(channels)), got {self.in_channels}"
            )
        if not self.widths:
            raise ValueError("CNNAEConfig.widths must list at least one stage width")
        _check_divisible(self.image_size, 2 ** len(self.widths), "total stride 2^stages")


def _conv_block(cin: int, cout: int, stride: int) -> nn.Sequential:
    k = 4 if stride == 2 else 3
    return nn.Sequential(
        nn.Conv2d(cin, cout, k, stride=stride, padding=1),
        nn.GroupNorm(num_groups(cout), cout),
        nn.GELU(),
        nn.Conv2d(cout, cout, 3, padding=1),
        nn.GroupNorm(num_groups(cout), cout),
        nn.GELU(),
    )


def cnn_encoder_stack(in_channels: int, widths: tuple[int, ...], embed_dim: int) -> nn.Sequential:
    """The CNN encoder: one stride-2 stage per width, then a 1×1 projection to ``embed_dim``
    (``[B, C, H, W]`` → ``[B, D, H/2^n, W/2^n]``); index ``i < n`` is stage ``i``, ``n`` the
    projection."""
    stages, cin = [], in_channels
    for w in widths:
        stages.append(_conv_block(cin, w, 2))
        cin = w
    return nn.Sequential(*stages, nn.Conv2d(cin, embed_dim, 1))


class CNNTokenEncoder(nn.Module):
    """The token half of :class:`CNNAE` (conv stages, projection, token LayerNorm) returning the
    patch tokens as a map ``[B, D, H/p, W/p]`` (p = 2^stages). Its state-dict keys are CNNAE's
    ``encoder.*`` and ``token_norm.*``, so a CNNAE's (or SolarCHIP CNN's per-instrument) weights
    load as they are, and its output equals :meth:`CNNAE.encode`'s patch tokens.

    ``inject`` (``[B, inject_channels, 2H/p, 2W/p]``) is added to the input of the last stage:
    the ControlNet-style translator feeds its locked encoder's tokens to the trainable copy there
    (:mod:`solarray.models.controlnet`)."""

    def __init__(self, in_channels: int, widths: tuple[int, ...], embed_dim: int):
        super().__init__()
        self.widths = tuple(int(w) for w in widths)
        self.encoder = cnn_encoder_stack(in_channels, self.widths, embed_dim)
        self.token_norm = nn.LayerNorm(embed_dim)
        self.inject_channels = self.widths[-2] if len(self.widths) > 1 else in_channels
        self.apply(init_weights)

    def forward(self, x: torch.Tensor, inject: torch.Tensor | None = None) -> torch.Tensor:
        n = len(self.widths)
        h = self.encoder[: n - 1](x)
        if inject is not None:
            h = h + inject
        fmap = self.encoder[n - 1:](h)
        return self.token_norm(fmap.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


def _up_block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.ConvTranspose2d(cin, cout, 4, stride=2, padding=1),
        nn.GroupNorm(num_groups(cout), cout),
        nn.GELU(),
        nn.Conv2d(cout, cout, 3, padding=1),
        nn.GroupNorm(num_groups(cout), cout),
        nn.GELU(),
    )


@register("cnn_ae")
class CNNAE(nn.Module):
    """Convolutional autoencoder exposing ``encode``/``decode`` like :class:`~solarray.models.vit.ViTAE`."""

    config_class = CNNAEConfig

    def __init__(self, config: CNNAEConfig):
        super().__init__()
        self.config = config
        c = config
        widths = c.widths
        self.encoder = cnn_encoder_stack(c.in_channels, widths, c.embed_dim)
        self.cls_head = nn.Sequential(nn.LayerNorm(c.embed_dim), nn.Linear(c.embed_dim, c.embed_dim))
        self.token_norm = nn.LayerNorm(c.embed_dim)
        self.cls_to_map = nn.Linear(c.embed_dim, c.embed_dim)
        ups, cin = [], c.embed_dim
        for w in reversed(widths):
            ups.append(_up_block(cin, w))
            cin = w
        self.decoder = nn.Sequential(*ups, nn.Conv2d(cin, c.in_channels, 3, padding=1))
        self.apply(init_weights)

    @property
    def patch_size(self) -> int:
        return 2 ** len(self.config.widths)

    @property
    def grid_size(self) -> tuple[int, int]:
        g = self.config.image_size // self.patch_size
        return (g, g)

    @property
    def num_patches(self) -> int:
        return self.grid_size[0] * self.grid_size[1]

    @property
    def embed_dim(self) -> int:
        return self.config.embed_dim

    def encode(self, x: torch.Tensor, keep_idx: torch.Tensor | None = None
               ) -> tuple[torch.Tensor, torch.Tensor]:
        """``x [B, C, H, W]`` → ``(cls [B, D], patches [B, K, D])``.

        With ``keep_idx [B, K]`` the convolution still sees the whole image; only the returned
        tokens are selected (a CNN cannot drop input patches the way a ViT does).
        """
        c = self.config
        if x.dim() != 4 or x.shape[1] != c.in_channels or tuple(x.shape[2:]) != (
            c.image_size, c.image_size
        ):
            raise ValueError(
                f"cnn_ae expects [B, {c.in_channels}, {c.image_size}, {c.image_size}], "
                f"got {tuple(x.shape)}"
            )
        fmap = self.encoder(x)
        tokens = fmap.flatten(2).transpose(1, 2)
        cls = self.cls_head(tokens.mean(dim=1))
        tokens = self.token_norm(tokens)
        if keep_idx is not None:
            tokens = gather_tokens(tokens, keep_idx)
        return cls, tokens

    def decode(self, cls: torch.Tensor, patches: torch.Tensor,
               keep_idx: torch.Tensor | None = None) -> torch.Tensor:
        """Tokens → reconstruction ``[B, C, H, W]`` (tokens missing from ``keep_idx`` are zero)."""
        b, d = cls.shape
        gh, gw = self.grid_size
        if keep_idx is not None:
            full = patches.new_zeros(b, gh * gw, d)
            full.scatter_(1, keep_idx[..., None].expand(-1, -1, d), patches)
            patches = full
        if patches.shape[1] != gh * gw:
            raise ValueError(f"decoder got {patches.shape[1]} tokens, expected {gh * gw}")
        fmap = (patches + self.cls_to_map(cls)[:, None]).transpose(1, 2).reshape(b, d, gh, gw)
        return self.decoder(fmap)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(*self.encode(x))

    def embed(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Per-sample embeddings for export: ``{"cls": [B, D]}``."""
        return {"cls": self.encode(x)[0]}
