"""Tracking entities across observations: differential rotation, overlap matching, stable numbers.

The previous observation's entities are rotated to the current time with sunpy's
``solar_rotate_coordinate`` (Howard differential rotation, seen from the current observer); each
rotated entity is matched to the current entity its pixels land in (largest overlap first,
one-to-one), then leftovers to the nearest rotated centre within ``max_distance_deg``. Matched
entities keep their number; new ones take the next free number of their kind. The label images
and tables come from :func:`solarray.analysis.regions.find_entities`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import astropy.units as u
import numpy as np
import pandas as pd
from astropy.coordinates import SkyCoord
from sunpy.coordinates import Heliocentric, HeliographicStonyhurst
from sunpy.physics.differential_rotation import solar_rotate_coordinate

from solarray.analysis import coords as C


@dataclass(frozen=True)
class TrackConfig:
    """Matching thresholds."""

    min_overlap: float = 0.2  # fraction of a previous entity's visible rotated points
    max_distance_deg: float = 8.0  # fallback: nearest rotated centre, great-circle deg
    max_points: int = 1500  # pixels sampled per previous entity (rotation cost)
    seed: int = 0


@dataclass
class _Prev:
    number: int
    lon: np.ndarray  # sampled pixel positions, Stonyhurst deg at the previous time
    lat: np.ndarray
    clon: float
    clat: float


def rotate_points(lon_deg: np.ndarray, lat_deg: np.ndarray, t_from, smap,
                  *, assume_earth: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rotate photospheric points (Stonyhurst, deg, at ``t_from``) to the time of ``smap``.

    Returns (x_pix, y_pix, visible) on ``smap``'s grid: pixel positions of the rotated points and
    whether they are on the visible disk (NaN pixel positions otherwise).
    """
    obs = C.observer(smap, assume_earth=assume_earth)
    lon = np.atleast_1d(np.asarray(lon_deg, dtype=float))
    lat = np.atleast_1d(np.asarray(lat_deg, dtype=float))
    if lon.size == 0:
        return np.array([]), np.array([]), np.array([], dtype=bool)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        c = SkyCoord(lon * u.deg, lat * u.deg, C.rsun_m(smap) * u.m,
                     frame=HeliographicStonyhurst(obstime=t_from))
        rot = solar_rotate_coordinate(c, observer=obs)  # obs.obstime is the map time
        # Visible if on the hemisphere facing the observer (z > 0 in heliocentric coordinates).
        z = rot.transform_to(Heliocentric(observer=obs, obstime=obs.obstime)).z.to_value(u.m)
        x, y = smap.world_to_pixel(rot)
    x = np.asarray(getattr(x, "value", x), dtype=float)
    y = np.asarray(getattr(y, "value", y), dtype=float)
    visible = np.isfinite(x) & np.isfinite(y) & (z > 0)
    x = np.where(visible, x, np.nan)
    y = np.where(visible, y, np.nan)
    return x, y, visible


class Tracker:
    """Keeps entity numbers stable across a time series of :class:`EntityResult` s.

    >>> tracker = Tracker()
    >>> table = tracker.update(result, smap)  # result.table["number"] replaced in place too
    """

    def __init__(self, config: TrackConfig = TrackConfig(), first_number: int = 1,
                 assume_earth: bool = False):
        self.config = config
        self.assume_earth = assume_earth
        self.next_number: dict[str, int] = {}
        self.first_number = first_number
        self._prev: dict[str, list[_Prev]] = {}
        self._prev_time = None
        self.matches: list[dict] = []  # how each entity of the last update was matched

    def _new(self, kind: str) -> int:
        n = self.next_number.get(kind, self.first_number)
        self.next_number[kind] = n + 1
        return n

    def update(self, result, smap) -> pd.DataFrame:
        """Assign stable numbers to ``result`` (entities of ``smap``'s time); returns its table."""
        table = result.table
        g = result.geometry
        rng = np.random.default_rng(self.config.seed)
        numbers = table["number"].to_numpy(copy=True) if len(table) else np.array([], dtype=int)
        self.matches = []
        new_prev: dict[str, list[_Prev]] = {}
        for kind, labels in result.labels.items():
            rows = np.nonzero((table["kind"] == kind).to_numpy())[0] if len(table) else []
            lab_of_row = {int(table["label"].iloc[i]): i for i in rows}
            assigned: dict[int, int] = {}  # label → number
            prevs = self._prev.get(kind, []) if self._prev_time is not None else []
            if prevs and lab_of_row:
                assigned = self._match(kind, prevs, labels, table, lab_of_row, smap)
            for lab, i in sorted(lab_of_row.items()):
                numbers[i] = assigned.get(lab) or self._new(kind)
            # Remember this step's entities (sampled pixels at this time).
            keep = []
            for lab, i in lab_of_row.items():
                ys, xs = np.nonzero(labels == lab)
                if ys.size > self.config.max_points:
                    pick = rng.choice(ys.size, self.config.max_points, replace=False)
                    ys, xs = ys[pick], xs[pick]
                keep.append(_Prev(int(numbers[i]), g.lon[ys, xs], g.lat[ys, xs],
                                  float(table["hgs_lon"].iloc[i]), float(table["hgs_lat"].iloc[i])))
            new_prev[kind] = keep
        if len(table):
            table["number"] = numbers.astype(int)
        self._prev = new_prev
        self._prev_time = smap.date
        return table

    def _match(self, kind, prevs, labels, table, lab_of_row, smap) -> dict[int, int]:
        cfg = self.config
        ny, nx = labels.shape
        scores = []  # (overlap fraction, prev index, label)
        centres = []
        for k, p in enumerate(prevs):
            x, y, vis = rotate_points(np.append(p.lon, p.clon), np.append(p.lat, p.clat),
                                      self._prev_time, smap, assume_earth=self.assume_earth)
            cx, cy, cvis = x[-1], y[-1], vis[-1]
            x, y, vis = x[:-1], y[:-1], vis[:-1]
            centres.append((cx, cy, cvis))
            if not vis.any():
                continue
            xi = np.clip(np.round(x[vis]).astype(int), 0, nx - 1)
            yi = np.clip(np.round(y[vis]).astype(int), 0, ny - 1)
            hit = labels[yi, xi]
            for lab, cnt in zip(*np.unique(hit[hit > 0], return_counts=True), strict=True):
                if int(lab) in lab_of_row:
                    scores.append((cnt / vis.sum(), k, int(lab)))
        assigned: dict[int, int] = {}
        used_prev: set[int] = set()
        for frac, k, lab in sorted(scores, reverse=True):
            if frac < cfg.min_overlap or k in used_prev or lab in assigned:
                continue
            assigned[lab] = prevs[k].number
            used_prev.add(k)
            self.matches.append({"kind": kind, "label": lab, "number": prevs[k].number,
                                 "method": "overlap", "score": float(frac)})
        # Fallback: nearest rotated centre (in the current map's Stonyhurst frame).
        g_lon, g_lat = [], []
        for cx, cy, cvis in centres:
            if cvis and 0 <= round(cx) < nx and 0 <= round(cy) < ny:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    w = smap.pixel_to_world(cx * u.pix, cy * u.pix).transform_to(
                        HeliographicStonyhurst(obstime=smap.date))
                g_lon.append(float(w.lon.wrap_at(180 * u.deg).to_value(u.deg)))
                g_lat.append(float(w.lat.to_value(u.deg)))
            else:
                g_lon.append(np.nan)
                g_lat.append(np.nan)
        for lab, i in lab_of_row.items():
            if lab in assigned:
                continue
            free = [k for k in range(len(prevs)) if k not in used_prev and np.isfinite(g_lon[k])]
            if not free:
                break
            d = C.great_circle_deg(np.array([g_lon[k] for k in free]),
                                   np.array([g_lat[k] for k in free]),
                                   float(table["hgs_lon"].iloc[i]), float(table["hgs_lat"].iloc[i]))
            j = int(np.argmin(d))
            if d[j] <= cfg.max_distance_deg:
                k = free[j]
                assigned[lab] = prevs[k].number
                used_prev.add(k)
                self.matches.append({"kind": kind, "label": lab, "number": prevs[k].number,
                                     "method": "nearest", "score": float(d[j])})
        return assigned
