"""Tiny sunpy maps with full observer keywords for the analysis tests (built in code, no files)."""

from __future__ import annotations

import astropy.units as u
import numpy as np
import sunpy.map
from sunpy.coordinates import sun

RSUN_REF = 696_000_000.0  # m
DSUN = 1.495978707e11  # m


def make_header(size: int = 128, *, date: str = "2024-01-01T00:00:00", b0: float = 0.0,
                crota2: float = 0.0, fov_rsun: float = 1.1, observer: bool = True,
                crln_obs: float | None = None) -> dict:
    """Helioprojective header: disk centre at the image centre, ±fov_rsun R☉ across the frame."""
    rsun_arcsec = np.rad2deg(np.arcsin(RSUN_REF / DSUN)) * 3600
    cdelt = 2 * fov_rsun * rsun_arcsec / size
    h = {
        "naxis": 2, "naxis1": size, "naxis2": size,
        "ctype1": "HPLN-TAN", "ctype2": "HPLT-TAN", "cunit1": "arcsec", "cunit2": "arcsec",
        "cdelt1": cdelt, "cdelt2": cdelt, "crpix1": (size + 1) / 2, "crpix2": (size + 1) / 2,
        "crval1": 0.0, "crval2": 0.0, "crota2": crota2, "date-obs": date,
        "rsun_ref": RSUN_REF, "rsun_obs": rsun_arcsec, "telescop": "TEST", "instrume": "TEST",
    }
    if observer:
        if crln_obs is None:  # consistent with HGLN_OBS = 0
            crln_obs = float(sun.L0(date).to_value(u.deg))
        h.update({"hgln_obs": 0.0, "hglt_obs": b0, "dsun_obs": DSUN,
                  "crln_obs": crln_obs, "crlt_obs": b0})
    return h


def make_map(data: np.ndarray, **kw) -> sunpy.map.GenericMap:
    return sunpy.map.Map(np.asarray(data, dtype=float), make_header(data.shape[-1], **kw))
