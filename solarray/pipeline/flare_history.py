"""Flare history for the forecaster: GOES XRS → detected flares → flare index per disk and region.

A :class:`FlareHistory` is loaded once (per IATools replica) from a configured source:

* ``xrs``: a GOES XRS file (FITS/netCDF via sunpy, or a ``time, xrsa, xrsb`` parquet/CSV such as the
  synthetic Sun's ``tables/xrs.parquet``) — flares are detected with the NOAA/SEPC rule
  (:func:`solarray.analysis.flares.detect_flares`);
* ``events`` (optional): a table of *located* flares (``peak``, ``goes_class``, ``hgs_lon``,
  ``hgs_lat``; the synthetic ``tables/events.parquet``, or a list derived from AIA 193 Å
  localisation). Detected flares take the position of the located flare peaking within
  ``match_minutes``; without XRS the located table is the history itself;
* ``indices`` (optional): daily ``date, f107`` (sfu), FPNet's F10.7 feature (at an observation:
  the latest value measured by then).

A directory is read as a synthetic-Sun ``tables/`` directory (or its parent). The files are read
by :mod:`solarray.data.tables` (:func:`~solarray.data.tables.goes_xrs.read_xrs`,
:func:`~solarray.data.tables.events.read_flare_events`,
:func:`~solarray.data.tables.indices.read_indices`); a source that cannot be read is a
:class:`FlareSourceError` naming the file.

Flare index (:mod:`solarray.analysis.flare_index`): by default ``100·N_X + 10·N_M + 1·N_C`` over
the flares ≥ C5.0 peaking in the last 24 h (``min_class``/``weighting`` options). Per region: each
located flare is rotated (Snodgrass & Ulrich 1990 synodic rate) from its peak time to the
observation time and assigned to the nearest region whose equivalent radius + ``assign_deg``
contains it. A history without located flares (XRS alone) gives an *unknown* per-region index
(NaN), never 0; with locations, a region without flares in the window has 0. The disk index is
known whenever a source is configured.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from solarray.analysis import flares as F
from solarray.analysis.flare_index import FI_COLUMNS, FI_MIN_CLASS, flare_index
from solarray.core.geometry import great_circle_deg, synodic_rate
from solarray.data.tables.events import read_flare_events
from solarray.data.tables.goes_xrs import XRSReadError
from solarray.data.tables.indices import index_at, read_indices
from solarray.data.tables.table import TableError, naive_utc


class FlareSourceError(ValueError):
    """A configured flare-history source that cannot be read (names the file)."""


@dataclass
class FlareHistory:
    """Flares (``peak``, ``goes_class``, optional ``hgs_lon``/``hgs_lat``) and daily F10.7."""

    events: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=["peak", "goes_class", "hgs_lon", "hgs_lat"]))
    f107: pd.Series | None = None  # index: date (Timestamp, midnight UTC), values sfu
    source: str = "none"
    notes: list[str] = field(default_factory=list)
    #: last minute with a valid 1–8 Å flux (naive UTC); ``None`` without an XRS source, when
    #: flares after it cannot be known yet (continuous verification waits for it)
    xrs_end: pd.Timestamp | None = None
    #: first minute with a valid 1–8 Å flux (naive UTC; ``None`` without an XRS source): how
    #: far back the history reaches (the degraded full-disk fallback's rate)
    xrs_start: pd.Timestamp | None = None

    @classmethod
    def load(cls, xrs: str | None = None, events: str | None = None, indices: str | None = None,
             *, match_minutes: float = 10.0) -> FlareHistory:
        """Read the configured sources (see the module docstring); all are optional."""
        xrs, events, indices, notes = _resolve(xrs, events, indices)
        located = _read_events(events) if events else None
        src, xrs_end, xrs_start = [], None, None
        if xrs:
            try:
                detected, data = F.detect_from_file(xrs)
            except XRSReadError as err:
                raise FlareSourceError(str(err)) from err
            valid = data.flux["xrsb"].dropna().index
            xrs_end = naive_utc(pd.Series(valid[-1:])).iloc[0] if len(valid) else None
            xrs_start = naive_utc(pd.Series(valid[:1])).iloc[0] if len(valid) else None
            detected = detected[["start", "peak", "end", "goes_class", "peak_flux"]].copy()
            detected["peak"] = naive_utc(detected["peak"])
            src.append(f"xrs:{Path(xrs).name}")
            if located is not None and len(located) and len(detected):
                detected = _attach_locations(detected, located, match_minutes)
                src.append(f"located:{Path(events).name}")
            else:
                detected["hgs_lon"] = np.nan
                detected["hgs_lat"] = np.nan
            ev = detected
        elif located is not None:
            ev = located
            src.append(f"events:{Path(events).name}")
        else:
            ev = cls().events
            notes.append("no GOES source configured: flare index unknown")
        f107 = _read_f107(indices) if indices else None
        if indices:
            src.append(f"indices:{Path(indices).name}")
        return cls(ev.reset_index(drop=True), f107, "+".join(src) or "none", notes, xrs_end,
                   xrs_start)

    @property
    def configured(self) -> bool:
        return self.source != "none"

    def f107_at(self, t_obs) -> float:
        """F10.7 (sfu) measured last at or before ``t_obs`` (the previous day's before 20 UT,
        :func:`~solarray.data.tables.indices.index_at`); NaN when unknown."""
        if self.f107 is None or not len(self.f107):
            return float("nan")
        return float(index_at(self.f107, [t_obs])[0])

    @property
    def located(self) -> bool:
        """Whether any flare has a position (finite ``hgs_lon`` and ``hgs_lat``), i.e. whether
        flares can be credited to regions at all."""
        ev = self.events
        if not {"hgs_lon", "hgs_lat"} <= set(ev.columns):
            return False
        lon = pd.to_numeric(ev["hgs_lon"], errors="coerce").to_numpy(float)
        lat = pd.to_numeric(ev["hgs_lat"], errors="coerce").to_numpy(float)
        return bool(np.any(np.isfinite(lon) & np.isfinite(lat)))

    def disk_index(self, t_obs, window_hours: float = 24.0, *, min_class: str = FI_MIN_CLASS,
                   weighting: str = "count") -> dict[str, float]:
        """Full-disk flare index and counts (``fi, n_c, n_m, n_x, n``) over
        (t_obs − window, t_obs]."""
        disk, _ = flare_index(self.events, t_obs, window_hours=window_hours, by=None,
                                min_class=min_class, weighting=weighting)
        return disk

    def region_index(self, t_obs, regions: pd.DataFrame, *, assign_deg: float = 5.0,
                     window_hours: float = 24.0, min_class: str = FI_MIN_CLASS,
                     weighting: str = "count") -> pd.DataFrame:
        """Per-region flare index: columns ``number, fi, n_c, n_m, n_x, n`` (float), 0 for a
        region without flares in the window, NaN (unknown) for every region when the history
        has no located flare (:attr:`located`).

        ``regions`` needs ``number``, ``hgs_lon``, ``hgs_lat``, ``area_msh``.
        """
        cols = list(FI_COLUMNS)
        out = pd.DataFrame({"number": regions["number"].to_numpy()})
        out[cols] = 0.0 if self.located else np.nan
        if not self.located or not len(regions):
            return out
        t_ref = pd.Timestamp(t_obs)
        ev = self.events.dropna(subset=["hgs_lon", "hgs_lat"]).copy()
        dt_days = (t_ref - pd.to_datetime(ev["peak"])).dt.total_seconds().to_numpy() / 86400.0
        lon = ev["hgs_lon"].to_numpy(float) + synodic_rate(ev["hgs_lat"].to_numpy()) * dt_days
        lat = ev["hgs_lat"].to_numpy(float)
        ev["number"] = assign_flares(lon, lat, regions, assign_deg)
        _, per = flare_index(ev[ev["number"] >= 0], t_ref, window_hours=window_hours,
                               by="number", min_class=min_class, weighting=weighting)
        if len(per):
            out = out.drop(columns=cols).merge(per, on="number", how="left")
            out[cols] = out[cols].astype(float).fillna(0.0)
        return out


def assign_flares(lon: np.ndarray, lat: np.ndarray, regions: pd.DataFrame,
                  assign_deg: float = 5.0) -> np.ndarray:
    """The region ``number`` each flare position (Stonyhurst ``lon``, ``lat``, deg, already
    rotated to the regions' time) belongs to: the nearest region whose disk-equivalent radius
    (from ``area_msh``) plus ``assign_deg`` reaches it; -1 for none. ``regions`` needs
    ``number``, ``hgs_lon``, ``hgs_lat``, ``area_msh``."""
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    if not len(lon) or not len(regions):
        return np.full(len(lon), -1, dtype=np.int64)
    rlon, rlat = regions["hgs_lon"].to_numpy(float), regions["hgs_lat"].to_numpy(float)
    radius = np.degrees(np.sqrt(2e-6 * np.clip(regions["area_msh"].to_numpy(float), 0, None)))
    d = great_circle_deg(lon[:, None], lat[:, None], rlon[None, :], rlat[None, :])
    d = np.where(d <= radius[None, :] + assign_deg, d, np.inf)
    best = np.argmin(d, axis=1)
    hit = np.isfinite(d[np.arange(len(lon)), best])
    return np.where(hit, regions["number"].to_numpy()[best], -1).astype(np.int64)


def _resolve(xrs, events, indices):
    notes: list[str] = []
    for name, value in (("xrs", xrs), ("events", events), ("indices", indices)):
        if value and not Path(value).exists():
            raise FlareSourceError(f"{name}: {value}: no such file")
    # A directory: a synthetic-Sun output (or its tables/) supplies every missing piece.
    d = next((Path(p) for p in (xrs, events, indices) if p and Path(p).is_dir()), None)
    if d is not None:
        tables = d / "tables" if (d / "tables").is_dir() else d
        pick = {n: tables / f"{n}.parquet" for n in ("xrs", "events", "indices")}
        xrs = str(pick["xrs"]) if (not xrs or Path(xrs).is_dir()) and pick["xrs"].exists() else xrs
        events = str(pick["events"]) if (not events or Path(events).is_dir()) \
            and pick["events"].exists() else events
        indices = str(pick["indices"]) if (not indices or Path(indices).is_dir()) \
            and pick["indices"].exists() else indices
        for name, value in (("xrs", xrs), ("events", events), ("indices", indices)):
            if value and Path(value).is_dir():
                raise FlareSourceError(f"{name}: {value}: directory has no {name}.parquet")
    return xrs, events, indices, notes


def _read_events(path: str) -> pd.DataFrame:
    try:
        df = read_flare_events(path, required=("peak", "goes_class"))
    except TableError as err:
        raise FlareSourceError(str(err)) from err
    return df[["peak", "goes_class", "hgs_lon", "hgs_lat"]].reset_index(drop=True)


def _attach_locations(detected: pd.DataFrame, located: pd.DataFrame,
                      match_minutes: float) -> pd.DataFrame:
    """Give each detected flare the position of the located flare peaking nearest (≤ tolerance)."""
    det = detected.sort_values("peak").reset_index(drop=True)
    loc = located.dropna(subset=["hgs_lon"]).sort_values("peak")[["peak", "hgs_lon", "hgs_lat"]]
    if not len(loc):
        det["hgs_lon"] = np.nan
        det["hgs_lat"] = np.nan
        return det
    merged = pd.merge_asof(det, loc, on="peak", direction="nearest",
                           tolerance=pd.Timedelta(minutes=match_minutes))
    return merged


def _read_f107(path: str) -> pd.Series:
    try:
        return read_indices(path, ("f107",))["f107"].rename(None)
    except TableError as err:
        raise FlareSourceError(str(err)) from err


__all__ = ["FlareHistory", "FlareSourceError", "assign_flares"]
