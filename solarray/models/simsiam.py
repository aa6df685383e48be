"""SimSiam (Chen & He 2021) for magnetogram patches: a small CNN encoder, a projector and a
predictor (Chatterjee 2025 trains it on SHARP patches to build its look-up table of latents).

``model(x1, x2)`` → ``(p1, p2, z1, z2)`` for the loss of :mod:`solarray.losses.simsiam`;
``model(x, mode="embed")`` (or :meth:`SimSiam.embed`) → the encoder's pooled features ``[B, D]``,
the latents of the look-up table. Channel names come from the data (``channels``), so a query
with other channels or another size can be refused by name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn

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

    PRESETS: ClassVar[dict[str, dict]] = {
        "tiny": dict(image_size=32, widths=(16, 32, 64), proj_dim=64, pred_hidden=16),
        "small": dict(image_size=64, widths=(32, 64, 128, 128), proj_dim=256, pred_hidden=64),
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

    @property
    def feature_dim(self) -> int:
        return self.widths[-1]


def _stage(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, stride=2, padding=1),
        nn.GroupNorm(num_groups(cout), cout), nn.ReLU(inplace=True),
        nn.Conv2d(cout, cout, 3, padding=1),
        nn.GroupNorm(num_groups(cout), cout), nn.ReLU(inplace=True),
    )


@register("simsiam")
class SimSiam(nn.Module):
    """Encoder (CNN + global average pool) → projector (3-layer MLP, BN) → predictor (MLP)."""

    config_class = SimSiamConfig

    def __init__(self, config: SimSiamConfig):
        super().__init__()
        self.config = c = config
        stages, cin = [], len(c.channels)
        for w in c.widths:
            stages.append(_stage(cin, w))
            cin = w
        self.encoder = nn.Sequential(*stages, nn.AdaptiveAvgPool2d(1), nn.Flatten())
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
