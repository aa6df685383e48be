"""A DCGAN (Radford 2016) of AR magnetogram patches (Chatterjee 2025's generator of queries).

``model(z=z, mode="generate")`` → patches ``[B, C, S, S]`` in scaled units (tanh, [-1, 1]);
``model(x, mode="discriminate")`` → one logit per patch ``[B]``; ``model.sample(n)`` draws
``z ~ N(0, I)``. Both halves live in one module so the generic loop's phases (discriminator,
generator) each run their forward through the (DDP-wrapped) ``model(...)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn

from solarray.models.registry import register


@dataclass
class ARGANConfig:
    """DCGAN sizes; ``channels`` from the data. The generator starts at 4×4 and doubles per width."""

    channels: tuple[str, ...] = ("hmi_m",)
    image_size: int = 32
    latent_dim: int = 32
    widths: tuple[int, ...] = (128, 64, 32)  # generator widths at 4, 8, 16 px (D mirrors them)

    PRESETS: ClassVar[dict[str, dict]] = {
        "tiny": dict(image_size=32, latent_dim=32, widths=(64, 32, 16)),
        "small": dict(image_size=64, latent_dim=64, widths=(256, 128, 64, 32)),
        "paper": dict(image_size=128, latent_dim=100, widths=(1024, 512, 256, 128, 64)),
    }

    def __post_init__(self) -> None:
        self.channels = tuple(str(c) for c in self.channels)
        self.widths = tuple(int(w) for w in self.widths)
        if not self.channels or not self.widths:
            raise ValueError("ARGANConfig: channels and widths must be non-empty")
        if self.image_size != 4 * 2 ** len(self.widths):
            raise ValueError(f"ARGANConfig: image_size must be 4·2^len(widths) = "
                             f"{4 * 2 ** len(self.widths)}, got {self.image_size}")


@register("ar_gan")
class ARGAN(nn.Module):
    """DCGAN generator (transposed convolutions, BN, ReLU, tanh) and discriminator (strided
    convolutions, LeakyReLU, no BN on the first layer)."""

    config_class = ARGANConfig

    def __init__(self, config: ARGANConfig):
        super().__init__()
        self.config = c = config
        n_ch, w = len(c.channels), c.widths
        g: list[nn.Module] = [nn.Unflatten(1, (c.latent_dim, 1, 1)),
                              nn.ConvTranspose2d(c.latent_dim, w[0], 4, 1, 0, bias=False),
                              nn.BatchNorm2d(w[0]), nn.ReLU(True)]
        for a, b in zip(w[:-1], w[1:], strict=True):
            g += [nn.ConvTranspose2d(a, b, 4, 2, 1, bias=False), nn.BatchNorm2d(b), nn.ReLU(True)]
        g += [nn.ConvTranspose2d(w[-1], n_ch, 4, 2, 1), nn.Tanh()]
        self.generator = nn.Sequential(*g)
        rw = w[::-1]
        d: list[nn.Module] = [nn.Conv2d(n_ch, rw[0], 4, 2, 1), nn.LeakyReLU(0.2, True)]
        for a, b in zip(rw[:-1], rw[1:], strict=True):
            d += [nn.Conv2d(a, b, 4, 2, 1, bias=False), nn.BatchNorm2d(b), nn.LeakyReLU(0.2, True)]
        d += [nn.Conv2d(rw[-1], 1, 4, 1, 0), nn.Flatten(0)]
        self.discriminator = nn.Sequential(*d)
        for m in self.modules():  # DCGAN initialisation
            if isinstance(m, nn.Conv2d | nn.ConvTranspose2d):
                nn.init.normal_(m.weight, 0.0, 0.02)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.normal_(m.weight, 1.0, 0.02)
                nn.init.zeros_(m.bias)

    def sample_z(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        dev = next(self.parameters()).device
        return torch.randn(n, self.config.latent_dim, generator=generator).to(dev)

    def forward(self, x: torch.Tensor | None = None, z: torch.Tensor | None = None,
                mode: str = "generate") -> torch.Tensor:
        if mode == "generate":
            if z is None or z.ndim != 2 or z.shape[1] != self.config.latent_dim:
                raise ValueError(f"ar_gan generate: z must be [B, {self.config.latent_dim}]")
            return self.generator(z)
        if mode == "discriminate":
            s, n = self.config.image_size, len(self.config.channels)
            if x is None or x.ndim != 4 or tuple(x.shape[1:]) != (n, s, s):
                raise ValueError(f"ar_gan discriminate: x must be [B, {n}, {s}, {s}]")
            return self.discriminator(x)
        raise ValueError(f"ar_gan: mode must be 'generate' or 'discriminate', got {mode!r}")


__all__ = ["ARGAN", "ARGANConfig"]
