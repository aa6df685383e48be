"""SPNet: multi-modal segmentation of active regions (AR), coronal holes (CH) and filaments (FL).

A ViT encoder (the same :class:`~solarray.models.vit.ViTEncoder` as ``vit_ae``/MAE, so its weights
can initialise SPNet) reads any subset of channels; a progressive
upsampling decoder (SETR-PUP) with light UNETR-style convolutional skips from the input image
turns the patch tokens into three per-pixel mask logits. Pretrained encoders (MAE, ViT AE,
SolarCHIP per instrument) load with :func:`solarray.models.pretrained.load_encoder`; a subset of
SPNet's channels may be covered.

Shapes: ``image [B, C, H, W]`` float32 with C = ``len(config.channels)`` in that order, H = W =
``config.image_size``; ``present [B, C]`` (1 = channel observed, 0 = missing) → logits
``[B, 3, H, W]`` in the order of :data:`~solarray.core.features.FEATURE_KINDS`.

Missing modalities: a channel whose ``present`` flag is 0 is zeroed before the encoder and the
flags are embedded and added to every token, so the model knows which inputs it saw. In training
(``model.train()``) each present channel is also dropped with probability
``config.modality_dropout`` per sample (never all of them), so one model serves every subset.
NaN pixels (off-disk/off-frame values in ingested stacks) are replaced by 0 (the scaled
background) — documented handling, not an error. Wrong channel counts or image sizes raise.

Single-modal variants are the same model with one channel, e.g.
``build("spnet", preset="tiny", channels=("hmi_m",))`` for ARs on magnetograms.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from solarray.core import channels as channel_catalogue
from solarray.core.features import FEATURE_KINDS
from solarray.models.layers import _check_divisible, init_weights, num_groups
from solarray.models.registry import register
from solarray.models.vit import ViTEncoder


@dataclass
class SPNetConfig:
    """SPNet sizes. ``channels``: input channel names in input order (any non-empty subset)."""

    channels: tuple[str, ...] = ()
    image_size: int = 64  # pixels (H = W)
    patch_size: int = 8  # pixels; a power of two (the decoder doubles resolution log2(p) times)
    embed_dim: int = 64
    depth: int = 2
    num_heads: int = 4
    mlp_ratio: float = 4.0
    decoder_dim: int = 16  # channels of the upsampling decoder
    skip_dim: int = 8  # channels of the conv skip pyramid from the image; 0 = pure ViT decoder
    modality_dropout: float = 0.25  # training only: P(drop a present channel) per sample
    thresholds: tuple[float, ...] = ()  # per feature (AR, CH, FL) probability → mask; () = 0.5

    PRESETS: ClassVar[dict[str, dict]] = {
        "tiny": dict(image_size=64, patch_size=8, embed_dim=64, depth=2, num_heads=4,
                     decoder_dim=16, skip_dim=8),
        # CPU-sized for skill at 128² (ViT-Ti width, 4 blocks): where model compute shows.
        "small": dict(image_size=128, patch_size=8, embed_dim=192, depth=4, num_heads=4,
                      decoder_dim=32, skip_dim=16),
        # ViT-B/16 encoder at the paper's 512² frames.
        "paper": dict(image_size=512, patch_size=16, embed_dim=768, depth=12, num_heads=12,
                      decoder_dim=256, skip_dim=32),
    }

    def __post_init__(self) -> None:
        if not self.channels:
            raise ValueError("SPNetConfig.channels must name at least one input channel "
                             "(e.g. ('hmi_m',) for the single-modal AR model)")
        self.channels = channel_catalogue.resolve(self.channels)
        _check_divisible(self.image_size, self.patch_size, "patch_size")
        if self.patch_size < 2 or self.patch_size & (self.patch_size - 1):
            raise ValueError(f"SPNetConfig.patch_size must be a power of two ≥ 2, "
                             f"got {self.patch_size}")
        if self.embed_dim % 4:
            raise ValueError("SPNetConfig.embed_dim must be divisible by 4 (2-D sin-cos)")
        if not 0.0 <= self.modality_dropout < 1.0:
            raise ValueError(f"SPNetConfig.modality_dropout must be in [0, 1), "
                             f"got {self.modality_dropout}")
        self.thresholds = tuple(float(t) for t in self.thresholds)
        if self.thresholds and (len(self.thresholds) != len(FEATURE_KINDS)
                                or not all(0.0 < t < 1.0 for t in self.thresholds)):
            raise ValueError(f"SPNetConfig.thresholds: expected {len(FEATURE_KINDS)} values in "
                             f"(0, 1) (one per {', '.join(FEATURE_KINDS)}), got {self.thresholds}")
        if self.decoder_dim <= 0 or self.skip_dim < 0:
            raise ValueError("SPNetConfig.decoder_dim must be > 0 and skip_dim ≥ 0")


def _conv_block(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride=stride, padding=1),
                         nn.GroupNorm(num_groups(cout), cout), nn.GELU())


@register("spnet")
class SPNet(nn.Module):
    """ViT encoder + progressive upsampling decoder → ``[B, 3, H, W]`` logits (AR, CH, FL)."""

    config_class = SPNetConfig
    #: A pretrained encoder may cover a subset of the channels (the rest keep their init).
    partial_pretrained_channels: ClassVar[bool] = True

    def __init__(self, config: SPNetConfig):
        super().__init__()
        self.config = c = config
        n_in = len(c.channels)
        self.encoder = ViTEncoder(n_in, c.image_size, c.patch_size, c.embed_dim, c.depth,
                                  c.num_heads, c.mlp_ratio)
        # Which channels were observed, as a token bias (zero-initialised: no effect at start).
        self.presence = nn.Linear(n_in, c.embed_dim)
        levels = int(np.log2(c.patch_size))
        self.levels = levels
        # Skip pyramid: full resolution, 1/2, ..., 1/(p/2) (the grid level comes from the ViT).
        if c.skip_dim:
            skips = [_conv_block(n_in + 1, c.skip_dim)]  # +1: the presence-weighted disk of data
            skips += [_conv_block(c.skip_dim, c.skip_dim, stride=2) for _ in range(levels - 1)]
            self.skips = nn.ModuleList(skips)
        else:
            self.skips = nn.ModuleList()
        self.proj = nn.Conv2d(c.embed_dim, c.decoder_dim, 1)
        self.up = nn.ModuleList(
            _conv_block(c.decoder_dim + c.skip_dim, c.decoder_dim) for _ in range(levels)
        )
        self.head = nn.Conv2d(c.decoder_dim, len(FEATURE_KINDS), 1)
        for m in (self.proj, *self.skips, *self.up, self.head):
            m.apply(init_weights)
        nn.init.zeros_(self.presence.weight)
        nn.init.zeros_(self.presence.bias)

    @property
    def channels(self) -> tuple[str, ...]:
        return self.config.channels

    def decision_thresholds(self) -> np.ndarray:
        """Per-feature probability thresholds ``[3]`` (tuned on validation, else 0.5)."""
        return np.asarray(self.config.thresholds or (0.5,) * len(FEATURE_KINDS), np.float32)

    def pretrained_encoders(self) -> list[nn.Module]:
        """The ViT encoder a pretrained checkpoint initialises."""
        return [self.encoder]

    def check_input(self, image: torch.Tensor, present: torch.Tensor | None) -> None:
        c = self.config
        want = (len(c.channels), c.image_size, c.image_size)
        if image.dim() != 4 or tuple(image.shape[1:]) != want:
            raise ValueError(
                f"spnet expects image [B, {want[0]}, {want[1]}, {want[2]}] with channels "
                f"{', '.join(c.channels)}; got {tuple(image.shape)}"
            )
        if present is not None and tuple(present.shape) != (image.shape[0], want[0]):
            raise ValueError(f"spnet: present must be [B, {want[0]}], got {tuple(present.shape)}")

    def drop_modalities(self, present: torch.Tensor) -> torch.Tensor:
        """Training-time modality dropout: zero each present flag with P = ``modality_dropout``;
        a sample that would lose every channel keeps one of its present channels at random."""
        p = self.config.modality_dropout
        if p <= 0 or present.shape[1] == 1:
            return present
        keep = (torch.rand_like(present) >= p).to(present.dtype)
        dropped = present * keep
        empty = dropped.sum(dim=1, keepdim=True) == 0
        pick = (torch.rand_like(present) + 1.0) * (present > 0)
        one = torch.zeros_like(present).scatter_(1, pick.argmax(dim=1, keepdim=True), 1.0) * present
        return torch.where(empty, one, dropped)

    def forward(self, image: torch.Tensor, present: torch.Tensor | None = None) -> torch.Tensor:
        """``image [B, C, H, W]``, ``present [B, C]`` (default all 1) → logits ``[B, 3, H, W]``."""
        self.check_input(image, present)
        b = image.shape[0]
        if present is None:
            present = image.new_ones(b, image.shape[1])
        present = present.to(image.dtype)
        if self.training:
            present = self.drop_modalities(present)
        x = torch.nan_to_num(image, nan=0.0, posinf=0.0, neginf=0.0) * present[:, :, None, None]

        enc = self.encoder
        t = enc.tokens(x) + self.presence(present)[:, None, :]
        t = torch.cat([enc.cls_token.expand(b, -1, -1), t], dim=1)
        for block in enc.blocks:
            t = block(t)
        t = enc.norm(t)[:, 1:]
        gh, gw = enc.grid_size
        y = self.proj(t.transpose(1, 2).reshape(b, -1, gh, gw))

        skips: list[torch.Tensor] = []
        if len(self.skips):
            # The extra input plane is how much data each pixel had (so "no data" differs from
            # "data equal to 0").
            s = torch.cat([x, present.mean(dim=1)[:, None, None, None].expand(b, 1, *x.shape[2:])],
                          dim=1)
            for layer in self.skips:
                s = layer(s)
                skips.append(s)
        for i, layer in enumerate(self.up):
            y = F.interpolate(y, scale_factor=2, mode="bilinear", align_corners=False)
            if skips:
                y = torch.cat([y, skips[self.levels - 1 - i]], dim=1)
            y = layer(y)
        return self.head(y)

    @torch.no_grad()
    def predict_proba(self, image: torch.Tensor, present: torch.Tensor | None = None,
                      batch_size: int = 32) -> torch.Tensor:
        """Eval-mode sigmoid probabilities ``[B, 3, H, W]`` (batched, no gradients)."""
        was = self.training
        self.eval()
        try:
            out = [torch.sigmoid(self(image[i:i + batch_size],
                                      None if present is None else present[i:i + batch_size]))
                   for i in range(0, image.shape[0], batch_size)]
        finally:
            self.train(was)
        return torch.cat(out) if out else image.new_zeros(0, len(FEATURE_KINDS), *image.shape[2:])


def select_channels(image: np.ndarray | torch.Tensor, present: np.ndarray | torch.Tensor | None,
                    data_channels: Sequence[str], model_channels: Sequence[str],
                    missing: str = "absent"):
    """Reorder ``image [B, C_data, H, W]``/``present [B, C_data]`` to ``model_channels``.

    A model channel the data does not have is an all-zero plane with ``present`` 0 when
    ``missing="absent"`` (the model then runs with that modality missing) and a ``ValueError``
    when ``missing="error"``. If the data has none of the model's channels, that is always an
    error. Works on numpy arrays and torch tensors; returns the same kind.
    """
    if missing not in ("absent", "error"):
        raise ValueError(f"missing must be 'absent' or 'error', got {missing!r}")
    data_channels = list(data_channels)
    absent = [c for c in model_channels if c not in data_channels]
    if absent and (missing == "error" or len(absent) == len(model_channels)):
        raise ValueError(
            f"the model needs channel(s) {', '.join(absent)} that the data does not have "
            f"(data channels: {', '.join(data_channels)})"
        )
    is_torch = isinstance(image, torch.Tensor)
    b, _, h, w = image.shape
    if present is None:
        present = (torch.ones(b, len(data_channels), dtype=image.dtype, device=image.device)
                   if is_torch else np.ones((b, len(data_channels)), np.float32))
    if not absent:
        idx = [data_channels.index(c) for c in model_channels]
        return image[:, idx], present[:, idx]
    if is_torch:
        out_i = image.new_zeros(b, len(model_channels), h, w)
        out_p = present.new_zeros(b, len(model_channels))
    else:
        out_i = np.zeros((b, len(model_channels), h, w), image.dtype)
        out_p = np.zeros((b, len(model_channels)), present.dtype)
    for j, c in enumerate(model_channels):
        if c in data_channels:
            out_i[:, j] = image[:, data_channels.index(c)]
            out_p[:, j] = present[:, data_channels.index(c)]
    return out_i, out_p


__all__ = ["SPNet", "SPNetConfig", "select_channels"]
