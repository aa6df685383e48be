"""Tiny level-1-like FITS files for the ingest tests (a disk, a limb, and a bright blob that shows
the orientation), written with real SDO header keywords and the instrument roll applied."""

from __future__ import annotations

import os
from datetime import datetime

import numpy as np

from solarray.core import channels as chans

RSUN_OBS = 960.0  # arcsec


def level1_header(channel: str, t: datetime, size: int, cdelt: float, crota2: float = 0.0,
                  centre_offset: tuple[float, float] = (0.0, 0.0), exptime: float = 2.0):
    from astropy.io import fits

    h = fits.Header()
    for k, v in chans.fits_identity(channel).items():
        h[k] = v
    h["DATE-OBS"] = t.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]
    h["T_OBS"] = h["DATE-OBS"] + "Z"
    if chans.get(channel).instrument == "AIA":
        h["EXPTIME"] = exptime
    h["CTYPE1"], h["CTYPE2"] = "HPLN-TAN", "HPLT-TAN"
    h["CUNIT1"], h["CUNIT2"] = "arcsec", "arcsec"
    h["CDELT1"] = h["CDELT2"] = cdelt
    # The reference pixel is the image centre; the disk centre sits centre_offset (arcsec) away.
    h["CRPIX1"] = h["CRPIX2"] = (size + 1) / 2.0
    h["CRVAL1"], h["CRVAL2"] = -centre_offset[0], -centre_offset[1]
    h["CROTA2"] = crota2
    h["RSUN_OBS"] = RSUN_OBS
    h["RSUN_REF"] = 696000000.0
    h["DSUN_OBS"] = 696000000.0 / np.sin(np.radians(RSUN_OBS / 3600.0))
    h["HGLN_OBS"], h["HGLT_OBS"] = 0.0, 0.0
    h["QUALITY"] = 0
    return h


BLOB = (400.0, 300.0)  # arcsec (west, north): a bright feature in the NW quadrant


def scene(tx: np.ndarray, ty: np.ndarray, channel: str) -> np.ndarray:
    """Physical value (DN/s or G) at helioprojective (tx, ty) arcsec."""
    r = np.hypot(tx, ty) / RSUN_OBS
    blob = np.exp(-((tx - BLOB[0]) ** 2 + (ty - BLOB[1]) ** 2) / (2 * 60.0**2))
    c = chans.get(channel)
    if c.is_magnetic:
        return np.where(r < 1, 800.0 * blob - 400.0 * np.exp(
            -((tx + 300) ** 2 + (ty + 200) ** 2) / (2 * 80.0**2)), np.nan)
    mu = np.sqrt(np.clip(1 - r**2, 0, 1))
    disk = np.where(r < 1, c.quiet_sun * (0.4 + 0.6 * mu), c.quiet_sun * 0.05 * np.exp(-(r - 1) * 20))
    return disk * (1 + 20 * blob)


def write_level1(path: str, channel: str, t: datetime, size: int = 128, crota2: float = 0.0,
                 centre_offset: tuple[float, float] = (0.0, 0.0), exptime: float = 2.0,
                 cdelt: float | None = None, quality: int = 0, nan_fill: bool = False) -> str:
    """Write one level-1-like FITS file (AIA in DN, HMI in G) whose pixels sample :func:`scene`."""
    from astropy.io import fits
    from astropy.wcs import WCS

    cdelt = cdelt or 2.6 * RSUN_OBS / size  # the disk fills ~77 % of the frame
    h = level1_header(channel, t, size, cdelt, crota2, centre_offset, exptime)
    h["QUALITY"] = quality
    w = WCS(h)
    yy, xx = np.mgrid[0:size, 0:size]
    tx, ty = w.wcs_pix2world(xx, yy, 0)
    tx = (tx + 180) % 360 - 180
    value = scene(tx * 3600.0, ty * 3600.0, channel)
    if chans.get(channel).instrument == "AIA":
        value = value * exptime
    if nan_fill:
        value = np.full_like(value, np.nan)
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    fits.PrimaryHDU(value.astype(np.float32), header=h).writeto(path, overwrite=True)
    return path
