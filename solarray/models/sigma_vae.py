"""The sigma-VAE of Brown 2023: a convolutional encoder → μ, log σ of a ``bottleneck``-wide Gaussian
latent → a mirrored transposed-convolution decoder, over any channel list of the catalogue.

Encoder: one ``Conv2d(kernel, stride)`` + BatchNorm + ReLU per entry of ``filters``/``kernels``/
``strides`` (the ``paper`` preset is the seed's Table 2 at 128×128: 64,128,256,512,512,512,512,512
filters; kernels 4,4,4,4,4,3,3,3; strides 2,2,1,1,1,1,2,2), flattened, then two linear heads (μ and
log σ of the latent). Decoder: a linear layer back to the last feature map, then the same layers
in reverse as ``ConvTranspose2d`` — BN + ReLU after each except the last, which outputs the ``C``
channels in the shards' scaled units.

``padding``: ``"valid"`` (the ``paper`` preset) convolves without padding, as the seed's Table 1
model sizes imply — 128 → 63 → 30 → 27 → 24 → 21 → 19 → 9 → 4, a 4×4×512 map, so the three linear
layers hold 3·8192·K weights and the model is 131.2 / 155.2 / 203.2 / 299.2 MiB of float32
parameters for K = 256 / 512 / 1024 / 2048 (seed: 131.1 / 155.3 / 203.3 / 299.3 MB); the decoder's
transposed convolutions add the ``output_padding`` that restores each encoder size exactly.
``"same"`` (``tiny``/``small``) pads so every layer gives exactly ``H / stride`` (stride-1 even
kernels pad asymmetrically): an 8×8 map at the paper's layers, 203 / 299 / 491 / 875 MiB.

The decoder's own σ (the sigma-VAE's calibrated likelihood) lives here too so it is trained and
checkpointed with the weights: ``sigma_mode`` ``scalar`` (one learnable log σ), ``channel`` (one
per channel) or ``analytic`` (σ² = the batch MSE; no parameter). See :mod:`solarray.losses.vae`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn
from torch.nn import functional as F

from solarray.core import channels as chans
from solarray.losses.vae import SIGMA_MODES
from solarray.models.registry import register

#: The seed's 12 channels: the nine AIA passbands and the HMI vector field.
SEED_CHANNELS: tuple[str, ...] = ("aia94", "aia131", "aia171", "aia193", "aia211", "aia304",
                                  "aia335", "aia1600", "aia1700", "hmi_bx", "hmi_by", "hmi_bz")
BOTTLENECKS = (256, 512, 1024, 2048)
PADDINGS = ("same", "valid")


@dataclass
class SigmaVAEConfig:
    """sigma-VAE sizes. ``channels`` come from the data (any catalogue names, in image order)."""

    channels: tuple[str, ...] = SEED_CHANNELS
    image_size: int = 128  # pixels (H = W)
    filters: tuple[int, ...] = (64, 128, 256, 512, 512, 512, 512, 512)
    kernels: tuple[int, ...] = (4, 4, 4, 4, 4, 3, 3, 3)
    strides: tuple[int, ...] = (2, 2, 1, 1, 1, 1, 2, 2)
    bottleneck: int = 256  # latent dimensions (seed: 256, 512, 1024 or 2048)
    sigma_mode: str = "scalar"  # decoder σ: scalar | channel | analytic
    padding: str = "same"  # "same" (H / Π strides) | "valid" (unpadded, the seed's sizes)

    PRESETS: ClassVar[dict[str, dict]] = {
        "tiny": dict(image_size=32, filters=(8, 16, 32), kernels=(4, 4, 3), strides=(2, 2, 2),
                     bottleneck=16),
        "small": dict(image_size=128, filters=(16, 32, 64, 64, 64), kernels=(4, 4, 4, 3, 3),
                      strides=(2, 2, 2, 1, 2), bottleneck=128),
        "paper": dict(image_size=128, filters=(64, 128, 256, 512, 512, 512, 512, 512),
                      kernels=(4, 4, 4, 4, 4, 3, 3, 3), strides=(2, 2, 1, 1, 1, 1, 2, 2),
                      bottleneck=256, padding="valid"),
    }

    def __post_init__(self) -> None:
        self.channels = chans.resolve(tuple(self.channels))
        self.filters = tuple(int(v) for v in self.filters)
        self.kernels = tuple(int(v) for v in self.kernels)
        self.strides = tuple(int(v) for v in self.strides)
        if not (len(self.filters) == len(self.kernels) == len(self.strides) >= 1):
            raise ValueError(f"SigmaVAEConfig: filters, kernels and strides need one equal, "
                             f"non-zero length, got {len(self.filters)}, {len(self.kernels)}, "
                             f"{len(self.strides)}")
        if any(s not in (1, 2) or k < s for k, s in zip(self.kernels, self.strides, strict=True)):
            raise ValueError(f"SigmaVAEConfig: strides must be 1 or 2 and kernels ≥ stride, got "
                             f"{self.strides}, {self.kernels}")
        if self.padding not in PADDINGS:
            raise ValueError(f"SigmaVAEConfig.padding must be one of {', '.join(PADDINGS)}, "
                             f"got {self.padding!r}")
        total = 1
        for s in self.strides:
            total *= s
        if self.padding == "valid":
            if self.image_size <= 0 or min(self.map_sizes) < 1:
                raise ValueError(f"SigmaVAEConfig.image_size {self.image_size} is too small for "
                                 f"unpadded kernels {self.kernels} (sizes {self.map_sizes})")
        elif self.image_size <= 0 or self.image_size % total:
            raise ValueError(f"SigmaVAEConfig.image_size {self.image_size} must be a positive "
                             f"multiple of the total stride {total}")
        if self.bottleneck < 1:
            raise ValueError(f"SigmaVAEConfig.bottleneck must be ≥ 1, got {self.bottleneck}")
        if self.sigma_mode not in SIGMA_MODES:
            raise ValueError(f"SigmaVAEConfig.sigma_mode must be one of {', '.join(SIGMA_MODES)}, "
                             f"got {self.sigma_mode!r}")

    @property
    def map_sizes(self) -> tuple[int, ...]:
        """Side of the input and of each encoder layer's output, pixels."""
        sizes = [self.image_size]
        for k, s in zip(self.kernels, self.strides, strict=True):
            h = sizes[-1]
            sizes.append(h // s if self.padding == "same" else (h - k) // s + 1)
        return tuple(sizes)

    @property
    def feature_size(self) -> int:
        """Side of the encoder's last feature map, pixels."""
        return self.map_sizes[-1]


def _same_pad(kernel: int, stride: int) -> tuple[int, int, int, int]:
    """(left, right, top, bottom) zero padding so a conv gives exactly ``H / stride``."""
    total = max(kernel - stride, 0)
    lo = total // 2
    return (lo, total - lo, lo, total - lo)


class _Down(nn.Module):
    def __init__(self, cin: int, cout: int, kernel: int, stride: int, same: bool = True):
        super().__init__()
        self.pad = _same_pad(kernel, stride) if same else (0, 0, 0, 0)
        self.conv = nn.Conv2d(cin, cout, kernel, stride=stride)
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.bn(self.conv(F.pad(x, self.pad))))


class _Up(nn.Module):
    """Mirror of :class:`_Down`: transposed conv back to ``size`` pixels — cropped (the inverse of
    the asymmetric "same" padding) or, unpadded, with the ``output_padding`` the encoder's floor
    dropped; BN + ReLU unless ``last``."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int, last: bool,
                 size: int, size_in: int, same: bool = True):
        super().__init__()
        self.size = size
        self.lo = _same_pad(kernel, stride)[0] if same else 0
        extra = 0 if same else size - ((size_in - 1) * stride + kernel)
        self.conv = nn.ConvTranspose2d(cin, cout, kernel, stride=stride, output_padding=extra)
        self.bn = None if last else nn.BatchNorm2d(cout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv(x)[:, :, self.lo:self.lo + self.size, self.lo:self.lo + self.size]
        return y if self.bn is None else F.relu(self.bn(y))


@register("sigma_vae")
class SigmaVAE(nn.Module):
    """sigma-VAE: ``encode`` → (μ, log σ) ``[B, K]``; ``decode(z)`` → ``[B, C, H, W]``."""

    config_class = SigmaVAEConfig
    #: Without ``channels``, ``solarray pretrain`` trains on this set when the shards hold all of
    #: it (Brown 2023's 12 channels), else on every channel of the shards.
    preferred_channels: ClassVar[tuple[str, ...]] = SEED_CHANNELS

    def __init__(self, config: SigmaVAEConfig):
        super().__init__()
        self.config = c = config
        n_ch = len(c.channels)
        same = c.padding == "same"
        downs, cin = [], n_ch
        for f, k, s in zip(c.filters, c.kernels, c.strides, strict=True):
            downs.append(_Down(cin, f, k, s, same))
            cin = f
        self.encoder = nn.Sequential(*downs)
        flat = c.filters[-1] * c.feature_size**2
        self.fc_mu = nn.Linear(flat, c.bottleneck)
        self.fc_logsigma = nn.Linear(flat, c.bottleneck)
        self.fc_decode = nn.Linear(c.bottleneck, flat)
        ups = []
        outs = list(reversed((n_ch, *c.filters[:-1])))
        sizes = c.map_sizes
        layers = list(reversed(list(zip(c.filters, c.kernels, c.strides, sizes[:-1], sizes[1:],
                                        strict=True))))
        for i, ((f, k, s, size, size_in), cout) in enumerate(zip(layers, outs, strict=True)):
            ups.append(_Up(f, cout, k, s, i == len(layers) - 1, size, size_in, same))
        self.decoder = nn.Sequential(*ups)
        if c.sigma_mode == "scalar":
            self.log_sigma = nn.Parameter(torch.zeros(()))
        elif c.sigma_mode == "channel":
            self.log_sigma = nn.Parameter(torch.zeros(n_ch))
        else:
            self.log_sigma = None

    @property
    def channels(self) -> tuple[str, ...]:
        return self.config.channels

    def _check(self, x: torch.Tensor) -> None:
        c = self.config
        want = (len(c.channels), c.image_size, c.image_size)
        if x.dim() != 4 or tuple(x.shape[1:]) != want:
            raise ValueError(f"sigma_vae expects [B, {want[0]}, {want[1]}, {want[2]}] "
                             f"({', '.join(c.channels)}), got {tuple(x.shape)}")

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``x [B, C, H, W]`` (scaled units) → ``(μ, log σ)`` each ``[B, bottleneck]``."""
        self._check(x)
        h = self.encoder(x).flatten(1)
        return self.fc_mu(h), self.fc_logsigma(h)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Latents ``[B, bottleneck]`` → reconstruction ``[B, C, H, W]`` (scaled units)."""
        c = self.config
        if z.dim() != 2 or z.shape[1] != c.bottleneck:
            raise ValueError(f"sigma_vae decodes [B, {c.bottleneck}] latents, got {tuple(z.shape)}")
        h = self.fc_decode(z).view(z.shape[0], c.filters[-1], c.feature_size, c.feature_size)
        return self.decoder(h)

    def forward(self, x: torch.Tensor, sample: bool | None = None) -> dict[str, torch.Tensor]:
        """``{"recon", "mu", "logsigma", "z"}``; ``z`` is a reparameterised draw when ``sample``
        (default: in training mode), else μ."""
        mu, logsigma = self.encode(x)
        if sample is None:
            sample = self.training
        z = mu + torch.randn_like(mu) * torch.exp(logsigma) if sample else mu
        return {"recon": self.decode(z), "mu": mu, "logsigma": logsigma, "z": z}

    def embed(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Per-sample features for export: ``{"mu": [B, K]}`` (the seed's F30 features)."""
        return {"mu": self.encode(x)[0]}


def parameter_mib(model: nn.Module) -> float:
    """Model size as the seed's Table 1 counts it (our reading): bytes of every trainable
    parameter (float32: 4 bytes each; BatchNorm running statistics excluded) / 2**20."""
    return sum(p.numel() * p.element_size() for p in model.parameters()) / 2**20


__all__ = ["BOTTLENECKS", "PADDINGS", "SEED_CHANNELS", "SigmaVAE", "SigmaVAEConfig",
           "parameter_mib"]
