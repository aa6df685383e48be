"""Patch masking for masked autoencoders: random, PPAM (physics prior) and a latitude-band prior.

All strategies return a :class:`MaskResult` in the convention of facebookresearch/mae:

* ``keep_idx`` [B, K] (long): indices of the visible patches, in the order they are fed to the
  encoder (``x_visible = torch.gather(x, 1, keep_idx[..., None].expand(-1, -1, D))``);
* ``mask`` [B, N] (bool): ``True`` where a patch is masked (hidden, to be reconstructed) —
  MAE's ``mask == 1`` — in the original patch order;
* ``restore_idx`` [B, N] (long): ``argsort`` of the shuffle; gathering
  ``cat([visible, mask_tokens])`` with it restores the original patch order.

Patches are numbered row-major over the patch grid (``row * grid_w + col``), as MAE's
``patchify`` orders them. The number of visible patches is the same for every sample and every
strategy: ``K = floor(N·(1 − ratio) + 0.5)`` (:func:`num_visible`), so the ratio is honoured
exactly.

PPAM (SA-AI 2025, "Physical Prior-guided Adaptive Masking"): a prior map marks active pixels —
``|B| > threshold`` (Gauss) in the line-of-sight magnetogram dilated by a disk of ``dilation``
pixels, or a given active-region mask — and each patch gets the fraction ``f`` of its pixels that
are active. Patch weights ``w = 1 + (asymmetry − 1)·f`` make a fully active patch ``asymmetry``
times as likely as a quiet one to be drawn at each step of sampling K visible patches without
replacement (successive sampling with probabilities ∝ w, done in one shot with the Gumbel-top-k
trick). Without active pixels (or with every patch fully active) all weights are equal and PPAM
is exactly random masking. The latitude-band prior is the same sampler with ``f`` = fraction of a
patch's pixels on the disk between ``band`` latitudes (both hemispheres), a physics-light baseline.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F

from solarray.core import channels as channel_catalogue
from solarray.core.frame import FRAME_RSUN

STRATEGIES = ("random", "ppam", "latitude")


class MaskResult(NamedTuple):
    """``keep_idx`` [B, K] long, ``mask`` [B, N] bool (True = masked), ``restore_idx`` [B, N]."""

    keep_idx: torch.Tensor
    mask: torch.Tensor
    restore_idx: torch.Tensor


# --------------------------------------------------------------------------------------------
# Grid and counts
# --------------------------------------------------------------------------------------------
def _pair(value: int | Sequence[int], name: str) -> tuple[int, int]:
    pair = (value, value) if isinstance(value, (int, np.integer)) else tuple(value)
    if len(pair) != 2 or not all(isinstance(v, (int, np.integer)) and v > 0 for v in pair):
        raise ValueError(f"{name} must be a positive int or a pair of them, got {value!r}")
    return int(pair[0]), int(pair[1])


def patch_grid(image_size: int | Sequence[int], patch_size: int | Sequence[int]) -> tuple[int, int]:
    """Patch grid (rows, cols) of an image ``image_size`` (H, W or one int) cut into
    ``patch_size`` patches. Raises ``ValueError`` unless the patches tile the image exactly."""
    h, w = _pair(image_size, "image_size")
    ph, pw = _pair(patch_size, "patch_size")
    if h % ph or w % pw:
        raise ValueError(f"image size {h}×{w} is not divisible by patch size {ph}×{pw}")
    return h // ph, w // pw


def num_visible(num_patches: int, ratio: float) -> int:
    """Visible patches K = floor(N·(1 − ratio) + 0.5) (round half up); at least 1 is required."""
    if not (isinstance(num_patches, (int, np.integer)) and num_patches > 0):
        raise ValueError(f"num_patches must be a positive integer, got {num_patches!r}")
    ratio = float(ratio)
    if not (0.0 <= ratio < 1.0):
        raise ValueError(f"mask ratio must lie in [0, 1), got {ratio!r}")
    # The small epsilon keeps e.g. 10·(1 − 0.75) = 2.4999999 from rounding the wrong way.
    k = int(math.floor(num_patches * (1.0 - ratio) + 0.5 + 1e-9))
    if k < 1:
        raise ValueError(
            f"mask ratio {ratio} leaves no visible patch out of {num_patches} "
            f"(need ratio <= {1 - 0.5 / num_patches:.4f})"
        )
    return min(k, int(num_patches))


def _from_keys(keys: torch.Tensor, ratio: float) -> MaskResult:
    """Keep the K patches with the largest keys (per row); keys [B, N]."""
    b, n = keys.shape
    k = num_visible(n, ratio)
    shuffle = torch.argsort(keys, dim=1, descending=True, stable=True)
    restore = torch.argsort(shuffle, dim=1)
    keep = shuffle[:, :k]
    mask = torch.ones(b, n, dtype=torch.bool, device=keys.device)
    mask[:, :k] = False
    mask = torch.gather(mask, 1, restore)
    return MaskResult(keep, mask, restore)


# --------------------------------------------------------------------------------------------
# Samplers
# --------------------------------------------------------------------------------------------
def random_masking(
    batch: int,
    num_patches: int,
    ratio: float = 0.75,
    generator: torch.Generator | None = None,
    device: torch.device | str | None = None,
) -> MaskResult:
    """Uniformly random masking (MAE): each sample keeps a random K of its N patches."""
    if not (isinstance(batch, (int, np.integer)) and batch > 0):
        raise ValueError(f"batch must be a positive integer, got {batch!r}")
    num_visible(num_patches, ratio)  # validate before drawing
    if device is None and generator is not None:
        device = generator.device
    noise = torch.rand(int(batch), int(num_patches), generator=generator, device=device)
    return _from_keys(noise, ratio)


def weighted_masking(
    weights: torch.Tensor, ratio: float = 0.75, generator: torch.Generator | None = None
) -> MaskResult:
    """Sample K = :func:`num_visible` visible patches per row without replacement, with
    probabilities ∝ ``weights`` [B, N] (> 0, finite) at each draw (Gumbel-top-k)."""
    if weights.ndim != 2:
        raise ValueError(f"weights must be [B, N], got shape {tuple(weights.shape)}")
    w = weights.to(torch.float64)
    if not torch.isfinite(w).all() or (w <= 0).any():
        raise ValueError("patch weights must be finite and > 0")
    u = torch.rand(w.shape, generator=generator, device=w.device, dtype=torch.float64)
    tiny = torch.finfo(torch.float64).tiny
    gumbel = -torch.log(-torch.log(u.clamp(min=tiny, max=1.0 - 1e-16)))
    return _from_keys(torch.log(w) + gumbel, ratio)


def prior_weights(fraction: torch.Tensor, asymmetry: float) -> torch.Tensor:
    """Patch weights ``1 + (asymmetry − 1)·fraction`` from active fractions in [0, 1].

    ``asymmetry`` > 0: a fully active patch is ``asymmetry``× as likely to be kept as a quiet
    one (1 = random masking; < 1 favours quiet patches, for ablations).
    """
    a = float(asymmetry)
    if not (a > 0 and math.isfinite(a)):
        raise ValueError(f"asymmetry must be a finite number > 0, got {asymmetry!r}")
    return 1.0 + (a - 1.0) * fraction.clamp(0.0, 1.0).to(torch.float64)


# --------------------------------------------------------------------------------------------
# PPAM: the prior from a magnetogram or an AR mask
# --------------------------------------------------------------------------------------------
def _as_bhw(x: torch.Tensor | np.ndarray, name: str) -> torch.Tensor:
    t = torch.as_tensor(x)
    if t.ndim == 4:
        if t.shape[1] != 1:
            raise ValueError(
                f"{name} must be [H, W], [B, H, W] or [B, 1, H, W], got {tuple(t.shape)}"
            )
        t = t[:, 0]
    elif t.ndim == 2:
        t = t[None]
    elif t.ndim != 3:
        raise ValueError(f"{name} must be [H, W], [B, H, W] or [B, 1, H, W], got {tuple(t.shape)}")
    return t


def dilate(mask: torch.Tensor, pixels: int) -> torch.Tensor:
    """Binary dilation of ``mask`` [B, H, W] (bool) by a disk of radius ``pixels``."""
    if not (isinstance(pixels, (int, np.integer)) and pixels >= 0):
        raise ValueError(f"dilation must be a non-negative integer (pixels), got {pixels!r}")
    if pixels == 0:
        return mask.bool()
    r = int(pixels)
    b, h, w = mask.shape
    # The disk is a stack of horizontal runs: grow horizontal dilations run by run (2 ORs per
    # pixel of half-width), then OR each row's run shifted by dy — O(r) boolean passes instead
    # of a (2r+1)² convolution.
    padded = torch.zeros(b, h + 2 * r, w + 2 * r, dtype=torch.bool, device=mask.device)
    padded[:, r : r + h, r : r + w] = mask.bool()
    runs = [padded[:, :, r : r + w]]
    for k in range(1, r + 1):
        runs.append(runs[-1] | padded[:, :, r - k : r - k + w] | padded[:, :, r + k : r + k + w])
    out = torch.zeros(b, h, w, dtype=torch.bool, device=mask.device)
    for dy in range(-r, r + 1):
        out |= runs[math.isqrt(r * r - dy * dy)][:, r + dy : r + dy + h]
    return out


def activity_map(
    magnetogram: torch.Tensor | np.ndarray | None = None,
    *,
    threshold_gauss: float = 150.0,
    dilation: int = 2,
    ar_mask: torch.Tensor | np.ndarray | None = None,
) -> torch.Tensor:
    """Active pixels [B, H, W] (bool): ``ar_mask`` (non-zero = active) if given, else
    ``|magnetogram| > threshold_gauss``; then dilated by a disk of ``dilation`` pixels.

    ``magnetogram``: line-of-sight field in Gauss, [H, W], [B, H, W] or [B, 1, H, W]; NaN (off
    disk) counts as quiet. ``ar_mask``: same shapes, 0/1 or bool.
    """
    if ar_mask is not None:
        active = _as_bhw(ar_mask, "ar_mask") != 0
    elif magnetogram is not None:
        b = _as_bhw(magnetogram, "magnetogram")
        if not b.is_floating_point():
            b = b.float()
        t = float(threshold_gauss)
        if not (t >= 0 and math.isfinite(t)):
            raise ValueError(
                f"threshold_gauss must be a finite number >= 0, got {threshold_gauss!r}"
            )
        active = b.abs() > t  # NaN compares False
    else:
        raise ValueError("activity_map needs a magnetogram or an ar_mask")
    return dilate(active, dilation)


def patch_fraction(
    prior: torch.Tensor | np.ndarray, patch_size: int | Sequence[int]
) -> torch.Tensor:
    """Fraction of each patch covered by ``prior`` [B, H, W] (bool or [0, 1]) → [B, N] float,
    patches row-major."""
    p = _as_bhw(prior, "prior").float()
    ph, pw = _pair(patch_size, "patch_size")
    patch_grid(tuple(p.shape[-2:]), (ph, pw))
    return F.avg_pool2d(p[:, None], (ph, pw), stride=(ph, pw)).flatten(1)


def ppam_masking(
    magnetogram: torch.Tensor | np.ndarray | None,
    patch_size: int | Sequence[int],
    ratio: float = 0.75,
    *,
    asymmetry: float = 4.0,
    threshold_gauss: float = 150.0,
    dilation: int = 2,
    ar_mask: torch.Tensor | np.ndarray | None = None,
    generator: torch.Generator | None = None,
) -> MaskResult:
    """Physics-prior adaptive masking: keep active-region patches ``asymmetry``× more readily.

    ``magnetogram`` [B, H, W] or [B, 1, H, W] in Gauss (or ``None`` with ``ar_mask``). The
    number of visible patches per sample is exactly :func:`num_visible` (N, ratio).
    """
    prior = activity_map(
        magnetogram, threshold_gauss=threshold_gauss, dilation=dilation, ar_mask=ar_mask
    )
    weights = prior_weights(patch_fraction(prior, patch_size), asymmetry)
    if generator is not None:
        weights = weights.to(generator.device)
    return weighted_masking(weights, ratio, generator)


# --------------------------------------------------------------------------------------------
# Latitude-band prior
# --------------------------------------------------------------------------------------------
def latitude_band_map(
    image_size: int | Sequence[int],
    band_deg: tuple[float, float] = (5.0, 35.0),
    frame_radius: float = FRAME_RSUN,
) -> torch.Tensor:
    """Pixels [H, W] (bool) on the disk with |latitude| in ``band_deg``.

    The image is a solar-centred, north-up frame spanning ±``frame_radius`` R☉ (the sample
    contract); latitude = arcsin(y / R☉) of the orthographic disk (B0 = 0, which is within 7.25°
    of true and irrelevant for a band symmetric about the equator).
    """
    h, w = _pair(image_size, "image_size")
    lo, hi = (float(v) for v in band_deg)
    if not (0.0 <= lo < hi <= 90.0):
        raise ValueError(f"band_deg must satisfy 0 <= low < high <= 90, got {band_deg!r}")
    if not (frame_radius > 0):
        raise ValueError(f"frame_radius must be > 0 (solar radii), got {frame_radius!r}")
    # Pixel centres in solar radii.
    y = (torch.arange(h, dtype=torch.float64) + 0.5 - h / 2) / (h / 2) * frame_radius
    x = (torch.arange(w, dtype=torch.float64) + 0.5 - w / 2) / (w / 2) * frame_radius
    yy, xx = torch.meshgrid(y, x, indexing="ij")
    on_disk = yy**2 + xx**2 <= 1.0
    lat = torch.rad2deg(torch.asin(yy.clamp(-1.0, 1.0))).abs()
    return on_disk & (lat >= lo) & (lat <= hi)


def latitude_band_masking(
    batch: int,
    image_size: int | Sequence[int],
    patch_size: int | Sequence[int],
    ratio: float = 0.75,
    *,
    band_deg: tuple[float, float] = (5.0, 35.0),
    asymmetry: float = 4.0,
    frame_radius: float = FRAME_RSUN,
    generator: torch.Generator | None = None,
    device: torch.device | str | None = None,
) -> MaskResult:
    """Baseline prior: keep patches in the ±``band_deg`` activity belts ``asymmetry``× more
    readily. Same weights for every sample."""
    if not (isinstance(batch, (int, np.integer)) and batch > 0):
        raise ValueError(f"batch must be a positive integer, got {batch!r}")
    band = latitude_band_map(image_size, band_deg, frame_radius)
    weights = prior_weights(patch_fraction(band[None], patch_size), asymmetry)
    weights = weights.expand(int(batch), -1)
    if generator is not None:
        device = generator.device
    return weighted_masking(weights.to(device or "cpu"), ratio, generator)


# --------------------------------------------------------------------------------------------
# One entry point for models and jobs
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MaskingConfig:
    """How an MAE masks its patches. ``strategy``: ``random`` | ``ppam`` | ``latitude``."""

    strategy: str = "random"
    ratio: float = 0.75
    asymmetry: float = 4.0  # ppam / latitude: weight of a fully active patch vs a quiet one
    threshold_gauss: float = 150.0  # ppam: |B| above which a pixel is active, G
    dilation: int = 2  # ppam: dilation radius of the active map, pixels
    band_deg: tuple[float, float] = (5.0, 35.0)  # latitude: activity belts, degrees
    frame_radius: float = FRAME_RSUN  # latitude: image half-width in solar radii
    magnetogram_channel: str = "hmi_m"  # ppam: which input channel is the magnetogram

    def __post_init__(self) -> None:
        if self.strategy not in STRATEGIES:
            raise ValueError(f"masking strategy must be one of {STRATEGIES}, got {self.strategy!r}")
        num_visible(1_000_000, self.ratio)


def magnetogram_from_images(
    images: torch.Tensor, channel_names: Sequence[str], name: str = "hmi_m"
) -> torch.Tensor:
    """The magnetogram in Gauss [B, H, W] from a scaled sample batch ``images`` [B, C, H, W]
    whose channels are ``channel_names`` (undoing the catalogue's linear HMI scaling)."""
    channel = channel_catalogue.get(name)
    if not channel.is_magnetic or channel.scaling != "linear":
        raise ValueError(f"channel {name!r} is not a linearly scaled magnetogram")
    names = list(channel_names)
    if name not in names:
        raise ValueError(f"PPAM needs channel {name!r} (or an ar_mask); batch has {names}")
    if images.ndim != 4 or images.shape[1] != len(names):
        raise ValueError(
            f"images must be [B, C, H, W] with C = {len(names)} channels, got {tuple(images.shape)}"
        )
    return images[:, names.index(name)].float() * channel.b_max


def make_mask(
    config: MaskingConfig,
    images: torch.Tensor,
    patch_size: int | Sequence[int],
    *,
    channel_names: Sequence[str] | None = None,
    ar_mask: torch.Tensor | np.ndarray | None = None,
    generator: torch.Generator | None = None,
) -> MaskResult:
    """Mask a batch ``images`` [B, C, H, W] (any C) with ``config``'s strategy.

    PPAM reads the magnetogram from ``images`` via ``channel_names`` (see
    :func:`magnetogram_from_images`) unless ``ar_mask`` [B, H, W] is given.
    """
    if images.ndim != 4:
        raise ValueError(f"images must be [B, C, H, W], got shape {tuple(images.shape)}")
    b, _, h, w = images.shape
    gh, gw = patch_grid((h, w), patch_size)
    if generator is None:
        device = images.device
    else:
        device = generator.device
    if config.strategy == "random":
        return random_masking(b, gh * gw, config.ratio, generator, device)
    if config.strategy == "latitude":
        return latitude_band_masking(
            b, (h, w), patch_size, config.ratio, band_deg=config.band_deg,
            asymmetry=config.asymmetry, frame_radius=config.frame_radius, generator=generator,
            device=device,
        )  # fmt: skip
    magnetogram = None
    if ar_mask is not None:
        ar_mask = _as_bhw(ar_mask, "ar_mask")
        if tuple(ar_mask.shape[-2:]) != (h, w) or ar_mask.shape[0] not in (1, b):
            raise ValueError(
                f"ar_mask must be [{b} or 1, {h}, {w}] to match images, got {tuple(ar_mask.shape)}"
            )
        ar_mask = ar_mask.expand(b, -1, -1).to(device)
    else:
        if channel_names is None:
            raise ValueError("PPAM needs channel_names (to find the magnetogram) or an ar_mask")
        magnetogram = magnetogram_from_images(images, channel_names, config.magnetogram_channel)
    return ppam_masking(
        magnetogram, patch_size, config.ratio, asymmetry=config.asymmetry,
        threshold_gauss=config.threshold_gauss, dilation=config.dilation, ar_mask=ar_mask,
        generator=generator,
    )  # fmt: skip
