"""Pix2Pix (Isola 2017) as Park 2019 uses it: HMI magnetograms → AIA passbands (Park 2019), and
AIA channels → other AIA channels (Lim 2021). Any input channels → any output channels.

* **Generator**: a U-Net of 4×4 stride-2 convolutions. Its depth follows the image size: it
  halves the image down to a ``bottleneck``-pixel map (``paper``: 1024² → 4², 8 down / 8 up,
  Park 2019), with filters ``base_filters · 2^i`` capped at ``max_filters``. Encoder blocks:
  LeakyReLU(0.2) → conv → BN (none on the first and the innermost); decoder blocks: ReLU →
  transposed conv → BN → dropout (``dropout`` in the first ``dropout_blocks`` decoder blocks,
  0.5 × 3 in the paper), skip-concatenated; tanh output (the scaled [-1, 1] range).
* **Discriminator**: PatchGAN on the (input, target-or-generated) pair, concatenated on the
  channel axis: ``disc_layers`` 4×4 stride-2 convolutions then two stride-1 ones → one logit
  per patch (70×70 receptive field with 3 layers at 256²).
* **Init**: conv weights N(0, 0.02), BN weights N(1, 0.02), biases 0 (Isola 2017).

``config.inputs``/``config.outputs`` name the channels (so a checkpoint knows what it
translates); ``outputs`` may be left empty in a config and filled from the data by the objective.
``config.discriminator`` False (Model A, L1 only) builds no discriminator.

One ``forward`` serves the generic loop's phases (so DDP sees every forward):
``model(x)`` → generated ``[B, C_out, H, W]``; ``model(x, target, mode="discriminator")`` →
``(real_logits, fake_logits)`` with the fake generated without gradient;
``model(x, mode="generator")`` → ``(fake, fake_logits)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn

from solarray.core import channels as channel_catalogue
from solarray.models.registry import register

MODES = ("generate", "discriminator", "generator")


@dataclass
class Pix2PixConfig:
    """Pix2Pix sizes. ``inputs``/``outputs``: channel names (catalogue names) in tensor order."""

    inputs: tuple[str, ...] = ("hmi_m",)
    outputs: tuple[str, ...] = ()
    image_size: int = 64  # pixels (H = W), a power of two
    bottleneck: int = 4  # pixels of the innermost map (depth = log2(image_size / bottleneck))
    base_filters: int = 64
    max_filters: int = 512
    dropout: float = 0.5
    dropout_blocks: int = 3  # first decoder blocks with dropout
    discriminator: bool = True
    disc_filters: int = 64
    disc_layers: int = 3

    PRESETS: ClassVar[dict[str, dict]] = {
        # CPU tests and benchmarks; no dropout so that a few hundred steps learn.
        "tiny": dict(image_size=64, base_filters=8, max_filters=64, dropout=0.0,
                     disc_filters=8, disc_layers=2),
        "small": dict(image_size=128, base_filters=16, max_filters=128, dropout=0.5,
                      disc_filters=16, disc_layers=3),
        # Park 2019: 1024² frames, 8 down / 8 up, 64 → 512 filters, PatchGAN.
        "paper": dict(image_size=1024, bottleneck=4, base_filters=64, max_filters=512,
                      dropout=0.5, dropout_blocks=3, disc_filters=64, disc_layers=3),
    }

    def __post_init__(self) -> None:
        self.inputs = channel_catalogue.resolve(list(self.inputs))
        self.outputs = channel_catalogue.resolve(list(self.outputs)) if self.outputs else ()
        if not self.inputs:
            raise ValueError("Pix2PixConfig.inputs must name at least one input channel")
        both = sorted(set(self.inputs) & set(self.outputs))
        if both:
            raise ValueError(f"Pix2PixConfig: channel(s) {both} are both inputs and outputs")
        for name in ("image_size", "bottleneck"):
            v = int(getattr(self, name))
            if v < 1 or v & (v - 1):
                raise ValueError(f"Pix2PixConfig.{name} must be a power of two, got {v}")
        if self.bottleneck >= self.image_size:
            raise ValueError(f"Pix2PixConfig.bottleneck ({self.bottleneck}) must be smaller than "
                             f"image_size ({self.image_size})")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"Pix2PixConfig.dropout must be in [0, 1), got {self.dropout}")
        if self.base_filters < 1 or self.max_filters < self.base_filters:
            raise ValueError("Pix2PixConfig needs 1 <= base_filters <= max_filters")

    @property
    def depth(self) -> int:
        """Down (and up) blocks of the U-Net."""
        return int(round(math.log2(self.image_size // self.bottleneck)))


def init_pix2pix(module: nn.Module) -> None:
    """Isola 2017: conv weights N(0, 0.02), BN weights N(1, 0.02), biases 0."""
    if isinstance(module, nn.Conv2d | nn.ConvTranspose2d):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


class UNetGenerator(nn.Module):
    """The U-Net: ``[B, C_in, H, W]`` → ``[B, C_out, H, W]`` in (-1, 1). ``extra`` (optional, one
    tensor or None per decoder input, innermost first) is added to the decoder's inputs: the
    ControlNet-style hook of :mod:`solarray.models.controlnet`."""

    def __init__(self, c_in: int, c_out: int, depth: int, base: int, cap: int,
                 dropout: float, dropout_blocks: int):
        super().__init__()
        f = [min(base * 2 ** i, cap) for i in range(depth)]
        self.filters = f
        downs = [nn.Conv2d(c_in, f[0], 4, 2, 1)]
        for i in range(1, depth):
            inner = i == depth - 1
            downs.append(nn.Sequential(
                nn.LeakyReLU(0.2), nn.Conv2d(f[i - 1], f[i], 4, 2, 1, bias=inner),
                *(() if inner else (nn.BatchNorm2d(f[i]),))))
        self.downs = nn.ModuleList(downs)
        ups = []
        for j, i in enumerate(range(depth - 1, 0, -1)):  # decoder block j: level i → i - 1
            c = f[i] if j == 0 else 2 * f[i]
            drop = (nn.Dropout(dropout),) if dropout > 0 and j < dropout_blocks else ()
            ups.append(nn.Sequential(nn.ReLU(), nn.ConvTranspose2d(c, f[i - 1], 4, 2, 1,
                                                                   bias=False),
                                     nn.BatchNorm2d(f[i - 1]), *drop))
        self.ups = nn.ModuleList(ups)
        self.out = nn.Sequential(nn.ReLU(),
                                 nn.ConvTranspose2d(f[0] if depth == 1 else 2 * f[0], c_out, 4,
                                                    2, 1), nn.Tanh())

    def decoder_channels(self) -> list[int]:
        """Channels of each decoder input, innermost first (where ``extra`` is added)."""
        depth = len(self.filters)
        return [self.filters[-1], *(2 * self.filters[i] for i in range(depth - 2, -1, -1))]

    def forward(self, x: torch.Tensor, extra: list[torch.Tensor | None] | None = None
                ) -> torch.Tensor:
        skips = []
        for down in self.downs:
            x = down(x)
            skips.append(x)
        h = skips[-1]
        blocks = [*self.ups, self.out]
        for j, block in enumerate(blocks):
            if extra is not None and extra[j] is not None:
                h = h + extra[j]
            h = block(h)
            if j < len(blocks) - 1:
                h = torch.cat([h, skips[-2 - j]], dim=1)
        return h


class PatchDiscriminator(nn.Module):
    """PatchGAN: ``[B, C_in + C_out, H, W]`` → logits ``[B, 1, h, w]`` (one per patch)."""

    def __init__(self, c: int, filters: int, layers: int, cap: int = 512):
        super().__init__()
        mods: list[nn.Module] = [nn.Conv2d(c, filters, 4, 2, 1), nn.LeakyReLU(0.2)]
        f = filters
        for _ in range(1, layers):
            g = min(2 * f, cap)
            mods += [nn.Conv2d(f, g, 4, 2, 1, bias=False), nn.BatchNorm2d(g), nn.LeakyReLU(0.2)]
            f = g
        g = min(2 * f, cap)
        mods += [nn.Conv2d(f, g, 4, 1, 1, bias=False), nn.BatchNorm2d(g), nn.LeakyReLU(0.2),
                 nn.Conv2d(g, 1, 4, 1, 1)]
        self.net = nn.Sequential(*mods)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def check_input(x: torch.Tensor, n: int, size: int, owner: str) -> None:
    if x.ndim != 4 or x.shape[1] != n or x.shape[-1] != size or x.shape[-2] != size:
        raise ValueError(f"{owner} expects [B, {n}, {size}, {size}], got {tuple(x.shape)}")


@register("pix2pix")
class Pix2Pix(nn.Module):
    config_class = Pix2PixConfig

    def __init__(self, config: Pix2PixConfig):
        super().__init__()
        c = config
        if not c.outputs:
            raise ValueError("Pix2PixConfig.outputs is empty: name the channels to generate "
                             "(the training objective fills it from the data)")
        self.config = c
        self.generator = UNetGenerator(len(c.inputs), len(c.outputs), c.depth, c.base_filters,
                                       c.max_filters, c.dropout, c.dropout_blocks)
        self.discriminator = PatchDiscriminator(len(c.inputs) + len(c.outputs), c.disc_filters,
                                                c.disc_layers) if c.discriminator else None
        self.apply(init_pix2pix)

    def generate(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, len(self.config.inputs), self.config.image_size, "pix2pix")
        return self.generator(x)

    def discriminate(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if self.discriminator is None:
            raise ValueError("this pix2pix has no discriminator (discriminator=False, Model A)")
        return self.discriminator(torch.cat([x, y], dim=1))

    def forward(self, x: torch.Tensor, target: torch.Tensor | None = None,
                mode: str = "generate"):
        return gan_forward(self, x, target, mode)


def gan_forward(model: nn.Module, x: torch.Tensor, target: torch.Tensor | None, mode: str):
    """The three forward modes shared by Pix2Pix and the ControlNet translator."""
    if mode == "generate":
        return model.generate(x)
    if mode == "discriminator":
        if target is None:
            raise ValueError("mode='discriminator' needs the target images")
        with torch.no_grad():
            fake = model.generate(x)
        return model.discriminate(x, target), model.discriminate(x, fake)
    if mode == "generator":
        fake = model.generate(x)
        return fake, model.discriminate(x, fake)
    raise ValueError(f"unknown forward mode {mode!r}; expected one of {', '.join(MODES)}")


__all__ = ["PatchDiscriminator", "Pix2Pix", "Pix2PixConfig", "UNetGenerator", "gan_forward",
           "init_pix2pix"]
