"""Solar coordinates of map pixels via sunpy frames: helioprojective, Stonyhurst, Carrington, μ, area.

Every function takes a :class:`sunpy.map.GenericMap` whose WCS and observer keywords describe the
image. Maps without observer keywords (HGLN/HGLT/DSUN_OBS, CRLN/CRLT/DSUN_OBS or HAE/HEE/HGC
positions) are rejected with :class:`MissingObserverError` unless the caller explicitly allows
sunpy's Earth-observer assumption (``assume_earth=True``); the choice is recorded on the result.

Areas are in millionths of the solar hemisphere (MSH), 1 MSH = 2π R☉² × 10⁻⁶, with R☉ the map's
``RSUN_REF`` (696 000 km when absent). A pixel's area on the sphere is its plane-of-sky area at the
point's distance from the observer, divided by μ (the cosine of the angle between the local
surface normal and the line of sight); μ is clipped at ``mu_min`` so limb pixels stay finite.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import astropy.units as u
import numpy as np
from astropy.coordinates import SkyCoord
from sunpy.coordinates import (
    Heliocentric,
    HeliographicCarrington,
    HeliographicStonyhurst,
    Helioprojective,
)

from solarray.core.geometry import great_circle_deg  # noqa: F401  (re-exported: IATools uses C.great_circle_deg)

# Observer keyword sets sunpy accepts (any one complete set locates the observer).
_OBSERVER_KEYSETS = (
    ("hgln_obs", "hglt_obs", "dsun_obs"),
    ("crln_obs", "crlt_obs", "dsun_obs"),
    ("haex_obs", "haey_obs", "haez_obs"),
    ("heex_obs", "heey_obs", "heez_obs"),
    ("hgcx_obs", "hgcy_obs", "hgcz_obs"),
)

MSH_PER_HEMISPHERE = 1.0e6


class MissingObserverError(ValueError):
    """A map lacks the keywords that place its observer (HGLN_OBS/HGLT_OBS/DSUN_OBS, ...)."""


def has_observer_keywords(meta) -> bool:
    """True if ``meta`` (a FITS-like header/dict) holds one complete observer keyword set."""
    keys = {str(k).lower() for k in meta.keys()}
    return any(all(k in keys for k in ks) for ks in _OBSERVER_KEYSETS)


def check_observer(smap, *, assume_earth: bool = False, name: str | None = None) -> bool:
    """Raise :class:`MissingObserverError` unless ``smap`` places its observer.

    Returns True if the observer came from the header, False if it is sunpy's Earth assumption
    (only allowed with ``assume_earth=True``).
    """
    if has_observer_keywords(smap.meta):
        return True
    label = name or smap.meta.get("filename") or f"{smap.meta.get('telescop', 'map')} {smap.date.isot}"
    if not assume_earth:
        raise MissingObserverError(
            f"{label}: no observer keywords (expected HGLN_OBS, HGLT_OBS and DSUN_OBS, or "
            "CRLN_OBS, CRLT_OBS and DSUN_OBS); heliographic coordinates and areas need the "
            "observer position (pass assume_earth=True to accept an Earth-based observer)"
        )
    return False


def observer(smap, *, assume_earth: bool = False) -> SkyCoord:
    """The observer of ``smap`` in Stonyhurst coordinates (see :func:`check_observer`)."""
    check_observer(smap, assume_earth=assume_earth)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sunpy's "assuming Earth" warning when assume_earth
        return smap.observer_coordinate


def rsun_m(smap) -> float:
    """Solar radius used by the map (RSUN_REF), in metres."""
    return float(smap.rsun_meters.to_value(u.m))


@dataclass
class MapGeometry:
    """Per-pixel geometry of one sunpy map, arrays shaped like the map data ``[H, W]``, computed
    with sunpy's frames and including areas (the fast numpy geometry of a bare pixel grid is
    :class:`solarray.core.geometry.DiskGeometry`).

    ``on_disk`` marks pixels whose line of sight hits the photosphere; off-disk pixels hold NaN in
    ``lon``, ``lat``, ``carr_lon`` and ``mu`` and 0 in ``area_cm2``/``area_msh``.
    """

    on_disk: np.ndarray  # bool
    lon: np.ndarray  # Stonyhurst longitude, deg (west positive)
    lat: np.ndarray  # Stonyhurst latitude, deg
    carr_lon: np.ndarray  # Carrington longitude, deg [0, 360)
    mu: np.ndarray  # cos(angle between surface normal and line of sight), unclipped
    area_cm2: np.ndarray  # area on the sphere per pixel, cm², μ clipped at mu_min
    area_msh: np.ndarray  # the same in MSH
    plane_area_cm2: np.ndarray  # plane-of-sky (projected) area per pixel, cm²
    km_per_pixel: float  # plane-of-sky size of one pixel at disk centre, km
    rsun_m: float
    observer_from_header: bool
    mu_min: float
    notes: list[str] = field(default_factory=list)


def map_geometry(smap, *, mu_min: float = 0.1, assume_earth: bool = False) -> MapGeometry:
    """Compute :class:`MapGeometry` for every pixel of ``smap`` using sunpy's frames.

    ``mu_min`` (dimensionless, 0 < mu_min ≤ 1) bounds the foreshortening correction 1/μ.
    """
    if not 0 < mu_min <= 1:
        raise ValueError(f"mu_min must be in (0, 1], got {mu_min}")
    from_header = check_observer(smap, assume_earth=assume_earth)
    obs = observer(smap, assume_earth=assume_earth)
    ny, nx = smap.data.shape[-2:]
    yy, xx = np.mgrid[0:ny, 0:nx]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        hpc = smap.pixel_to_world(xx * u.pix, yy * u.pix)
        hpc = SkyCoord(hpc.Tx, hpc.Ty, frame=Helioprojective(observer=obs, obstime=smap.date,
                                                             rsun=smap.rsun_meters))
        hgs = hpc.transform_to(HeliographicStonyhurst(obstime=smap.date))
        hcc = hpc.transform_to(Heliocentric(observer=obs, obstime=smap.date))
    lon = hgs.lon.wrap_at(180 * u.deg).to_value(u.deg)
    lat = hgs.lat.to_value(u.deg)
    on_disk = np.isfinite(lon) & np.isfinite(lat)
    r = rsun_m(smap)
    d_obs = float(obs.radius.to_value(u.m))
    x = hcc.x.to_value(u.m)
    y = hcc.y.to_value(u.m)
    z = hcc.z.to_value(u.m)
    dist = np.sqrt(x**2 + y**2 + (d_obs - z) ** 2)  # point → observer, m
    mu = np.where(on_disk, (z * d_obs - r**2) / (r * dist), np.nan)
    # Plane-of-sky area: pixel solid angle × distance². CDELT in arcsec (or deg) from the WCS.
    dx = abs(smap.scale.axis1.to_value(u.rad / u.pix))
    dy = abs(smap.scale.axis2.to_value(u.rad / u.pix))
    plane = np.where(on_disk, dist**2 * dx * dy, 0.0) * 1e4  # m² → cm²
    mu_c = np.clip(np.nan_to_num(mu, nan=1.0), mu_min, 1.0)
    area_cm2 = np.where(on_disk, plane / mu_c, 0.0)
    hemisphere_cm2 = 2.0 * np.pi * (r * 100.0) ** 2
    area_msh = area_cm2 / hemisphere_cm2 * MSH_PER_HEMISPHERE
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        hgc = hgs.transform_to(HeliographicCarrington(observer=obs, obstime=smap.date))
    carr = np.where(on_disk, hgc.lon.to_value(u.deg) % 360.0, np.nan)
    km_pix = (d_obs - r) * np.sqrt(dx * dy) / 1e3
    notes = [] if from_header else ["observer keywords missing: assumed Earth-based observer"]
    return MapGeometry(
        on_disk=on_disk, lon=np.where(on_disk, lon, np.nan), lat=np.where(on_disk, lat, np.nan),
        carr_lon=carr, mu=mu, area_cm2=area_cm2, area_msh=area_msh, plane_area_cm2=plane,
        km_per_pixel=km_pix, rsun_m=r, observer_from_header=from_header, mu_min=mu_min,
        notes=notes,
    )


def hgs_to_all(lon_deg, lat_deg, smap, *, assume_earth: bool = False) -> dict[str, np.ndarray]:
    """Stonyhurst (lon, lat) in deg on the photosphere → helioprojective and Carrington.

    Returns arrays (same shape as the inputs): ``hpc_x``, ``hpc_y`` (arcsec, as seen by the map's
    observer), ``hgs_lon``, ``hgs_lat``, ``carr_lon`` (deg, [0, 360)), ``carr_lat`` (deg).
    """
    obs = observer(smap, assume_earth=assume_earth)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        c = SkyCoord(np.asarray(lon_deg) * u.deg, np.asarray(lat_deg) * u.deg,
                     rsun_m(smap) * u.m, frame=HeliographicStonyhurst(obstime=smap.date))
        hpc = c.transform_to(Helioprojective(observer=obs, obstime=smap.date))
        hgc = c.transform_to(HeliographicCarrington(observer=obs, obstime=smap.date))
    return {
        "hpc_x": hpc.Tx.to_value(u.arcsec), "hpc_y": hpc.Ty.to_value(u.arcsec),
        "hgs_lon": np.asarray(lon_deg, dtype=float), "hgs_lat": np.asarray(lat_deg, dtype=float),
        "carr_lon": hgc.lon.to_value(u.deg) % 360.0, "carr_lat": hgc.lat.to_value(u.deg),
    }


def spherical_centroid(lon_deg: np.ndarray, lat_deg: np.ndarray,
                       weights: np.ndarray | None = None) -> tuple[float, float]:
    """Weighted centroid of points on the sphere (mean unit vector), returned as (lon, lat) deg."""
    lon = np.deg2rad(np.asarray(lon_deg, dtype=float))
    lat = np.deg2rad(np.asarray(lat_deg, dtype=float))
    w = np.ones_like(lon) if weights is None else np.asarray(weights, dtype=float)
    v = np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)])
    m = (v * w).sum(axis=1)
    n = np.linalg.norm(m)
    if n == 0 or not np.isfinite(n):
        return float("nan"), float("nan")
    m /= n
    return float(np.rad2deg(np.arctan2(m[1], m[0]))), float(np.rad2deg(np.arcsin(m[2])))


def resample_to(source, target, *, order: int = 1, assume_earth: bool = False) -> np.ndarray:
    """Sample ``source`` map data on ``target``'s pixel grid (same sky position), float64 [H, W].

    Each target pixel's helioprojective position is mapped into the source WCS (handling roll,
    CROTA2≈180 of HMI, different plate scales and centres); values come from spline
    interpolation of ``order``; pixels falling outside the source image are NaN. Both maps should
    share an observer (co-temporal SDO images); the transform goes through helioprojective
    coordinates so small observer differences are handled on the disk.
    """
    from scipy.ndimage import map_coordinates

    check_observer(target, assume_earth=assume_earth)
    check_observer(source, assume_earth=assume_earth)
    ny, nx = target.data.shape[-2:]
    yy, xx = np.mgrid[0:ny, 0:nx]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        world = target.pixel_to_world(xx * u.pix, yy * u.pix)
        if _same_observer(source, target):
            # Co-temporal images from one spacecraft: reuse the angles (no surface assumption,
            # so off-disk pixels map too).
            world = SkyCoord(world.Tx, world.Ty, frame=source.coordinate_frame)
        else:
            world = world.transform_to(source.coordinate_frame)
        sx, sy = source.world_to_pixel(world)
    sx = np.asarray(sx.to_value(u.pix) if hasattr(sx, "unit") else sx, dtype=float)
    sy = np.asarray(sy.to_value(u.pix) if hasattr(sy, "unit") else sy, dtype=float)
    data = np.asarray(source.data, dtype=float)
    valid = np.isfinite(data)
    filled = np.where(valid, data, 0.0)
    coords = np.stack([np.nan_to_num(sy, nan=-1e9), np.nan_to_num(sx, nan=-1e9)])
    out = map_coordinates(filled, coords, order=order, mode="constant", cval=np.nan)
    # NaN where the source was NaN nearby or the point is outside the source image.
    bad = map_coordinates((~valid).astype(float), coords, order=1, mode="constant", cval=1.0)
    out[bad > 0.5] = np.nan
    out[~(np.isfinite(sx) & np.isfinite(sy))] = np.nan
    return out


def _same_observer(a, b, tol_m: float = 1e6, tol_deg: float = 1e-3, tol_s: float = 120.0) -> bool:
    try:
        oa, ob = a.observer_coordinate, b.observer_coordinate
    except Exception:  # pragma: no cover - checked before
        return False
    return bool(
        abs((oa.radius - ob.radius).to_value(u.m)) < tol_m
        and abs((oa.lon - ob.lon).to_value(u.deg)) < tol_deg
        and abs((oa.lat - ob.lat).to_value(u.deg)) < tol_deg
        and abs((a.date - b.date).to_value(u.s)) < tol_s
    )
