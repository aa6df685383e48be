"""What makes a rendered frame look like JSOC level-1 data: pointing, file names, headers, noise.

AIA frames are ≈ north up with the disk centre a few pixels off the image centre; HMI frames are
rolled by ≈ 180° (CROTA2). AIA data are in DN (rate × EXPTIME, photon and read noise, saturation),
HMI in Gauss with the instrument's noise.
"""

from __future__ import annotations

import numpy as np
from astropy.io import fits
from astropy.time import Time, TimeDelta

from solarray import __version__
from solarray.core import channels as chans
from solarray.core.geometry import R_SUN_M, ImageGrid, Observer

FULL_RES = 4096
AIA_PLATE = 0.600698  # arcsec/px at 4096²
HMI_PLATE = 0.504365
AIA_SATURATION_DN = 16383.0
QUALITY_OFFPOINT = 0x00000080  # QUALITY bit set on frames taken off-pointed (ISS loop open)


def stamp(t: Time, fmt: str = "%Y%m%dT%H%M%S") -> str:
    """``t`` formatted for file names (UTC)."""
    return t.datetime.strftime(fmt)


def channel_offset_s(name: str) -> float:
    """Seconds after the step time at which a channel is exposed (AIA sequence, HMI 45 s)."""
    order = list(chans.CATALOGUE)
    ch = chans.get(name)
    if ch.instrument == "HMI":
        return 22.5
    if ch.cadence > 12:
        return 7.0 + 12.0 * (name == "aia1700")
    return 1.3 * order.index(name) + 0.34


def level1_filename(name: str, t_obs: Time) -> str:
    """The JSOC-like file name of channel ``name`` observed at ``t_obs``."""
    ch = chans.get(name)
    if ch.instrument == "AIA":
        series = "lev1_euv_12s" if ch.cadence <= 12 else "lev1_uv_24s"
        return f"aia.{series}.{stamp(t_obs, '%Y-%m-%dT%H%M%S')}Z.{int(ch.wavelength)}.image_lev1.fits"
    tai = (t_obs.tai).datetime.strftime("%Y%m%d_%H%M%S")
    kind = "m_45s" if name == "hmi_m" else "b_720s"
    seg = "magnetogram" if name == "hmi_m" else name.split("_")[1]
    return f"hmi.{kind}.{tai}_TAI.2.{seg}.fits"


def instrument_grid(instrument: str, size: int, obs: Observer, rng: np.random.Generator) -> ImageGrid:
    """Level-1 pointing: AIA ≈ north up, HMI rolled by ≈180°; disk centre a few px off centre."""
    plate = (AIA_PLATE if instrument == "AIA" else HMI_PLATE) * FULL_RES / size
    centre = (size + 1) / 2.0
    off = rng.normal(0, 6.0, size=2) * size / FULL_RES
    if instrument == "AIA":
        return ImageGrid(size, size, plate, centre + off[0], centre + off[1], 0.0, 0.0,
                         float(rng.normal(0.0, 0.02)))
    # HMI: the reference pixel is the image centre and CRVAL carries the disk-centre offset.
    return ImageGrid(size, size, plate, centre, centre, float(rng.normal(0, 3.0)),
                     float(rng.normal(0, 3.0)), 180.0 + float(rng.normal(0.08, 0.01)))


def level1_header(name: str, grid: ImageGrid, obs: Observer, t_obs: Time, exptime: float,
                  quality: int) -> fits.Header:
    """A header with the keywords real JSOC level-1 AIA/HMI files carry."""
    h = fits.Header()
    for k, v in grid.header().items():
        if not k.startswith("NAXIS"):
            h[k] = v
    for k, v in chans.fits_identity(name).items():
        h[k] = v
    ch = chans.get(name)
    t_mid = t_obs + TimeDelta(exptime / 2.0, format="sec")
    h["DATE-OBS"] = t_obs.isot
    if ch.instrument == "AIA":
        h["T_OBS"] = t_mid.isot + "Z"
        h["EXPTIME"] = exptime
        h["LVL_NUM"] = 1.0
    else:
        h["T_OBS"] = t_mid.tai.datetime.strftime("%Y.%m.%d_%H:%M:%S") + "_TAI"
        h["CADENCE"] = ch.cadence
        h["LVL_NUM"] = 1.5
    h["RSUN_OBS"] = obs.rsun_obs
    h["R_SUN"] = obs.rsun_obs / grid.cdelt
    h["RSUN_REF"] = R_SUN_M
    h["DSUN_OBS"] = obs.dsun
    h["DSUN_REF"] = 149597870691.0
    h["HGLN_OBS"] = obs.hgln
    h["HGLT_OBS"] = obs.hglt
    h["CRLN_OBS"] = obs.crln
    h["CRLT_OBS"] = obs.hglt
    h["QUALITY"] = quality
    h["ORIGIN"] = "solarray synthetic Sun"
    h["SOLARRAY"] = (__version__, "solarray version that wrote this file")
    h["HISTORY"] = "Synthetic observation rendered by solarray.data.synthetic (not real data)."
    return h


def detector_noise(name: str, clean: np.ndarray, exptime: float, size: int,
                   rng: np.random.Generator | np.ndarray) -> np.ndarray:
    """Level-1 values with detector noise: AIA DN (photon + read noise, saturation), HMI G.

    ``rng``: a generator to draw the standard normals from, or the normals themselves
    (``clean.shape`` float32, as :class:`~solarray.data.synthetic.draws.StepDraws` makes them)."""
    ch = chans.get(name)
    binning = FULL_RES / size  # each pixel stands for binning² full-resolution pixels (averaged)
    normal = (rng.standard_normal(clean.shape, dtype=np.float32)
              if isinstance(rng, np.random.Generator) else rng)
    if ch.instrument == "AIA":
        dn = clean * np.float32(exptime)
        sigma = np.sqrt(np.maximum(dn, 0.0) + 1.2**2) / np.float32(binning)
        dn = dn + sigma * normal
        return np.clip(dn, 0.0, AIA_SATURATION_DN).astype(np.float32)
    noise = np.float32(ch.quiet_sun / binning) * normal
    return (clean + noise).astype(np.float32)


__all__ = ["AIA_PLATE", "AIA_SATURATION_DN", "FULL_RES", "HMI_PLATE", "QUALITY_OFFPOINT",
           "channel_offset_s", "detector_noise", "instrument_grid", "level1_filename",
           "level1_header", "stamp"]
