"""The arms of the ingest benchmark: one level-1 file → one 512² frame, by four routes.

- ``floor``: read + decompress the FITS file only (:func:`solarray.data.sources.read_fits`), the
  part every route must pay;
- ``solarray``: :func:`solarray.data.preprocess.preprocess_file` (DN/s, block mean, one affine
  warp), exactly what the ingest actors run;
- ``sunpy_same_order``: sunpy with the same order of operations: ``Map.superpixel`` (block mean by
  the same factor) first, then ``Map.rotate(order=1, recenter=True)``, crop ±frame R☉,
  ``Map.resample`` to N²;
- ``aiapy_register``: ``aiapy.calibrate.register`` (full-resolution rotate + rescale to 0.6″/px,
  order 3, scipy; the OpenCV method needs ``cv2``), then crop and resample to N².

:func:`accuracy` compares the timed solarray output with ``Map.rotate(order=3)`` at full
resolution, area-averaged over each output pixel (the same block averaging the timed path does).
"""

from __future__ import annotations

import importlib.util
import warnings

import astropy.units as u
import numpy as np
from astropy.coordinates import SkyCoord
from scipy import ndimage

from solarray.core.frame import FRAME_RSUN, radius_grid
from solarray.data import preprocess as pp
from solarray.data import sources
from solarray.data.warp import output_scale, sun_in_header

HAVE_OPENCV = importlib.util.find_spec("cv2") is not None


def _map(path: str):
    """The file as a sunpy Map, AIA divided by EXPTIME (DN/s) as solarray does."""
    import sunpy.map

    m = sunpy.map.Map(path)
    if "AIA" in str(m.instrument) and m.exposure_time is not None:
        m = sunpy.map.Map(m.data / m.exposure_time.to_value(u.s), m.meta)
    return m


def _crop_resample(m, size: int, frame: float):
    half = frame * m.rsun_obs
    sub = m.submap(SkyCoord(-half, -half, frame=m.coordinate_frame),
                   top_right=SkyCoord(half, half, frame=m.coordinate_frame))
    return sub.resample([size, size] * u.pix)


def block_factor(path: str, size: int, frame: float = FRAME_RSUN) -> int:
    """The block-mean factor solarray's warp uses for ``path`` at ``size`` (as in
    :func:`solarray.data.warp.warp_to_frame`)."""
    data, header = sources.read_fits(path)
    sun = sun_in_header(header, data)
    ratio = output_scale(sun.rsun, size, frame) / sun.pixel_scale
    return int(round(ratio)) if ratio >= 1.5 else 1


def floor(path: str, size: int) -> np.ndarray:
    data, _ = sources.read_fits(path)
    return np.asarray(data, dtype=np.float32)


def solarray_arm(path: str, size: int) -> np.ndarray:
    return pp.preprocess_file(path, cfg=pp.PreprocessConfig(size=size)).data


def sunpy_same_order(path: str, size: int, factor: int) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = _map(path).superpixel([factor, factor] * u.pix, func=np.mean)
        r = m.rotate(order=1, recenter=True, missing=np.nan)
        return _crop_resample(r, size, FRAME_RSUN).data


def aiapy_register(path: str, size: int) -> np.ndarray:
    from aiapy.calibrate import register

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = register(_map(path), method="opencv" if HAVE_OPENCV else "scipy")
        return _crop_resample(r, size, FRAME_RSUN).data


def accuracy(path: str, size: int, frame: float = FRAME_RSUN) -> dict[str, float]:
    """The timed solarray output vs ``Map.rotate(order=3, recenter)`` at full resolution,
    averaged over the f×f sub-pixel positions of each output pixel (f = the block factor).

    On-disk (r < 0.95 R☉) Pearson correlation, median relative difference and RMS difference
    over the RMS of the reference."""
    ours = solarray_arm(path, size)
    f = block_factor(path, size, frame)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = _map(path)
        rot = m.rotate(order=3, recenter=True, missing=np.nan)
        s = output_scale(m.rsun_obs.to_value(u.arcsec), size, frame)
        c = (size - 1) / 2
        yy, xx = np.mgrid[0:size, 0:size].astype(float)
        px, py = rot.wcs.world_to_pixel(SkyCoord((xx - c) * s * u.arcsec, (yy - c) * s * u.arcsec,
                                                 frame=rot.coordinate_frame))
        # The rotated map is north up: within one output pixel, world → pixel is a scaling.
        kx = s / rot.scale.axis1.to_value(u.arcsec / u.pix)
        ky = s / rot.scale.axis2.to_value(u.arcsec / u.pix)
        sub = (np.arange(f) + 0.5) / f - 0.5  # sub-pixel centres inside one output pixel
        ref = np.zeros((size, size))
        for dy in sub:
            for dx in sub:
                ref += ndimage.map_coordinates(rot.data, [py + ky * dy, px + kx * dx], order=1,
                                               cval=np.nan)
        ref /= f * f
    disk = radius_grid(size, frame) < 0.95
    a, b = ours[disk].astype(float), ref[disk]
    ok = np.isfinite(a) & np.isfinite(b)
    a, b = a[ok], b[ok]
    return {"corr": float(np.corrcoef(a, b)[0, 1]),
            "median_rel_diff": float(np.median(np.abs(a - b) / np.maximum(np.abs(b), 1e-6))),
            "rms_diff_over_rms": float(np.sqrt(np.mean((a - b) ** 2) / np.mean(b * b))),
            "block": f, "pixels": int(ok.sum())}


__all__ = ["HAVE_OPENCV", "accuracy", "aiapy_register", "block_factor", "floor", "solarray_arm",
           "sunpy_same_order"]
