"""Masked autoencoder on the ViT backbone (``mae_vit``), with random, PPAM or latitude-band masking.

One step (SA-AI 2025 / He et al. 2022): patchify ``x [B, C, H, W]``, choose the visible patches with
:func:`solarray.models.masking.make_mask` (``keep_idx [B, K]``), encode only those (plus the
class token), decode all N positions with mask tokens in the gaps, and score the masked patches
(:func:`solarray.losses.mae.mae_loss`). Any channel count; ``channels`` (names) are needed so
PPAM can find the magnetogram (``masking.magnetogram_channel``, default ``hmi_m``); with
``prior="ar_mask"`` PPAM uses an active-region mask passed to :meth:`MAEViT.forward` instead.

The encoder is a :class:`solarray.models.vit.ViTEncoder` stored as ``encoder``, so its weights
load into FPNet (:mod:`solarray.models.fpnet`) or any other ViT user by key prefix ``encoder.``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import ClassVar, NamedTuple

import torch
from torch import nn

from solarray.core import channels as channel_catalogue
from solarray.losses.mae import mae_loss
from solarray.models.layers import _check_divisible, patchify, unpatchify
from solarray.models.masking import MaskingConfig, MaskResult, make_mask
from solarray.models.registry import register
from solarray.models.vit import ViTDecoder, ViTEncoder

PRIORS = ("magnetogram", "ar_mask")


def masking_config(values: dict | MaskingConfig) -> MaskingConfig:
    """A :class:`MaskingConfig` from a plain dict (as stored in checkpoints)."""
    if isinstance(values, MaskingConfig):
        return values
    names = {f.name for f in dataclasses.fields(MaskingConfig)}
    unknown = sorted(set(values) - names)
    if unknown:
        raise ValueError(f"masking: unknown key(s) {', '.join(unknown)}; "
                         f"expected some of {', '.join(sorted(names))}")
    v = dict(values)
    if "band_deg" in v:
        v["band_deg"] = tuple(float(b) for b in v["band_deg"])
    return MaskingConfig(**v)


@dataclass
class MAEViTConfig:
    """MAE sizes and masking. ``channels`` come from the data; ``masking`` holds
    :class:`~solarray.models.masking.MaskingConfig` fields (``strategy``, ``ratio``, ...)."""

    channels: tuple[str, ...] = ()
    image_size: int = 64  # pixels (H = W)
    patch_size: int = 8  # pixels
    embed_dim: int = 64
    depth: int = 2
    num_heads: int = 4
    mlp_ratio: float = 4.0
    decoder_dim: int = 64
    decoder_depth: int = 1
    decoder_heads: int = 4
    norm_pix_loss: bool = False  # per-patch normalised targets
    masking: dict = field(default_factory=lambda: {"strategy": "random", "ratio": 0.75})
    prior: str = "magnetogram"  # PPAM prior: magnetogram channel | ar_mask (given per batch)

    PRESETS: ClassVar[dict[str, dict]] = {
        "tiny": dict(image_size=64, patch_size=8, embed_dim=64, depth=2, num_heads=4,
                     decoder_dim=64, decoder_depth=1, decoder_heads=4),
        "small": dict(image_size=128, patch_size=8, embed_dim=192, depth=4, num_heads=4,
                      decoder_dim=128, decoder_depth=2, decoder_heads=4),
        # MAE ViT-B/16 with its 8-block 512-wide decoder (SA-AI 2025 uses 512² inputs).
        "paper": dict(image_size=512, patch_size=16, embed_dim=768, depth=12, num_heads=12,
                      decoder_dim=512, decoder_depth=8, decoder_heads=16),
    }

    def __post_init__(self) -> None:
        self.channels = tuple(channel_catalogue.resolve(list(self.channels))) if self.channels \
            else ()
        if not self.channels:
            raise ValueError("MAEViTConfig.channels must name the input channels (from the data)")
        _check_divisible(self.image_size, self.patch_size, "patch_size")
        for name in ("embed_dim", "decoder_dim"):
            if getattr(self, name) % 4:
                raise ValueError(f"MAEViTConfig.{name} must be divisible by 4 (2-D sin-cos)")
        if self.prior not in PRIORS:
            raise ValueError(f"MAEViTConfig.prior must be one of {PRIORS}, got {self.prior!r}")
        mc = masking_config(self.masking)
        if mc.strategy == "ppam" and self.prior == "magnetogram" \
                and mc.magnetogram_channel not in self.channels:
            raise ValueError(
                f"PPAM with the magnetogram prior needs channel {mc.magnetogram_channel!r} in "
                f"the input channels {list(self.channels)} (or prior='ar_mask')")
        self.masking = {k: (list(v) if isinstance(v, tuple) else v)
                        for k, v in dataclasses.asdict(mc).items()}


class MAEOutput(NamedTuple):
    """``pred``/``target`` ``[B, N, p·p·C]`` (target not normalised), ``mask`` ``[B, N]`` (True =
    masked), ``keep_idx`` ``[B, K]``, ``cls`` ``[B, D]``."""

    pred: torch.Tensor
    target: torch.Tensor
    mask: torch.Tensor
    keep_idx: torch.Tensor
    cls: torch.Tensor


@register("mae_vit")
class MAEViT(nn.Module):
    """Masked autoencoder with a ViT encoder on the visible patches and a light decoder."""

    config_class = MAEViTConfig

    def __init__(self, config: MAEViTConfig):
        super().__init__()
        self.config = config
        c = config
        self.masking = masking_config(c.masking)
        n_ch = len(c.channels)
        self.encoder = ViTEncoder(n_ch, c.image_size, c.patch_size, c.embed_dim, c.depth,
                                  c.num_heads, c.mlp_ratio)
        self.decoder = ViTDecoder(n_ch, self.encoder.grid_size, c.patch_size, c.embed_dim,
                                  c.decoder_dim, c.decoder_depth, c.decoder_heads, c.mlp_ratio)

    @property
    def num_patches(self) -> int:
        return self.encoder.num_patches

    def mask(self, x: torch.Tensor, ar_mask: torch.Tensor | None = None,
             generator: torch.Generator | None = None) -> MaskResult:
        """The configured masking of batch ``x`` ``[B, C, H, W]`` (``ar_mask`` ``[B, H, W]`` for
        ``prior="ar_mask"``)."""
        if self.masking.strategy == "ppam" and self.config.prior == "ar_mask":
            if ar_mask is None:
                raise ValueError("mae_vit with prior='ar_mask' needs an ar_mask [B, H, W] per batch")
            return make_mask(self.masking, x, self.config.patch_size, ar_mask=ar_mask,
                             generator=generator)
        return make_mask(self.masking, x, self.config.patch_size,
                         channel_names=self.config.channels, generator=generator)

    def forward(self, x: torch.Tensor, ar_mask: torch.Tensor | None = None,
                mask: MaskResult | None = None,
                generator: torch.Generator | None = None) -> MAEOutput:
        """Mask, encode the visible patches, reconstruct every patch (see :class:`MAEOutput`)."""
        self._check_input(x)
        if mask is None:
            mask = self.mask(x, ar_mask, generator)
        keep = mask.keep_idx.to(x.device)
        cls, tokens = self.encoder(x, keep)
        recon = self.decoder(cls, tokens, keep)
        p = self.config.patch_size
        return MAEOutput(patchify(recon, p), patchify(x, p), mask.mask.to(x.device), keep, cls)

    def loss(self, out: MAEOutput, present: torch.Tensor | None = None) -> torch.Tensor:
        """Reconstruction loss on the masked patches (config ``norm_pix_loss``)."""
        return mae_loss(out.pred, out.target, out.mask, norm_pix=self.config.norm_pix_loss,
                        present=present, channels=len(self.config.channels))

    def reconstruct(self, out: MAEOutput) -> torch.Tensor:
        """Image ``[B, C, H, W]``: visible patches from the input, masked ones predicted (in the
        target's units; with ``norm_pix_loss`` the prediction is de-normalised per patch with the
        true patch statistics, for display)."""
        pred = out.pred
        if self.config.norm_pix_loss:
            mean = out.target.mean(-1, keepdim=True)
            std = torch.sqrt(out.target.var(-1, keepdim=True, unbiased=False) + 1e-6)
            pred = pred * std + mean
        mixed = torch.where(out.mask[..., None], pred, out.target)
        return unpatchify(mixed, self.config.patch_size, len(self.config.channels),
                          self.encoder.grid_size)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """All patches, no masking: ``(cls [B, D], patches [B, N, D])``."""
        self._check_input(x)
        return self.encoder(x)

    def embed(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Per-sample embeddings for export: ``{"cls": [B, D]}``."""
        return {"cls": self.encode(x)[0]}

    def _check_input(self, x: torch.Tensor) -> None:
        c = self.config
        n = len(c.channels)
        if x.dim() != 4 or x.shape[1] != n or tuple(x.shape[2:]) != (c.image_size, c.image_size):
            raise ValueError(f"mae_vit expects [B, {n}, {c.image_size}, {c.image_size}] "
                             f"({', '.join(c.channels)}), got {tuple(x.shape)}")
