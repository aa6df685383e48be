"""Preprocessing of one level-1 image: pure functions, each step a switch in :class:`PreprocessConfig`.

Steps (in order), for an image of one channel:

1. **Exposure** (AIA in DN): divide by EXPTIME → DN/s (:mod:`~solarray.data.calibration`).
2. **Degradation** (AIA, optional): divide by aiapy's time-dependent degradation factor computed from
   a local correction table (offline); which table was used, or that the step was skipped, goes to
   ``info``.
3. **Geometry**, one affine warp onto the ±``frame`` R☉ grid (:mod:`~solarray.data.warp`).
4. **Off-limb**: ``keep``, ``mask`` (set to 0 in physical units: the floor of the scaling), or
   ``nan``.
5. **Scaling** with :meth:`solarray.core.channels.Channel.scale` → [-1, 1] (inverse:
   :func:`unscale_image`).

Unusable inputs raise :class:`~solarray.data.sources.RejectError`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime

import numpy as np

from solarray.core import channels as chans
from solarray.core.frame import DEFAULT_GRID, FRAME_RSUN, radius_grid
from solarray.data import sources
from solarray.data.calibration import aiapy_test_table, degradation_factor, normalize_exposure
from solarray.data.sources import RejectError
from solarray.data.warp import sun_in_header, warp_to_frame

#: Bumped whenever preprocessing output changes; recorded in every sample's ``meta``.
PREPROCESS_VERSION = "1.0"

OFF_LIMB_MODES = ("keep", "mask", "nan")


@dataclass
class PreprocessConfig:
    """Switches and sizes for :func:`preprocess`.

    ``degradation_table``: path of an aiapy correction table, ``"aiapy-v8"`` for the table in
    aiapy's test data, or ``None`` to skip (recorded in ``info``).
    """

    size: int = DEFAULT_GRID  # output N (pixels)
    frame: float = FRAME_RSUN  # half-width of the frame, R☉
    exposure: bool = True
    degradation_table: str | None = None
    off_limb: str = "keep"  # keep | mask | nan
    limb_radius: float = 1.0  # R☉; off-limb means r > limb_radius
    interp_order: int = 1  # spline order of the affine warp (1 bilinear, 3 cubic)
    min_finite_fraction: float = 0.5  # of on-disk pixels; below → reject "NaN-filled"
    version: str = field(default=PREPROCESS_VERSION)

    def __post_init__(self) -> None:
        if int(self.size) < 8:
            raise ValueError(f"size must be ≥ 8 pixels, got {self.size}")
        if not self.frame > 0:
            raise ValueError(f"frame must be > 0 R☉, got {self.frame}")
        if self.off_limb not in OFF_LIMB_MODES:
            raise ValueError(f"off_limb must be one of {OFF_LIMB_MODES}, got {self.off_limb!r}")
        if self.interp_order not in (0, 1, 3):
            raise ValueError(f"interp_order must be 0, 1 or 3, got {self.interp_order}")
        self.size = int(self.size)
        if self.degradation_table == "aiapy-v8":
            table = aiapy_test_table()
            if table is None:
                raise ValueError("degradation_table='aiapy-v8': aiapy test table not found")
            self.degradation_table = table

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def apply_off_limb(img: np.ndarray, mode: str, frame: float = FRAME_RSUN,
                   radius: float = 1.0) -> np.ndarray:
    """Off-limb handling on the output grid: ``keep``, ``mask`` (→ 0) or ``nan``."""
    if mode == "keep":
        return img
    off = radius_grid(img.shape[-1], frame) > radius
    out = img.copy()
    out[..., off] = 0.0 if mode == "mask" else np.nan
    return out


@dataclass
class Preprocessed:
    """Result of :func:`preprocess`: ``data`` in physical units (DN/s or G) and ``scaled`` in
    [-1, 1], both float32 ``[N, N]``; ``info`` records every step (JSON-serialisable)."""

    data: np.ndarray
    scaled: np.ndarray
    info: dict[str, object]


def preprocess(data: np.ndarray, header: Mapping[str, object], channel: str,
               cfg: PreprocessConfig | None = None, t_obs: datetime | None = None) -> Preprocessed:
    """Level-1 image ``[H, W]`` of ``channel`` → preprocessed sample plane (see module docstring).

    Raises :class:`~solarray.data.sources.RejectError` with a manifest-ready reason for unusable
    inputs (missing EXPTIME, NaN-filled image, disk not locatable).
    """
    cfg = cfg or PreprocessConfig()
    c = chans.get(channel)
    info: dict[str, object] = {"channel": channel, "version": cfg.version}
    data = np.asarray(data, dtype=np.float32)
    finite_in = np.isfinite(data)
    if not finite_in.any():
        raise RejectError("NaN-filled image: no finite pixel")

    if c.instrument == "AIA" and cfg.exposure and not sources.is_rate(header):
        data = normalize_exposure(data, header)
        info["exposure"] = f"divided by EXPTIME={float(header['EXPTIME']):g} s"
    else:
        info["exposure"] = "skipped"

    if c.instrument == "AIA" and cfg.degradation_table:
        t = t_obs or sources.parse_time(header)
        try:
            factor = degradation_factor(channel, t, cfg.degradation_table)
            data = data / np.float32(factor)
            info["degradation"] = {"table": os.path.basename(cfg.degradation_table),
                                   "factor": factor}
        except KeyError as err:
            info["degradation"] = f"skipped: {err}"
    else:
        info["degradation"] = "skipped: no table" if c.instrument == "AIA" else "n/a"

    sun = sun_in_header(header, data)
    img, ginfo = warp_to_frame(data, sun, cfg.size, cfg.frame, cfg.interp_order)
    info["geometry"] = ginfo

    on_disk = radius_grid(cfg.size, cfg.frame) < 0.95 * min(cfg.limb_radius, 1.0)
    finite_frac = float(np.isfinite(img[on_disk]).mean()) if on_disk.any() else 0.0
    if finite_frac < cfg.min_finite_fraction:
        raise RejectError(f"NaN-filled image: {100 * finite_frac:.0f}% of on-disk pixels finite")
    info["finite_on_disk"] = finite_frac

    img = apply_off_limb(img, cfg.off_limb, cfg.frame, cfg.limb_radius)
    info["off_limb"] = cfg.off_limb
    return Preprocessed(data=img, scaled=c.scale(img), info=info)


def preprocess_file(path: str, channel: str | None = None,
                    cfg: PreprocessConfig | None = None) -> Preprocessed:
    """Read ``path`` and :func:`preprocess` it (channel from the header unless given)."""
    data, header = sources.read_fits(path)
    channel = channel or chans.channel_from_header(header)
    if channel is None:
        raise RejectError(f"unknown channel ({sources.describe_instrument(header)})")
    return preprocess(data, header, channel, cfg)


def scale_image(img: np.ndarray, channels: list[str] | tuple[str, ...]) -> np.ndarray:
    """Physical ``[C, H, W]`` → [-1, 1] per channel (float32)."""
    return np.stack([chans.get(n).scale(p) for n, p in zip(channels, img, strict=True)])


def unscale_image(img: np.ndarray, channels: list[str] | tuple[str, ...]) -> np.ndarray:
    """Inverse of :func:`scale_image`: [-1, 1] ``[C, H, W]`` → DN/s or G (float64)."""
    return np.stack([chans.get(n).unscale(p) for n, p in zip(channels, img, strict=True)])


__all__ = ["OFF_LIMB_MODES", "PREPROCESS_VERSION", "PreprocessConfig", "Preprocessed",
           "apply_off_limb", "preprocess", "preprocess_file", "scale_image", "unscale_image"]
