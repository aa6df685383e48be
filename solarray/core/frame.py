"""solarray's ML frame: north up, disk centre at the image centre, spanning ±``frame`` R☉.

Every preprocessed sample, ground-truth mask, model input and rendered map lives on this frame;
its half-width travels in the FITS keyword ``FRAME`` and in ingest's ``meta``. A pixel is on the
disk when its centre lies within 1 R☉ of the image centre.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import numpy as np
from astropy.io import fits
from astropy.time import Time

from solarray.core.geometry import (
    R_SUN_M,
    ImageGrid,
    Observer,
    earth_observer,
    observer_from_header,
)

#: Default half-width of the frame, solar radii (the limb sits at ``size / 2 / FRAME_RSUN`` px).
FRAME_RSUN = 1.1


def radius_grid(size: int, frame: float = FRAME_RSUN) -> np.ndarray:
    """Distance of each pixel centre from disk centre, R☉ ``[size, size]``."""
    if size <= 0 or frame <= 0:
        raise ValueError(f"the frame needs size > 0 and frame > 0 R☉, got {size}, {frame}")
    c = (size - 1) / 2.0
    yy, xx = np.mgrid[0:size, 0:size]
    return np.hypot(xx - c, yy - c) * (2.0 * frame / size)


def disk_mask(size: int, frame: float = FRAME_RSUN) -> np.ndarray:
    """Bool ``[size, size]``: True where the pixel centre is on the solar disk (r ≤ 1 R☉)."""
    return radius_grid(size, frame) <= 1.0


def limb_radius_px(size: int, frame: float = FRAME_RSUN) -> float:
    """Radius of the solar limb in pixels on a ``size``-pixel frame."""
    return size / 2.0 / frame


def header_frame(header: Mapping[str, Any] | None, default: float = FRAME_RSUN) -> float:
    """The frame half-width (R☉) a header declares in ``FRAME``, else ``default``."""
    if not header:
        return float(default)
    v = header.get("FRAME")
    return float(default if v in (None, "") else v)


def centred_grid(n: int, rsun_obs: float, frame_rsun: float = FRAME_RSUN) -> ImageGrid:
    """North-up ``n``×``n`` grid with the disk centre at the image centre spanning ±frame_rsun R☉."""
    cdelt = 2.0 * frame_rsun * rsun_obs / n
    centre = (n + 1) / 2.0
    return ImageGrid(nx=n, ny=n, cdelt=cdelt, crpix1=centre, crpix2=centre)


def frame_header(obs: Observer, size: int, frame_rsun: float = FRAME_RSUN) -> fits.Header:
    """FITS header of the ML frame seen by ``obs``.

    This is the geometry of every preprocessed sample and of the ground-truth masks, so a sunpy
    Map built from it (``Map(image, frame_header(...))``) has correct coordinates.
    """
    grid = centred_grid(size, obs.rsun_obs, frame_rsun)
    h = fits.Header()
    h["WCSAXES"] = 2
    for k, v in grid.header().items():
        if not k.startswith("NAXIS"):
            h[k] = v
    h["DATE-OBS"] = obs.time.isot
    h["RSUN_OBS"] = obs.rsun_obs
    h["RSUN_REF"] = R_SUN_M
    h["DSUN_OBS"] = obs.dsun
    h["HGLN_OBS"] = obs.hgln
    h["HGLT_OBS"] = obs.hglt
    h["CRLN_OBS"] = obs.crln
    h["CRLT_OBS"] = obs.hglt
    h["FRAME"] = (frame_rsun, "half-width of the frame, solar radii")
    return h


OBSERVER_KEYS = ("DSUN_OBS", "HGLN_OBS", "HGLT_OBS")


def sample_frame_header(size: int, t_obs: datetime | str | None = None,
                        source_header: Mapping[str, Any] | None = None,
                        frame: float = FRAME_RSUN) -> dict[str, Any]:
    """Frame header (dict, with NAXIS keywords) of a ``size``-pixel sample at ``t_obs``, seen from
    ``source_header``'s observer when it names one (DSUN/HGLN/HGLT_OBS), else from Earth.

    ``t_obs`` defaults to the source header's DATE-OBS (or T_OBS); one of them is required.
    """
    src = {k: v for k, v in dict(source_header or {}).items() if v not in (None, "")}
    when = t_obs if t_obs is not None else src.get("DATE-OBS") or src.get("T_OBS")
    if when is None:
        raise ValueError("frame header: no observation time (t_obs, DATE-OBS or T_OBS)")
    t = Time(str(when).replace("Z", "") if isinstance(when, str) else when, scale="utc")
    if all(k in src for k in OBSERVER_KEYS):
        src["DATE-OBS"] = t.isot
        obs = observer_from_header(src)
    else:
        obs = earth_observer(t)
    out = dict(frame_header(obs, size, frame))
    out.update(NAXIS=2, NAXIS1=size, NAXIS2=size)
    return out


__all__ = ["FRAME_RSUN", "OBSERVER_KEYS", "centred_grid", "disk_mask", "frame_header",
           "header_frame", "limb_radius_px", "radius_grid", "sample_frame_header"]
