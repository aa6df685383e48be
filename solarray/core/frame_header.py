"""FITS headers of the ML frame (:mod:`solarray.core.frame`): WCS and observer keywords, so a
sunpy Map of any preprocessed sample or mask has correct coordinates."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from astropy.io import fits
from astropy.time import Time

from solarray.core.frame import FRAME_RSUN
from solarray.core.geometry import (
    OBSERVER_KEYS,
    R_SUN_M,
    ImageGrid,
    Observer,
    earth_observer,
    observer_from_header,
)


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


__all__ = ["centred_grid", "frame_header", "sample_frame_header"]
