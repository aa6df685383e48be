"""FPNet's training tables, built by the served chain: what the forecaster trains on is what it
is served.

For every sample of a synthetic forecasting set (:mod:`solarray.data.synthetic.forecast_set`),
the cycle the service runs (:func:`solarray.pipeline.batch.forecast_shards`: SPNet masks →
IATools regions, areas, Schrijver R from the magnetogram, CNN Hale/McIntosh classes, flare index
from the run's GOES XRS flare history located with the event list, F10.7 measured by then) gives
one row per detected region and one per observation. Their feature columns are
:func:`~solarray.forecast.features.region_features` / ``disk_features`` of IATools' output —
the dicts the forecast stage hands FPNet — and ``pixel_x``/``pixel_y`` are the region's centre
on the shard grid, where the served crop is cut; ``n_m``/``n_x`` (≥M flares of the flare index's
past 24 h) feed the persistence baseline.

The synthetic truth enters only as labels and scoring keys, never as a feature:

* ``label``: a ≥M1.0 flare starting in (t, t + 24 h] located in the region — its position
  rotated (Snodgrass & Ulrich 1990 synodic rate) from its peak to t and assigned by the flare
  index's own rule (:func:`~solarray.pipeline.flare_history.assign_flares`);
* ``disk_label`` (per-region table) / ``label`` (disk table): any ≥M1.0 flare starting in
  (t, t + 24 h];
* ``truth_ar``: the true region nearest the detected centre within its radius + ``assign_deg``
  (−1: none), so scores can be bootstrapped over physical regions.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from solarray.core.geometry import great_circle_deg, synodic_rate
from solarray.data.shard_reader import sample_ids as shard_ids
from solarray.data.synthetic import forecast_set
from solarray.data.tables.table import read_table
from solarray.data.tables.truth import read_truth_events
from solarray.forecast.features import M1_FLUX, disk_features, flare_labels, region_features
from solarray.pipeline.batch import forecast_shards
from solarray.pipeline.config import CycleConfig
from solarray.pipeline.cycle import CycleResult
from solarray.pipeline.flare_history import FlareHistory, assign_flares
from solarray.pipeline.model_set import ModelSet

#: Roles the tables need: perception and analysis (FPNet is what they train).
TABLE_ROLES = ("spnet", "hale", "mcintosh")


@dataclass
class PipelineTables:
    """``ar``: one row per detected region per sample; ``disk``: one row per sample."""

    ar: pd.DataFrame
    disk: pd.DataFrame


def region_labels(events: pd.DataFrame | None, t_obs, regions: pd.DataFrame,
                  horizon_hours: float = 24.0, assign_deg: float = 5.0,
                  min_flux: float = M1_FLUX) -> np.ndarray:
    """1 for each region (``number, hgs_lon, hgs_lat, area_msh`` at ``t_obs``) where a flare ≥
    ``min_flux`` starts in (t_obs, t_obs + horizon] at a position that, rotated back from its
    peak to ``t_obs``, falls in the region (:func:`assign_flares`); else 0. int64 ``[N]``."""
    out = np.zeros(len(regions), np.int64)
    if events is None or not len(events) or not len(regions):
        return out
    t = pd.Timestamp(t_obs)
    start = pd.to_datetime(events["start"])
    sel = ((start > t) & (start <= t + pd.Timedelta(hours=horizon_hours))
           & (events["peak_flux"].to_numpy(float) >= min_flux * (1 - 1e-9))).to_numpy()
    ev = events[sel].dropna(subset=["hgs_lon", "hgs_lat"])
    if not len(ev):
        return out
    dt_days = (t - pd.to_datetime(ev["peak"])).dt.total_seconds().to_numpy() / 86400.0
    lon = ev["hgs_lon"].to_numpy(float) + synodic_rate(ev["hgs_lat"].to_numpy(float)) * dt_days
    hit = assign_flares(lon, ev["hgs_lat"].to_numpy(float), regions, assign_deg)
    numbers = regions["number"].to_numpy()
    return np.isin(numbers, hit[hit >= 0]).astype(np.int64)


def truth_match(truth: pd.DataFrame, regions: pd.DataFrame, assign_deg: float = 5.0) -> np.ndarray:
    """The true ``ar_number`` (rows of ``truth`` at the regions' time: ``ar_number, hgs_lon,
    hgs_lat``) nearest each detected region's centre (``hgs_lon, hgs_lat, area_msh``) within the
    region's disk-equivalent radius + ``assign_deg``; −1 for none. For scoring only."""
    out = np.full(len(regions), -1, np.int64)
    if not len(truth) or not len(regions):
        return out
    d = great_circle_deg(regions["hgs_lon"].to_numpy(float)[:, None],
                         regions["hgs_lat"].to_numpy(float)[:, None],
                         truth["hgs_lon"].to_numpy(float)[None, :],
                         truth["hgs_lat"].to_numpy(float)[None, :])
    radius = np.degrees(np.sqrt(2e-6 * np.clip(regions["area_msh"].to_numpy(float), 0, None)))
    best = np.argmin(d, axis=1)
    ok = d[np.arange(len(regions)), best] <= radius + assign_deg
    out[ok] = truth["ar_number"].to_numpy(np.int64)[best[ok]]
    return out


def observation_rows(result: CycleResult) -> tuple[list[dict], dict]:
    """(per-region rows, disk row) of one cycle: identity, position and exactly the feature
    values the forecast stage gives FPNet for this observation."""
    a = result.analysis
    t = pd.Timestamp(result.sample.t_obs).tz_localize(None) \
        if pd.Timestamp(result.sample.t_obs).tzinfo else pd.Timestamp(result.sample.t_obs)
    sid = result.sample.sample_id
    ars = [{"t_obs": t, "sample_id": sid, "ar_number": int(r["number"]),
            "hgs_lon": r["hgs_lon"], "hgs_lat": r["hgs_lat"], "pixel_x": r["pixel_x"],
            "pixel_y": r["pixel_y"], **region_features(r, a.disk), **_past_flares(r)}
           for r in a.ars]
    disk = {"t_obs": t, "sample_id": sid, **disk_features(a.disk), **_past_flares(a.disk)}
    return ars, disk


def _past_flares(row) -> dict:
    """M- and X-class flare counts of the flare index's window (persistence's input)."""
    return {"n_m": row.get("n_m"), "n_x": row.get("n_x")}


def run_sample_ids(root: str | os.PathLike) -> dict[Path, list[str]]:
    """Each run directory of the forecasting set in ``root`` → the ``sample_id`` s of its
    observations in ``root/shards`` (oldest first)."""
    root = Path(root)
    spec = json.loads((root / forecast_set.RUNS_FILE).read_text())
    ids = shard_ids(root / "shards")
    times = pd.to_datetime(pd.Series(ids))
    out = {}
    for r, d in zip(spec["runs"], forecast_set.run_dirs(root), strict=True):
        t0 = pd.Timestamp(r["start"])
        t0 = t0.tz_localize(None) if t0.tzinfo else t0
        t1 = t0 + pd.Timedelta(days=float(r["days"])) + pd.Timedelta(minutes=1)
        out[d] = [s for s, t in zip(ids, times, strict=True) if t0 <= t < t1]
    return out


def run_tables(run_dir: str | os.PathLike):
    """One synthetic run's tables: (the flare history the served chain reads, the truth's event
    list, its AR table, the AR table's times tz-naive UTC)."""
    tables = Path(run_dir) / "tables"
    history = FlareHistory.load(xrs=str(tables / "xrs.parquet"),
                                events=str(tables / "events.parquet"),
                                indices=str(tables / "indices.parquet"))
    truth = read_table(tables / "ar.parquet", "AR truth table")
    return (history, read_truth_events(tables), truth,
            pd.to_datetime(truth["t_obs"], utc=True).dt.tz_localize(None))


def build_tables(root: str | os.PathLike, models: ModelSet, *, config: CycleConfig | None = None,
                 assign_deg: float = 5.0,
                 progress: Callable[[str, int, int], None] | None = None) -> PipelineTables:
    """Run perception and analysis (``models``' SPNet and classifiers) over every sample of the
    forecasting set in ``root`` (``root/shards``, ``root/synth/<run>/tables``) and label the rows
    (module docstring). ``progress(run, i, n)`` after each sample."""
    root = Path(root)
    shards = root / "shards"
    ar_rows: list[dict] = []
    disk_rows: list[dict] = []
    for run_dir, ids in run_sample_ids(root).items():
        history, events, truth, truth_t = run_tables(run_dir)
        for i, result in enumerate(forecast_shards(shards, models, history=history,
                                                   config=config, sample_ids=ids)):
            ars, disk = observation_rows(result)
            t = disk["t_obs"]
            regions = pd.DataFrame([{"number": r["ar_number"], "hgs_lon": r["hgs_lon"],
                                     "hgs_lat": r["hgs_lat"], "area_msh": r["area_msh"] or 0.0}
                                    for r in ars], columns=["number", "hgs_lon", "hgs_lat",
                                                            "area_msh"])
            labels = region_labels(events, t, regions, assign_deg=assign_deg)
            now = truth[(truth_t - t).abs() <= pd.Timedelta(minutes=6)]
            matched = truth_match(now, regions, assign_deg)
            disk_label = int(flare_labels(events, [t])[0]) if events is not None else -1
            for r, lab, m in zip(ars, labels, matched, strict=True):
                ar_rows.append({**r, "label": int(lab), "disk_label": disk_label,
                                "truth_ar": int(m), "run": run_dir.name})
            disk_rows.append({**disk, "label": disk_label, "run": run_dir.name})
            if progress is not None:
                progress(run_dir.name, i + 1, len(ids))
    return PipelineTables(pd.DataFrame(ar_rows), pd.DataFrame(disk_rows))


__all__ = ["TABLE_ROLES", "PipelineTables", "build_tables", "observation_rows", "region_labels",
           "run_sample_ids", "run_tables", "truth_match"]
