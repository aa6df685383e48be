"""Vectorised Sun–observer geometry for image grids: pixels ↔ helioprojective ↔ heliographic.

The formulas are Thompson (2006, A&A 449, 791) for an observer at distance ``D`` from Sun centre,
evaluated in numpy so that a 4096² grid costs well under a second; sunpy's coordinate frames give the
same answers (tested) but are too slow per pixel. Angles are degrees unless a name says otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

import astropy.units as u
import numpy as np
from astropy.time import Time

R_SUN_M = 696_000_000.0  # RSUN_REF, m (sunpy/JSOC convention)
ARCSEC = np.pi / (180.0 * 3600.0)  # rad per arcsec
#: FITS keywords that place the observer (distance, Stonyhurst longitude and latitude).
OBSERVER_KEYS = ("DSUN_OBS", "HGLN_OBS", "HGLT_OBS")


@dataclass(frozen=True)
class Observer:
    """Where the image is seen from: Stonyhurst lon/lat (deg), distance (m), Carrington L0 (deg)."""

    time: Time
    hgln: float
    hglt: float
    dsun: float
    crln: float

    @property
    def rsun_obs(self) -> float:
        """Apparent solar radius, arcsec."""
        return float(np.degrees(np.arcsin(R_SUN_M / self.dsun)) * 3600.0)


def earth_observer(time: Time | str) -> Observer:
    """The observer at Earth's centre at ``time`` (SDO is within 0.03 % of it), from sunpy ephemerides."""
    from sunpy.coordinates import get_earth, sun

    time = Time(time, scale="utc")
    earth = get_earth(time)
    return Observer(
        time=time,
        hgln=float(earth.lon.to_value(u.deg)),
        hglt=float(earth.lat.to_value(u.deg)),
        dsun=float(earth.radius.to_value(u.m)),
        crln=float(sun.L0(time).to_value(u.deg)),
    )


@dataclass(frozen=True)
class ImageGrid:
    """A linear (TAN, small-field) celestial pixel grid as FITS describes it.

    ``crpix`` is 1-based as in FITS; ``cdelt`` in arcsec/px; ``crota2`` in degrees; ``crval`` in
    arcsec. Pixel ``(x, y)`` here is 0-based (numpy column, row).
    """

    nx: int
    ny: int
    cdelt: float
    crpix1: float
    crpix2: float
    crval1: float = 0.0
    crval2: float = 0.0
    crota2: float = 0.0

    def _pc(self) -> tuple[float, float, float, float]:
        r = np.radians(self.crota2)
        return np.cos(r), -np.sin(r), np.sin(r), np.cos(r)

    def pixel_to_hpc(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """0-based pixel → helioprojective (Tx, Ty), arcsec."""
        p11, p12, p21, p22 = self._pc()
        dx = (x + 1.0 - self.crpix1) * self.cdelt
        dy = (y + 1.0 - self.crpix2) * self.cdelt
        return self.crval1 + p11 * dx + p12 * dy, self.crval2 + p21 * dx + p22 * dy

    def hpc_to_pixel(self, tx: np.ndarray, ty: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Helioprojective (Tx, Ty) arcsec → 0-based pixel (inverse of :meth:`pixel_to_hpc`)."""
        p11, p12, p21, p22 = self._pc()
        ax, ay = np.asarray(tx) - self.crval1, np.asarray(ty) - self.crval2
        # PC is a rotation: its inverse is its transpose.
        dx, dy = p11 * ax + p21 * ay, p12 * ax + p22 * ay
        return dx / self.cdelt + self.crpix1 - 1.0, dy / self.cdelt + self.crpix2 - 1.0

    def header(self) -> dict[str, object]:
        """The FITS WCS keywords of this grid."""
        return {
            "NAXIS1": self.nx, "NAXIS2": self.ny,
            "CTYPE1": "HPLN-TAN", "CTYPE2": "HPLT-TAN", "CUNIT1": "arcsec", "CUNIT2": "arcsec",
            "CDELT1": self.cdelt, "CDELT2": self.cdelt,
            "CRPIX1": self.crpix1, "CRPIX2": self.crpix2,
            "CRVAL1": self.crval1, "CRVAL2": self.crval2, "CROTA2": self.crota2,
        }


def observer_from_header(header) -> Observer:
    """The :class:`Observer` described by a FITS header (DATE-OBS, DSUN_OBS, HGLN/HGLT_OBS).

    Missing observer keywords fall back to Earth at DATE-OBS (sunpy's convention for SDO data).
    """
    t = Time(header["DATE-OBS"], scale="utc")
    if all(k in header for k in OBSERVER_KEYS):
        from sunpy.coordinates import sun

        return Observer(t, float(header["HGLN_OBS"]), float(header["HGLT_OBS"]),
                        float(header["DSUN_OBS"]),
                        float(header.get("CRLN_OBS", sun.L0(t).to_value(u.deg))))
    return earth_observer(t)


@dataclass
class DiskGeometry:
    """Per-pixel geometry of a grid: on-disk flag, Stonyhurst lon/lat (deg, NaN off disk), μ, r.

    ``r`` is the projected distance from disk centre in units of the apparent radius (off-limb > 1).
    """

    on_disk: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    mu: np.ndarray
    r: np.ndarray


def hpc_to_hgs(tx: np.ndarray, ty: np.ndarray, obs: Observer, dtype=np.float64) -> DiskGeometry:
    """Helioprojective arcsec → Stonyhurst lon/lat on the solar surface and μ = cos(viewing angle).

    Distances are normalised by the observer distance and the sphere intersection is written
    without the ``D² − R²`` cancellation, so float32 keeps ~1e-5° accuracy at a third of the cost.
    """
    txr = (np.asarray(tx) * ARCSEC).astype(dtype)
    tyr = (np.asarray(ty) * ARCSEC).astype(dtype)
    a = dtype(R_SUN_M / obs.dsun)  # angular radius as a ratio R/D
    cx, cy, sx, sy = np.cos(txr), np.cos(tyr), np.sin(txr), np.sin(tyr)
    cc = cx * cy
    s2 = sy * sy + cy * cy * sx * sx  # sin² of the angle from disk centre
    disc = a * a - s2
    on = disc >= 0
    root = np.sqrt(np.maximum(disc, 0))
    dist = cc - root  # distance to the nearest intersection / D
    x = dist * cy * sx / a  # heliocentric cartesian in solar radii
    y = dist * sy / a
    z = (s2 + cc * root) / a  # = (1 - dist·cc)/a without cancellation
    b0, l0 = np.radians(obs.hglt), np.radians(obs.hgln)
    cb, sb = dtype(np.cos(b0)), dtype(np.sin(b0))
    lat = np.degrees(np.arcsin(np.clip(y * cb + z * sb, -1, 1)))
    lon = np.degrees(dtype(l0) + np.arctan2(x, z * cb - y * sb))
    if obs.hgln != 0.0:  # arctan2 already lies in ±180°; only an observer offset can push it out
        lon = (lon + dtype(180.0)) % dtype(360.0) - dtype(180.0)
    # μ = n̂·(observer − p)/|observer − p|; |observer − p| = dist·D.
    mu = np.clip((z - a) / np.maximum(dist, dtype(1e-12)), 0, 1)
    rho = np.sqrt(s2) / a
    nan = dtype(np.nan)
    return DiskGeometry(
        on_disk=on,
        lon=np.where(on, lon, nan).astype(dtype, copy=False),
        lat=np.where(on, lat, nan).astype(dtype, copy=False),
        mu=np.where(on, mu, 0).astype(dtype, copy=False),
        r=rho.astype(dtype, copy=False),
    )


def grid_geometry(grid: ImageGrid, obs: Observer, dtype=np.float32) -> DiskGeometry:
    """:class:`DiskGeometry` for every pixel of ``grid`` (arrays ``[ny, nx]``)."""
    x = np.arange(grid.nx, dtype=np.float64)[None, :]
    y = np.arange(grid.ny, dtype=np.float64)[:, None]
    tx, ty = grid.pixel_to_hpc(x, y)  # broadcasts to [ny, nx]
    return hpc_to_hgs(tx, ty, obs, dtype=dtype)


def hgs_to_hpc(lon: np.ndarray, lat: np.ndarray, obs: Observer) -> tuple[np.ndarray, ...]:
    """Stonyhurst lon/lat (deg) on the surface → (Tx, Ty) arcsec and μ (negative: far side)."""
    lam = np.radians(np.asarray(lon, dtype=np.float64) - obs.hgln)
    phi = np.radians(np.asarray(lat, dtype=np.float64))
    b0, rs, d_obs = np.radians(obs.hglt), R_SUN_M, obs.dsun
    x = rs * np.cos(phi) * np.sin(lam)
    y = rs * (np.sin(phi) * np.cos(b0) - np.cos(phi) * np.cos(lam) * np.sin(b0))
    z = rs * (np.sin(phi) * np.sin(b0) + np.cos(phi) * np.cos(lam) * np.cos(b0))
    dist = np.sqrt(x * x + y * y + (d_obs - z) ** 2)
    tx = np.arctan2(x, d_obs - z) / ARCSEC
    ty = np.arcsin(y / dist) / ARCSEC
    mu = (z * d_obs - rs * rs) / (rs * dist)
    return tx, ty, mu


def synodic_rate(lat_deg: np.ndarray | float) -> np.ndarray:
    """Synodic differential rotation, deg/day, at Stonyhurst latitude (sunpy's ``howard`` model,
    the one sunpy's differential-rotation tracking uses)."""
    from sunpy.sun.models import differential_rotation

    lat = np.asarray(lat_deg, dtype=float)
    rate = differential_rotation(1 * u.day, np.atleast_1d(lat) * u.deg, model="howard",
                                 frame_time="synodic")
    return rate.to_value(u.deg).reshape(lat.shape)  # a scalar latitude gives a scalar rate


def carrington_longitude(lon_hgs: np.ndarray, obs: Observer) -> np.ndarray:
    """Stonyhurst → Carrington longitude (deg, 0–360) for the observer's time."""
    return (np.asarray(lon_hgs) - obs.hgln + obs.crln) % 360.0


def great_circle_deg(lon1, lat1, lon2, lat2) -> np.ndarray:
    """Angular distance (deg) between surface points given in deg (haversine, broadcasting)."""
    lon1, lat1, lon2, lat2 = (np.deg2rad(np.asarray(a, dtype=float)) for a in (lon1, lat1, lon2, lat2))
    s = (np.sin((lat2 - lat1) / 2) ** 2
         + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2)
    return np.rad2deg(2 * np.arcsin(np.sqrt(np.clip(s, 0, 1))))
