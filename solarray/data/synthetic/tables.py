"""The synthetic Sun's ground-truth tables: ARs per time step, flares, GOES XRS, daily F10.7/F30.

Written to ``OUT/tables/``: ``ar.parquet``, ``events.parquet`` and ``events.csv``, ``xrs.parquet``
(1-min xrsa/xrsb, W m⁻²) and ``indices.parquet`` (daily F10.7 and F30, sfu; a day's value
describes the Sun at its measurement hour, :func:`~solarray.data.synthetic.activity.f107_series`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from astropy.time import Time, TimeDelta

from solarray.core.atomic import atomic_path
from solarray.core.geometry import Observer, carrington_longitude, hgs_to_hpc
from solarray.core.goes import goes_class
from solarray.data.synthetic import activity, model

AR_COLUMNS = ["t_obs", "ar_number", "hgs_lon", "hgs_lat", "carr_lon", "area_msh", "hale",
              "mcintosh", "flux_pos", "flux_neg", "complexity", "mu"]
EVENT_COLUMNS = ["start", "peak", "end", "goes_class", "peak_flux", "excess_flux", "ar_number",
                 "hgs_lon", "hgs_lat"]


def days_since(t: Time, t0: Time) -> float:
    """``t - t0`` in days."""
    return float((t - t0).to_value("day"))


def write_table(path: Path, df: pd.DataFrame) -> None:
    """``df`` as CSV (``.csv``) or Parquet, written atomically."""
    with atomic_path(path) as tmp:
        if path.suffix == ".csv":
            df.to_csv(tmp, index=False)
        else:
            df.to_parquet(tmp, index=False)


def ar_rows(sun: model.SunModel, t: Time, t_day: float, obs: Observer) -> list[dict]:
    """One row per AR visible (μ > 0.05, area > 0) at ``t`` (``t_day`` days into the run)."""
    rows = []
    for r in sun.active_regions:
        s = float(r.strength(t_day))
        if s <= 0:
            continue
        lon = float((r.lon(t_day) + 180.0) % 360.0 - 180.0)
        _, _, mu = hgs_to_hpc(np.array([lon]), np.array([r.lat]), obs)
        if mu[0] <= 0.05:
            continue
        area = model.active_area_msh(r, t_day)
        if area <= 0:
            continue
        rows.append({
            "t_obs": t.datetime, "ar_number": r.number, "hgs_lon": lon, "hgs_lat": r.lat,
            "carr_lon": float(carrington_longitude(lon, obs)), "area_msh": area,
            "hale": r.hale, "mcintosh": r.mcintosh_at(t_day),
            "flux_pos": s * sum(p.flux for p in r.poles if p.flux > 0),
            "flux_neg": s * sum(p.flux for p in r.poles if p.flux < 0),
            "complexity": r.complexity, "mu": float(mu[0]),
        })
    return rows


def event_table(sun: model.SunModel, t0: Time, xrs_t: np.ndarray, xrsb: np.ndarray) -> pd.DataFrame:
    """The flare list as observed in the XRS light curve ``xrsb`` at ``xrs_t`` (days since
    ``t0``): the flares GOES sees (not those on the far side, :func:`~solarray.data.synthetic.
    activity.seen_by_goes`)."""
    rows = []
    for f in sun.flares:
        if activity.seen_by_goes(sun, f) <= 0:
            continue
        # The observed peak: the light-curve maximum within 3 min of the flare's own maximum.
        near = np.flatnonzero(np.abs(xrs_t - f.peak_time) <= 3.0 / 1440.0)
        i = int(near[np.argmax(xrsb[near])])
        reg = sun.region(f.ar_number)
        lat = reg.lat + f.site[1]
        lon = float((reg.lon(f.peak_time) + 180) % 360 - 180) + f.site[0] / np.cos(np.radians(reg.lat))
        peak = float(xrsb[i])
        rows.append({
            "start": (t0 + TimeDelta(f.start_time, format="jd")).datetime,
            "peak": (t0 + TimeDelta(float(xrs_t[i]), format="jd")).datetime,
            "end": (t0 + TimeDelta(f.end_time, format="jd")).datetime,
            "goes_class": goes_class(peak), "peak_flux": peak,
            "excess_flux": f.excess_flux, "ar_number": f.ar_number,
            "hgs_lon": lon, "hgs_lat": lat,
        })
    df = pd.DataFrame(rows, columns=EVENT_COLUMNS)
    for c in ("start", "peak", "end"):
        df[c] = pd.to_datetime(df[c], utc=True)
    return df


def write_tables(tables: Path, sun: model.SunModel, t0: Time, days: float, seed: int,
                 rows: list[dict], xrs_t: np.ndarray, xrsa: np.ndarray,
                 xrsb: np.ndarray) -> pd.DataFrame:
    """Write every table of a run of ``days`` from ``t0`` into ``tables``; returns the events.

    ``rows``: the :func:`ar_rows` of every time step; ``xrs_t`` (days since ``t0``), ``xrsa``,
    ``xrsb`` (W m⁻²): the 1-min GOES XRS series.
    """
    ar = pd.DataFrame(rows, columns=AR_COLUMNS)
    ar["t_obs"] = pd.to_datetime(ar["t_obs"], utc=True)
    write_table(tables / "ar.parquet", ar)
    events = event_table(sun, t0, xrs_t, xrsb)
    write_table(tables / "events.parquet", events)
    write_table(tables / "events.csv", events)
    xrs_times = t0 + TimeDelta(xrs_t, format="jd")
    write_table(tables / "xrs.parquet", pd.DataFrame({
        "time": pd.to_datetime(xrs_times.datetime, utc=True), "xrsa": xrsa, "xrsb": xrsb}))
    first_day = Time(t0.datetime.strftime("%Y-%m-%d")) - TimeDelta(1, format="jd")
    n_days = int(np.ceil(days)) + 3
    day_offsets = np.array([days_since(first_day + TimeDelta(k, format="jd"), t0)
                            for k in range(n_days)])
    f107, f30 = activity.f107_series(sun, day_offsets, seed)
    write_table(tables / "indices.parquet", pd.DataFrame({
        "date": [(first_day + TimeDelta(k, format="jd")).datetime.date() for k in range(n_days)],
        "f107": f107, "f30": f30}))
    return events


__all__ = ["AR_COLUMNS", "EVENT_COLUMNS", "ar_rows", "days_since", "event_table", "write_table",
           "write_tables"]
