"""Entities from feature masks: active regions (DBSCAN), coronal holes and filaments (connectivity).

Masks are boolean/uint8 images [H, W] (or a stack [3, H, W] in the order AR, CH, FL) on the grid of
a sunpy map that carries the WCS and observer (the mask FITS header, or any co-aligned map).

* AR pixels are clustered with DBSCAN on pixel positions; ``eps`` and the core density are given
  in physical units (Mm or arcsec, and Mm² or arcsec²) and converted with the plate scale. The
  clustering is computed from connected components (:func:`solarray.analysis.grid_dbscan.
  grid_dbscan`, milliseconds at 512²); ``RegionConfig.ar_method="pixels"`` runs sklearn's DBSCAN
  over every mask pixel instead (same partition, seconds when the mask is large).
* Coordinates (per-pixel geometry, entity centres in helioprojective and Carrington) come from
  closed-form formulas (:mod:`solarray.analysis.fast_coords`); ``RegionConfig.coords="sunpy"``
  uses sunpy's frames (same values to < 1e-6°).
* CH and FL entities are 8-connected components, merged when their boundaries are closer than a
  distance (Mm/arcsec): both are dilated by half the distance and components that then touch
  become one entity.
* Entities smaller than a minimum area (MSH, foreshortening-corrected) are dropped.

Each entity gets a row in a :class:`pandas.DataFrame` (see :data:`ENTITY_COLUMNS`) and a label in
an int32 label image (0 = background). ``number`` starts as the label; the tracker
(:mod:`solarray.analysis.tracking`) replaces it with a number that is stable across days.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import astropy.units as u
import numpy as np
import pandas as pd
from scipy import ndimage

from solarray.analysis import coords as C
from solarray.analysis import fast_coords as FC
from solarray.analysis import magnetic as M
from solarray.analysis.grid_dbscan import grid_dbscan
from solarray.core.features import FEATURE_KINDS

ENTITY_COLUMNS = [
    "kind", "label", "number", "n_pixels", "area_msh", "hpc_x", "hpc_y", "hgs_lon", "hgs_lat",
    "carr_lon", "carr_lat", "lon_min", "lon_max", "lon_span", "bbox_y0", "bbox_y1", "bbox_x0",
    "bbox_x1",
]
AR_COLUMNS = ["flux_pos", "flux_neg", "flux_unsigned", "flux_net", "mean_b", "max_abs_b", "r",
              "log_r", "pil_pixels", "psep_mm", "mask_area_msh"]
AR_AREAS = ("field", "mask")
CH_COLUMNS = ["mean_b", "polarity"]
AR_METHODS = ("components", "pixels")
COORDS = ("closed_form", "sunpy")
FL_COLUMNS = ["end1_lon", "end1_lat", "end2_lon", "end2_lat", "length_mm"]


@dataclass
class RegionConfig:
    """Entity extraction settings. Lengths/areas are astropy quantity strings ("15 Mm", "20 arcsec")."""

    ar_eps: str = "80 Mm"  # DBSCAN radius (best entity F1/ARI on synthetic truth, BENCHMARKS.md)
    ar_min_density: str = "60 Mm2"  # DBSCAN min_samples as an area inside eps (→ pixel count)
    ar_min_area_msh: float = 20.0
    ar_method: str = "components"  # DBSCAN from connected components | "pixels" (sklearn)
    #: An AR's ``area_msh``: every pixel of its mask ("mask") or its pixels with |B_los|/μ ≥
    #: ``ar_area_gauss`` ("field", needs the magnetogram; else the mask's). ``mask_area_msh``
    #: keeps the mask's area either way. On the benchmark Sun's 128² grid with the chain's SPNet,
    #: detected/true area (regions ≥ 300 MSH) is 0.72 by the mask and 0.55 by the field at 100 G
    #: (0.67 at 30 G): averaging over 12-Mm pixels lowers |B|, so "mask" is the default.
    ar_area: str = "mask"
    ar_area_gauss: float = 100.0
    ch_merge: str = "30 Mm"  # merge CH components whose boundaries are closer than this
    ch_min_area_msh: float = 300.0
    fl_merge: str = "20 Mm"
    fl_min_area_msh: float = 10.0
    mu_min: float = 0.1  # foreshortening correction bound (1/μ ≤ 1/mu_min)
    assume_earth: bool = False  # accept maps without observer keywords (Earth observer)
    radial_flux: bool = False  # fluxes from B_los (False) or B_los/μ (True)
    #: Geometry and entity coordinates: numpy formulas (:mod:`solarray.analysis.fast_coords`)
    #: or sunpy's frames (same values to < 1e-6°; ~10× slower at 512²).
    coords: str = "closed_form"

    def __post_init__(self) -> None:
        if self.coords not in COORDS:
            raise ValueError(f"RegionConfig.coords must be one of {COORDS}, got {self.coords!r}")
        if self.ar_area not in AR_AREAS:
            raise ValueError(f"RegionConfig.ar_area must be one of {AR_AREAS}, "
                             f"got {self.ar_area!r}")
        if self.ar_method not in AR_METHODS:
            raise ValueError(f"RegionConfig.ar_method must be one of {AR_METHODS}, "
                             f"got {self.ar_method!r}")


@dataclass
class EntityResult:
    """Entities of one observation: a table, one label image per kind, the geometry, notes."""

    table: pd.DataFrame
    labels: dict[str, np.ndarray]
    geometry: C.MapGeometry
    notes: list[str] = field(default_factory=list)


def length_to_pixels(value: str | u.Quantity, smap, geometry: C.MapGeometry) -> float:
    """A length in Mm/km (plane of sky at disk centre) or angle (arcsec, deg) → pixels (float)."""
    q = u.Quantity(value)
    if q.unit.physical_type == "length":
        return float(q.to_value(u.km) / geometry.km_per_pixel)
    if q.unit.physical_type == "angle":
        scale = math.sqrt(abs(smap.scale.axis1.to_value(u.arcsec / u.pix)
                              * smap.scale.axis2.to_value(u.arcsec / u.pix)))
        return float(q.to_value(u.arcsec) / scale)
    raise ValueError(f"expected a length (Mm) or an angle (arcsec), got {value!r}")


def area_to_pixels(value: str | u.Quantity, smap, geometry: C.MapGeometry) -> float:
    """An area in Mm²/km² (plane of sky) or arcsec² → number of pixels (float)."""
    q = u.Quantity(value)
    if q.unit.physical_type == "area":
        return float(q.to_value(u.km**2) / geometry.km_per_pixel**2)
    if q.unit.physical_type == "solid angle":
        scale = abs(smap.scale.axis1.to_value(u.arcsec / u.pix)
                    * smap.scale.axis2.to_value(u.arcsec / u.pix))
        return float(q.to_value(u.arcsec**2) / scale)
    raise ValueError(f"expected an area (Mm2) or a solid angle (arcsec2), got {value!r}")


def cluster_dbscan(mask: np.ndarray, eps_px: float, min_samples: int) -> np.ndarray:
    """DBSCAN over the (y, x) positions of true pixels → int32 labels (0 = background or noise)."""
    from sklearn.cluster import DBSCAN

    mask = np.asarray(mask, dtype=bool)
    labels = np.zeros(mask.shape, dtype=np.int32)
    ys, xs = np.nonzero(mask)
    if ys.size == 0:
        return labels
    pts = np.column_stack([ys, xs]).astype(float)
    # eps slightly above a whole number of pixels so neighbours exactly eps apart are included.
    db = DBSCAN(eps=max(eps_px, 1.0) + 1e-6, min_samples=max(int(min_samples), 1)).fit(pts)
    labels[ys, xs] = db.labels_ + 1  # noise (-1) → 0
    return labels


def connected_merge(mask: np.ndarray, merge_px: float) -> np.ndarray:
    """8-connected components of ``mask``, merged when boundaries are closer than ``merge_px``."""
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return np.zeros(mask.shape, dtype=np.int32)
    r = merge_px / 2.0
    if r >= 0.5:
        rr = int(math.ceil(r))
        yy, xx = np.mgrid[-rr:rr + 1, -rr:rr + 1]
        grown = ndimage.binary_dilation(mask, structure=(yy**2 + xx**2) <= r * r)
    else:
        grown = mask
    labels, _ = ndimage.label(grown, structure=np.ones((3, 3), dtype=bool))
    return np.where(mask, labels, 0).astype(np.int32)


def filter_small(labels: np.ndarray, area_msh: np.ndarray, min_area_msh: float) -> np.ndarray:
    """Drop labels whose total area (MSH) is below ``min_area_msh``; relabel 1..n by area (desc)."""
    ids = np.unique(labels[labels > 0])
    if ids.size == 0:
        return np.zeros_like(labels, dtype=np.int32)
    areas = ndimage.sum(area_msh, labels, ids)
    keep = [(a, i) for a, i in zip(areas, ids, strict=True) if a >= min_area_msh and a > 0]
    keep.sort(key=lambda t: -t[0])
    lut = np.zeros(int(labels.max()) + 1, dtype=np.int32)
    for new, (_, old) in enumerate(keep, start=1):
        lut[old] = new
    return lut[labels]


def _endpoints(lon: np.ndarray, lat: np.ndarray) -> tuple[int, int]:
    """Two points far apart (double sweep of the farthest point): filament end points."""
    c = C.spherical_centroid(lon, lat)
    i = int(np.argmax(C.great_circle_deg(lon, lat, c[0], c[1])))
    j = int(np.argmax(C.great_circle_deg(lon, lat, lon[i], lat[i])))
    return i, j


def describe(labels: np.ndarray, kind: str, smap, geometry: C.MapGeometry, *,
             b_los: np.ndarray | None = None, config: RegionConfig | None = None,
             frame: FC.ObserverFrame | None = None) -> pd.DataFrame:
    """One row per label: coordinates of the centre, area, span and kind-specific parameters.
    ``frame``: the map's observer for the closed-form coordinates (None: sunpy's frames)."""
    config = config or RegionConfig()
    g = geometry
    rows = []
    labels = np.asarray(labels)
    boxes = ndimage.find_objects(labels)  # bounding slices: each entity is read in its box only
    for lab in np.unique(labels[labels > 0]):
        box = boxes[lab - 1]
        sel = labels[box] == lab
        ys, xs = np.nonzero(sel)
        w = g.area_msh[box][sel]
        lon, lat = g.lon[box][sel], g.lat[box][sel]
        clon, clat = C.spherical_centroid(lon, lat, w)
        y0, x0 = box[0].start, box[1].start
        row = {"kind": kind, "label": int(lab), "number": int(lab), "n_pixels": int(sel.sum()),
               "area_msh": float(w.sum()), "lon_min": float(np.nanmin(lon)),
               "lon_max": float(np.nanmax(lon)), "bbox_y0": y0 + int(ys.min()),
               "bbox_y1": y0 + int(ys.max()) + 1, "bbox_x0": x0 + int(xs.min()),
               "bbox_x1": x0 + int(xs.max()) + 1}
        row["lon_span"] = row["lon_max"] - row["lon_min"]
        row.update(hgs_lon=clon, hgs_lat=clat)
        if kind == "AR":
            row["mask_area_msh"] = row["area_msh"]
        if kind == "AR" and b_los is not None:
            row.update(M.region_magnetics(b_los, labels == lab, g, radial=config.radial_flux))
            if config.ar_area == "field":
                row["area_msh"] = M.strong_field_area(
                    b_los[box], sel, g.area_msh[box], g.mu[box], config.ar_area_gauss,
                    config.mu_min)
        if kind == "CH":
            vals = b_los[box][sel] if b_los is not None else np.array([])
            vals = vals[np.isfinite(vals)]
            mean_b = float(vals.mean()) if vals.size else float("nan")
            row.update(mean_b=mean_b, polarity=int(np.sign(mean_b)) if vals.size else 0)
        if kind == "FL":
            i, j = _endpoints(lon, lat)
            row.update(end1_lon=float(lon[i]), end1_lat=float(lat[i]), end2_lon=float(lon[j]),
                       end2_lat=float(lat[j]))
            row["length_mm"] = float(np.deg2rad(C.great_circle_deg(lon[i], lat[i], lon[j], lat[j]))
                                     * g.rsun_m / 1e6)
        rows.append(row)
    cols = ENTITY_COLUMNS + {"AR": AR_COLUMNS, "CH": CH_COLUMNS, "FL": FL_COLUMNS}[kind]
    df = pd.DataFrame(rows, columns=cols)
    if len(df):
        lon, lat = df["hgs_lon"].to_numpy(), df["hgs_lat"].to_numpy()
        cc = FC.hgs_to_all(lon, lat, frame) if frame is not None else C.hgs_to_all(
            lon, lat, smap, assume_earth=config.assume_earth)
        for k in ("hpc_x", "hpc_y", "carr_lon", "carr_lat"):
            df[k] = cc[k]
    return df


def find_entities(masks, smap, *, b_los: np.ndarray | None = None,
                  config: RegionConfig | None = None,
                  geometry: C.MapGeometry | None = None) -> EntityResult:
    """Entities of every kind in ``masks`` on the grid of ``smap``.

    ``masks``: [3, H, W] (AR, CH, FL) array or a dict ``{"AR": [H, W], ...}`` (missing kinds are
    skipped). ``b_los``: LOS field in G on the same grid (e.g. from
    :func:`solarray.analysis.coords.resample_to`); without it magnetic columns are NaN.
    Off-disk mask pixels are ignored. Raises :class:`~solarray.analysis.coords.MissingObserverError`
    for maps without observer keywords (unless ``config.assume_earth``).
    """
    config = config or RegionConfig()
    if isinstance(masks, dict):
        mdict = {k: np.asarray(v) for k, v in masks.items()}
    else:
        arr = np.asarray(masks)
        if arr.ndim != 3 or arr.shape[0] != len(FEATURE_KINDS):
            raise ValueError(f"masks must be [3, H, W] (AR, CH, FL) or a dict, got shape {arr.shape}")
        mdict = dict(zip(FEATURE_KINDS, arr, strict=True))
    shape = tuple(smap.data.shape[-2:])
    for k, m in mdict.items():
        if k not in FEATURE_KINDS:
            raise ValueError(f"unknown mask kind {k!r}; expected one of {FEATURE_KINDS}")
        if m.shape != shape:
            raise ValueError(f"{k} mask shape {m.shape} does not match the map grid {shape}")
    if b_los is not None and np.asarray(b_los).shape != shape:
        raise ValueError(f"magnetogram shape {np.asarray(b_los).shape} does not match {shape}")
    frame = None
    if config.coords == "closed_form":
        if geometry is None:
            geometry, frame = FC.map_geometry(smap, mu_min=config.mu_min,
                                              assume_earth=config.assume_earth)
        else:
            frame = FC.observer_frame(smap, assume_earth=config.assume_earth)
    g = geometry or C.map_geometry(smap, mu_min=config.mu_min, assume_earth=config.assume_earth)
    notes = list(g.notes)
    labels: dict[str, np.ndarray] = {}
    tables = []
    for kind, m in mdict.items():
        m = (np.nan_to_num(np.asarray(m, dtype=float)) > 0) & g.on_disk
        if kind == "AR":
            eps = length_to_pixels(config.ar_eps, smap, g)
            ms = max(1, int(math.ceil(area_to_pixels(config.ar_min_density, smap, g))))
            cluster = grid_dbscan if config.ar_method == "components" else cluster_dbscan
            lab = cluster(m, eps, ms)
            lab = filter_small(lab, g.area_msh, config.ar_min_area_msh)
        else:
            merge = config.ch_merge if kind == "CH" else config.fl_merge
            min_a = config.ch_min_area_msh if kind == "CH" else config.fl_min_area_msh
            lab = connected_merge(m, length_to_pixels(merge, smap, g))
            lab = filter_small(lab, g.area_msh, min_a)
        labels[kind] = lab
        if not m.any():
            notes.append(f"{kind}: mask has no on-disk pixels")
        elif lab.max() == 0:
            notes.append(f"{kind}: all {int(m.sum())} mask pixels filtered (noise or small area)")
        tables.append(describe(lab, kind, smap, g, b_los=b_los, config=config, frame=frame))
    nonempty = [t for t in tables if len(t)]
    table = pd.concat(nonempty, ignore_index=True) if nonempty else pd.DataFrame(
        columns=ENTITY_COLUMNS)
    return EntityResult(table=table, labels=labels, geometry=g, notes=notes)
