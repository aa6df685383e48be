"""The SimSiam objective (``simsiam``): two augmented views of each patch, negative cosine with
stop-gradient (:mod:`solarray.losses.simsiam`).

The augmentations respect the physics of a magnetogram: flips and 90° rotations (``flips=True``;
a mirrored or turned region is still a region, and the sign of Bz is kept), small rotations, shifts and scale
changes, Gaussian noise and a small positive intensity jitter. Nothing flips the polarity or
mixes channels (no colour tricks). Outside the rotated frame the field is 0 G.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from solarray.losses.simsiam import collapse_std, simsiam_loss
from solarray.train.objectives.base import build_model_for, register_objective


def augment(x: torch.Tensor, *, flips: bool = True, max_rotation_deg: float = 15.0,
            max_shift: float = 0.08, scale: tuple[float, float] = (0.9, 1.1), jitter: float = 0.1,
            noise: float = 0.02, squeeze: float = 0.0,
            generator: torch.Generator | None = None) -> torch.Tensor:
    """One random view of each patch of ``x`` ``[B, C, S, S]`` (scaled units, 0 = 0 G).

    Per sample: a 90° rotation k·90°, a horizontal flip (p = ½), a rotation in
    ±``max_rotation_deg``, a shift in ±``max_shift`` of the side and a zoom in ``scale`` (one
    bilinear resampling), then a gain in 1 ± ``jitter`` (positive: Bz keeps its sign) and noise
    of std ``noise``. ``squeeze`` > 0 also stretches x by 1 ± ``squeeze`` (the east-west
    foreshortening change of a region rotating across the disk).
    """
    b, dev = x.shape[0], x.device

    def u(lo: float, hi: float) -> torch.Tensor:
        return lo + (hi - lo) * torch.rand(b, generator=generator, device="cpu").to(dev)

    k = torch.randint(0, 4 if flips else 1, (b,), generator=generator, device="cpu").to(dev)
    theta = k.float() * (math.pi / 2) + u(-1, 1) * math.radians(max_rotation_deg)
    flip = torch.where(u(0, 1) < (0.5 if flips else 0.0), -1.0, 1.0)
    zoom = u(*scale)
    cos, sin = torch.cos(theta) / zoom, torch.sin(theta) / zoom
    if squeeze > 0:  # drawn only when asked, so the default views are unchanged
        flip = flip / u(1 - squeeze, 1 + squeeze)
    mat = torch.stack([torch.stack([cos * flip, -sin, u(-1, 1) * 2 * max_shift], 1),
                       torch.stack([sin * flip, cos, u(-1, 1) * 2 * max_shift], 1)], 1)
    grid = F.affine_grid(mat.to(x.dtype), list(x.shape), align_corners=False)
    out = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    gain = u(1 - jitter, 1 + jitter).to(x.dtype)[:, None, None, None]
    eps = torch.randn(x.shape, generator=generator, device="cpu").to(dev, x.dtype)
    return out * gain + noise * eps


@register_objective("simsiam")
@dataclass
class SimSiamObjective:
    """SimSiam on patch Parquet files (``image`` ``[C, S, S]``, e.g. ``solarray search patches``)."""

    models: ClassVar[tuple[str, ...]] = ("simsiam",)
    required: ClassVar[dict[str, torch.dtype]] = {"image": torch.float32}
    optional: ClassVar[dict[str, torch.dtype]] = {}

    # Off by default: invariance to mirroring/turning erases a region's orientation (tilt,
    # leading polarity), which is what tells one region from another; measured to lower
    # same-region retrieval on the synthetic Sun (BENCHMARKS.md).
    flips: bool = False
    # Mild by default: a region's size, flux and tilt tell it from its neighbours, so strong
    # rotation/zoom/gain invariance erases what retrieval needs (measured: BENCHMARKS.md).
    max_rotation_deg: float = 5.0
    max_shift: float = 0.03
    zoom: float = 0.03
    jitter: float = 0.05
    noise: float = 0.02
    squeeze: float = 0.0  # east-west stretch 1 ± squeeze (foreshortening)

    def build_model(self, model_name: str, model_config: Mapping[str, Any],
                    channels: tuple[str, ...]) -> nn.Module:
        return build_model_for(self, model_name, model_config, channels=tuple(channels))

    def views(self, x: torch.Tensor) -> torch.Tensor:
        return augment(x, flips=self.flips, max_rotation_deg=self.max_rotation_deg,
                       max_shift=self.max_shift, scale=(1 - self.zoom, 1 + self.zoom),
                       jitter=self.jitter, noise=self.noise, squeeze=self.squeeze)

    def step(self, model: nn.Module, batch: dict[str, torch.Tensor]
             ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        x = torch.nan_to_num(batch["image"])
        p1, p2, z1, z2 = model(self.views(x), self.views(x))
        loss = simsiam_loss(p1, p2, z1, z2)
        return loss, {"loss_simsiam": loss.detach(), "z_std": collapse_std(z1)}


__all__ = ["SimSiamObjective", "augment"]
