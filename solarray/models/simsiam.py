"""SimSiam (Chen & He 2021) for magnetogram patches: an encoder (a plain CNN, or a small ResNet
as in the SimSiam paper), a projector and a predictor (Chatterjee 2025 trains it on SHARP patches
to build its look-up table of latents).

Two options serve retrieval of the same region at another time: ``embed_grid`` > 1 pools the
encoder's last map to a ``g × g`` grid instead of one vector (where in the patch each polarity
sits tells one region from another; a global average throws that away), and ``field_softening``
(Gauss) feeds ``asinh(B / s)`` instead of ``B / b_max``, so plage and weak bipoles are not
flattened to ~0 next to sunspot umbrae (the scaling of :mod:`solarray.core.channels` divides by
1500 G).

``model(x1, x2)`` → ``(p1, p2, z1, z2)`` for the loss of :mod:`solarray.losses.simsiam`;
``model(x, mode="embed")`` (or :meth:`SimSiam.embed`) → the encoder's pooled features ``[B, D]``,
the latents of the look-up table. Channel names come from the data (``channels``), so a query
with other channels or another size can be refused by name.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn

from solarray.core import channels as chans
from solarray.models.layers import _check_divisible, num_groups
from solarray.models.registry import register


@dataclass
class SimSiamConfig:
    """SimSiam sizes. ``channels`` (names, e.g. ``("hmi_m",)``) come from the data."""

    channels: tuple[str, ...] = ("hmi_m",)
    image_size: int = 32  # pixels (H = W)
    widths: tuple[int, ...] = (16, 32, 64)  # one stride-2 stage per entry
    proj_dim: int = 64  # projector output (z) and predictor output (p)
    pred_hidden: int = 16  # predictor bottleneck (paper: proj_dim / 4)
    backbone: str = "cnn"  # "cnn" (two convs per stage) or "resnet" (stem + residual blocks)
    embed_grid: int = 1  # latent = encoder map average-pooled to g × g, flattened (1: paper)
    field_softening: float | None = None  # G: input asinh(B / s) / asinh(b_max / s); None: B/b_max

    PRESETS: ClassVar[dict[str, dict]] = {
        "tiny": dict(image_size=32, widths=(16, 32, 64), proj_dim=64, pred_hidden=16),
        "small": dict(image_size=64, widths=(32, 64, 128, 128), proj_dim=256, pred_hidden=64),
        # A small ResNet (stem + one residual block per width, as the paper's ResNet in
        # miniature), 48-px patches, a 4 × 4 latent grid and softened field (BENCHMARKS.md SEARCH).
        "resnet_tiny": dict(image_size=48, widths=(16, 32, 64), proj_dim=256, pred_hidden=64,
                            backbone="resnet", embed_grid=4, field_softening=50.0),
        # The paper's sizes (ResNet-50 → 2048-d projector, 512-d predictor bottleneck).
        "paper": dict(image_size=128, widths=(64, 128, 256, 512, 512), proj_dim=2048,
                      pred_hidden=512),
    }

    def __post_init__(self) -> None:
        self.channels = tuple(str(c) for c in self.channels)
        self.widths = tuple(int(w) for w in self.widths)
        if not self.channels:
            raise ValueError("SimSiamConfig.channels must name at least one channel")
        if not self.widths:
            raise ValueError("SimSiamConfig.widths must list at least one stage width")
        _check_divisible(self.image_size, 2 ** len(self.widths), "total stride 2^stages")
        if self.backbone not in BACKBONES:
            raise ValueError(f"SimSiamConfig.backbone: unknown {self.backbone!r}; known: "
                             f"{', '.join(BACKBONES)}")
        if int(self.embed_grid) < 1:
            raise ValueError(f"SimSiamConfig.embed_grid must be ≥ 1, got {self.embed_grid}")
        if self.field_softening is not None and float(self.field_softening) <= 0:
            raise ValueError("SimSiamConfig.field_softening must be > 0 G (or None)")

    @property
    def feature_dim(self) -> int:
        return self.widths[-1] * int(self.embed_grid) ** 2


def _stage(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, stride=2, padding=1),
        nn.GroupNorm(num_groups(cout), cout), nn.ReLU(inplace=True),
        nn.Conv2d(cout, cout, 3, padding=1),
        nn.GroupNorm(num_groups(cout), cout), nn.ReLU(inplace=True),
    )


class _Residual(nn.Module):
    """A ResNet basic block (two 3×3 convs, GroupNorm: batches of patches are small)."""

    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False),
            nn.GroupNorm(num_groups(cout), cout), nn.ReLU(inplace=True),
            nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.GroupNorm(num_groups(cout), cout))
        self.skip = nn.Identity() if cin == cout and stride == 1 else nn.Sequential(
            nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.GroupNorm(num_groups(cout), cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.body(x) + self.skip(x))


def _cnn(cin: int, widths: tuple[int, ...]) -> list[nn.Module]:
    stages = []
    for w in widths:
        stages.append(_stage(cin, w))
        cin = w
    return stages


def _resnet(cin: int, widths: tuple[int, ...]) -> list[nn.Module]:
    """Stride-2 stem to ``widths[0]``, then one block per width (stride 2 after the first)."""
    w0 = widths[0]
    layers: list[nn.Module] = [nn.Sequential(
        nn.Conv2d(cin, w0, 3, stride=2, padding=1, bias=False),
        nn.GroupNorm(num_groups(w0), w0), nn.ReLU(inplace=True))]
    for i, w in enumerate(widths):
        layers.append(_Residual(w0 if i == 0 else widths[i - 1], w, 1 if i == 0 else 2))
    return layers


BACKBONES = {"cnn": _cnn, "resnet": _resnet}


class _SoftenedField(nn.Module):
    """Scaled field ``B / b_max`` → ``asinh(B / s) / asinh(b_max / s)`` (same sign, same ±1)."""

    def __init__(self, channels: tuple[str, ...], softening: float):
        super().__init__()
        b_max = [float(chans.get(c).b_max) for c in channels]
        if any(not math.isfinite(b) or b <= 0 for b in b_max):
            raise ValueError(f"field_softening needs field channels (HMI, Gauss), got {channels}")
        b = torch.tensor(b_max)[None, :, None, None]
        self.register_buffer("gain", b / softening, persistent=False)
        self.register_buffer("norm", torch.asinh(b / softening), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.asinh(x * self.gain) / self.norm


@register("simsiam")
class SimSiam(nn.Module):
    """Encoder (CNN or ResNet + average pool to a g × g grid) → projector (3-layer MLP, BN) →
    predictor (MLP)."""

    config_class = SimSiamConfig

    def __init__(self, config: SimSiamConfig):
        super().__init__()
        self.config = c = config
        soft = [] if c.field_softening is None else [_SoftenedField(c.channels, c.field_softening)]
        self.encoder = nn.Sequential(*soft, *BACKBONES[c.backbone](len(c.channels), c.widths),
                                     nn.AdaptiveAvgPool2d(int(c.embed_grid)), nn.Flatten())
        d, p = c.feature_dim, c.proj_dim
        self.projector = nn.Sequential(
            nn.Linear(d, p, bias=False), nn.BatchNorm1d(p), nn.ReLU(inplace=True),
            nn.Linear(p, p, bias=False), nn.BatchNorm1d(p), nn.ReLU(inplace=True),
            nn.Linear(p, p, bias=False), nn.BatchNorm1d(p, affine=False))
        self.predictor = nn.Sequential(
            nn.Linear(p, c.pred_hidden, bias=False), nn.BatchNorm1d(c.pred_hidden),
            nn.ReLU(inplace=True), nn.Linear(c.pred_hidden, p))

    def check_input(self, x: torch.Tensor) -> None:
        c = self.config
        want = (len(c.channels), c.image_size, c.image_size)
        if x.ndim != 4 or tuple(x.shape[1:]) != want:
            raise ValueError(f"simsiam expects [B, {want[0]}, {want[1]}, {want[2]}] "
                             f"({', '.join(c.channels)}), got {list(x.shape)}")

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """Encoder features ``[B, D]`` of ``x`` ``[B, C, S, S]`` (scaled units)."""
        self.check_input(x)
        return self.encoder(x)

    def forward(self, x: torch.Tensor, x2: torch.Tensor | None = None, mode: str = "train"):
        if mode == "embed":
            return self.embed(x)
        if mode != "train" or x2 is None:
            raise ValueError("SimSiam.forward: mode='train' needs two views (x, x2); "
                             "mode='embed' one batch")
        self.check_input(x)
        self.check_input(x2)
        z1, z2 = self.projector(self.encoder(x)), self.projector(self.encoder(x2))
        return self.predictor(z1), self.predictor(z2), z1, z2


__all__ = ["SimSiam", "SimSiamConfig"]
