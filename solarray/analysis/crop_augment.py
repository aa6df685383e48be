"""Training augmentation of AR magnetogram crops (torch only, so that the classifier objective —
imported by every Ray Train worker with the objective registry — does not pull in sunpy)."""

from __future__ import annotations

import torch
from torch.nn import functional as Fn


def augment(x: torch.Tensor, generator: torch.Generator, *, max_shift: float = 0.08,
            scale: tuple[float, float] = (0.9, 1.1),
            brightness: tuple[float, float] = (0.8, 1.2)) -> torch.Tensor:
    """Random 90° rotation, scaling, translation and brightness per sample of [B, C, S, S].

    Random numbers come from the CPU ``generator`` (reproducible on any device)."""
    b = x.shape[0]
    k = torch.randint(0, 4, (b,), generator=generator)
    x = torch.stack([torch.rot90(x[i], int(k[i]), dims=(-2, -1)) for i in range(b)])
    s = torch.empty(b).uniform_(*scale, generator=generator)
    t = torch.empty(b, 2).uniform_(-max_shift, max_shift, generator=generator) * 2
    theta = torch.zeros(b, 2, 3)
    theta[:, 0, 0] = 1 / s
    theta[:, 1, 1] = 1 / s
    theta[:, :, 2] = t
    grid = Fn.affine_grid(theta.to(x.device, x.dtype), list(x.shape), align_corners=False)
    x = Fn.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)
    gain = torch.empty(b, 1, 1, 1).uniform_(*brightness, generator=generator)
    return x * gain.to(x.device, x.dtype)


__all__ = ["augment"]
