"""What happened after a forecast: the ≥M outcome of its 24-h window, full disk and per region.

Pure functions of a flare list (``peak``, ``goes_class``, optional ``hgs_lon``/``hgs_lat``: the
flares the NOAA/SEPC rule detects on GOES XRS, :class:`~solarray.pipeline.flare_history.
FlareHistory`) and :func:`verify_pending`, which scores every stored forecast whose window the
XRS data now cover.

The window of a forecast at observation time t is [t, t + 24 h): a flare counts when its peak
falls in it. Per region, a flare with a position is rotated back to t (synodic rate) and given to
the region it lands in (:func:`~solarray.pipeline.flare_history.assign_flares`, the rule of the
flare index); a flare without a position leaves the per-region outcome unknown (no entry).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from solarray.core.geometry import synodic_rate
from solarray.core.goes import class_to_flux, goes_class
from solarray.live.store import WINDOW_HOURS, ForecastStore
from solarray.pipeline.flare_history import FlareHistory, assign_flares

EVENT_CLASS = "M1.0"


@dataclass(frozen=True)
class Outcome:
    observed: bool  # a flare ≥ EVENT_CLASS peaked in the window
    max_class: str  # largest class in the window ("" when no flare)
    regions: dict[int, int]  # region number → 0/1 (only when every ≥ event flare has a position)


def _window(events: pd.DataFrame, t: pd.Timestamp, hours: float) -> pd.DataFrame:
    peak = pd.to_datetime(events["peak"])
    return events[(peak >= t) & (peak < t + pd.Timedelta(hours=hours))]


def window_outcome(events: pd.DataFrame, t, regions: Sequence[dict] = (), *,
                   hours: float = WINDOW_HOURS, event_class: str = EVENT_CLASS,
                   assign_deg: float = 5.0) -> Outcome:
    """The outcome of the window [t, t + hours) for the disk and for ``regions`` (dicts with
    ``number``, ``hgs_lon``, ``hgs_lat``, ``area_msh`` at time t)."""
    t = pd.Timestamp(t)
    win = _window(events, t, hours)
    flux = np.array([class_to_flux(c) for c in win["goes_class"]], float)
    max_class = goes_class(float(flux.max())) if len(flux) else ""
    big = win[flux >= class_to_flux(event_class)] if len(flux) else win
    per_region: dict[int, int] = {}
    if len(regions):
        lon = pd.to_numeric(big.get("hgs_lon", pd.Series(np.nan, index=big.index)),
                            errors="coerce").to_numpy(float)
        lat = pd.to_numeric(big.get("hgs_lat", pd.Series(np.nan, index=big.index)),
                            errors="coerce").to_numpy(float)
        if np.all(np.isfinite(lon) & np.isfinite(lat)):
            dt_days = (pd.to_datetime(big["peak"]) - t).dt.total_seconds().to_numpy() / 86400.0
            table = pd.DataFrame(list(regions))
            hit = assign_flares(lon - synodic_rate(lat) * dt_days, lat, table, assign_deg)
            per_region = {int(n): int(n in set(hit.tolist())) for n in table["number"]}
    return Outcome(bool(len(big)), max_class, per_region)


def verify_pending(store: ForecastStore, history: FlareHistory, *,
                   hours: float = WINDOW_HOURS,
                   log: Callable[[str], None] = lambda s: None) -> int:
    """Give every stored forecast without an outcome, whose window ends at or before the XRS
    data's last valid minute, its outcome; returns how many were added. Nothing is decided
    without XRS coverage (``history.xrs_end`` ``None``)."""
    if history.xrs_end is None:
        return 0
    fc = store.forecasts()
    if not len(fc):
        return 0
    oc = store.outcomes()
    done = set(pd.to_datetime(oc["observation_time"])) if len(oc) else set()
    added = 0
    for _, row in fc.iterrows():
        t = pd.Timestamp(row["observation_time"])
        if t in done or t + pd.Timedelta(hours=hours) > history.xrs_end:
            continue
        out = window_outcome(history.events, t, json.loads(row["regions"]), hours=hours)
        store.add_outcome(t, out.observed, out.max_class, out.regions, history.source)
        added += 1
        log(f"verified {t:%Y-%m-%dT%H:%M}: {'≥M' if out.observed else 'no ≥M'} "
            f"(max {out.max_class or 'none'})")
    return added


__all__ = ["EVENT_CLASS", "Outcome", "verify_pending", "window_outcome"]
