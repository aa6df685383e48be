"""Per-pixel geometry and entity coordinates in closed form (numpy), instead of sunpy frames.

:func:`solarray.analysis.coords.map_geometry` transforms every pixel through astropy/sunpy frame
machinery (≈ 0.5 s at 512²) and :func:`~solarray.analysis.coords.hgs_to_all` costs ≈ 70 ms per
call in frame set-up. The transforms are fixed formulas (Thompson 2006, A&A 449, 791, the ones
sunpy implements): helioprojective → heliocentric for a point on the photosphere, a rotation by
the observer's B0 to Stonyhurst, and Carrington = Stonyhurst + one longitude offset per
observation. Here they are plain numpy over the WCS's pixel → (Tx, Ty) (wcslib), with the one
observer-dependent constant (the Carrington offset) taken from sunpy once per map.
``tests/test_analysis_regions.py`` checks both against sunpy.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import astropy.units as u
import numpy as np
from astropy.coordinates import SkyCoord
from sunpy.coordinates import HeliographicCarrington, HeliographicStonyhurst

from solarray.analysis import coords as C


@dataclass(frozen=True)
class ObserverFrame:
    """What the closed-form transforms need from a map: observer distance ``d_obs`` (m),
    Stonyhurst latitude ``b0`` and longitude ``lon0`` (rad), solar radius ``rsun`` (m) and
    ``carr_offset`` (deg, Carrington lon = Stonyhurst lon + offset)."""

    d_obs: float
    b0: float
    lon0: float
    rsun: float
    carr_offset: float
    from_header: bool


def observer_frame(smap, *, assume_earth: bool = False) -> ObserverFrame:
    """The :class:`ObserverFrame` of ``smap`` (raises like :func:`coords.observer`)."""
    from_header = C.check_observer(smap, assume_earth=assume_earth)
    obs = C.observer(smap, assume_earth=assume_earth)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p = SkyCoord(0 * u.deg, 0 * u.deg, C.rsun_m(smap) * u.m,
                     frame=HeliographicStonyhurst(obstime=smap.date))
        carr = p.transform_to(HeliographicCarrington(observer=obs, obstime=smap.date))
    return ObserverFrame(d_obs=float(obs.radius.to_value(u.m)),
                         b0=float(obs.lat.to_value(u.rad)), lon0=float(obs.lon.to_value(u.rad)),
                         rsun=C.rsun_m(smap), carr_offset=float(carr.lon.to_value(u.deg)),
                         from_header=from_header)


def hgs_to_all(lon_deg, lat_deg, frame: ObserverFrame) -> dict[str, np.ndarray]:
    """:func:`solarray.analysis.coords.hgs_to_all` in closed form (same keys and units)."""
    lon = np.deg2rad(np.asarray(lon_deg, dtype=float))
    lat = np.deg2rad(np.asarray(lat_deg, dtype=float))
    r, d = frame.rsun, frame.d_obs
    dl = lon - frame.lon0
    sb, cb = np.sin(frame.b0), np.cos(frame.b0)
    x = r * np.cos(lat) * np.sin(dl)
    y = r * (np.sin(lat) * cb - np.cos(lat) * np.cos(dl) * sb)
    z = r * (np.sin(lat) * sb + np.cos(lat) * np.cos(dl) * cb)
    dist = np.sqrt(x**2 + y**2 + (d - z) ** 2)
    arcsec = np.rad2deg(1.0) * 3600.0
    return {"hpc_x": np.arctan2(x, d - z) * arcsec, "hpc_y": np.arcsin(y / dist) * arcsec,
            "hgs_lon": np.asarray(lon_deg, dtype=float), "hgs_lat": np.asarray(lat_deg, float),
            "carr_lon": (np.asarray(lon_deg, dtype=float) + frame.carr_offset) % 360.0,
            "carr_lat": np.asarray(lat_deg, dtype=float)}


def map_geometry(smap, *, mu_min: float = 0.1, assume_earth: bool = False
                 ) -> tuple[C.MapGeometry, ObserverFrame]:
    """:func:`solarray.analysis.coords.map_geometry` in closed form, and the observer frame."""
    if not 0 < mu_min <= 1:
        raise ValueError(f"mu_min must be in (0, 1], got {mu_min}")
    f = observer_frame(smap, assume_earth=assume_earth)
    ny, nx = smap.data.shape[-2:]
    yy, xx = np.mgrid[0:ny, 0:nx]
    tx, ty = smap.wcs.pixel_to_world_values(xx, yy)  # deg (HPLN, HPLT)
    tx = np.deg2rad((np.asarray(tx) + 180.0) % 360.0 - 180.0)
    ty = np.deg2rad(np.asarray(ty))
    r, d = f.rsun, f.d_obs
    cty = np.cos(ty)
    cc = cty * np.cos(tx)  # cosine of the angle from disk centre
    q = d * cc
    with np.errstate(invalid="ignore"):
        dist = q - np.sqrt(q * q - (d * d - r * r))  # observer → surface, m; NaN off the disk
    x = dist * cty * np.sin(tx)
    y = dist * np.sin(ty)
    z = d - dist * cc
    sb, cb = np.sin(f.b0), np.cos(f.b0)
    with np.errstate(invalid="ignore"):
        lat = np.rad2deg(np.arcsin((y * cb + z * sb) / r))  # |(x, y, z)| = r on the surface
    lon = (np.rad2deg(f.lon0 + np.arctan2(x, z * cb - y * sb)) + 180.0) % 360.0 - 180.0
    on_disk = np.isfinite(lon) & np.isfinite(lat)
    mu = np.where(on_disk, (z * d - r * r) / (r * dist), np.nan)
    dx = abs(smap.scale.axis1.to_value(u.rad / u.pix))
    dy = abs(smap.scale.axis2.to_value(u.rad / u.pix))
    plane = np.where(on_disk, dist**2 * dx * dy, 0.0) * 1e4  # m² → cm²
    mu_c = np.clip(np.nan_to_num(mu, nan=1.0), mu_min, 1.0)
    area_cm2 = np.where(on_disk, plane / mu_c, 0.0)
    area_msh = area_cm2 / (2.0 * np.pi * (r * 100.0) ** 2) * C.MSH_PER_HEMISPHERE
    notes = [] if f.from_header else ["observer keywords missing: assumed Earth-based observer"]
    geometry = C.MapGeometry(
        on_disk=on_disk, lon=np.where(on_disk, lon, np.nan), lat=np.where(on_disk, lat, np.nan),
        carr_lon=np.where(on_disk, (lon + f.carr_offset) % 360.0, np.nan), mu=mu,
        area_cm2=area_cm2, area_msh=area_msh, plane_area_cm2=plane,
        km_per_pixel=(d - r) * np.sqrt(dx * dy) / 1e3, rsun_m=r, observer_from_header=f.from_header,
        mu_min=mu_min, notes=notes)
    return geometry, f


__all__ = ["ObserverFrame", "hgs_to_all", "map_geometry", "observer_frame"]
