"""Skill with each input removed: the benchmark Sun's test Suns through the served cycle, once with
every channel and once without each one.

Every observation of the test Suns (the benchmark Sun's test month, minus the 24-h gaps of the
split, :func:`solarray.data.dataset.assign_splits`) goes through the cycle the service runs
(:func:`~solarray.pipeline.cycle.run_cycle`: SPNet → IATools → FPNet with a serving checkpoint
set and the Sun's flare history) with all channels (``all``) and with each channel the models
read removed (``no_<channel>``: its plane NaN and flagged absent, what a missing upload becomes;
the cycle then degrades as :mod:`solarray.pipeline.degraded` decides — without ``hmi_m`` the full
disk is the flare-history fallback and no region is forecast). One diagnostic arm is not
served: ``fpnet_no_hmi_m``, FPNet made to forecast without the magnetogram anyway (what the
fallback replaces).

Labels are those of FPNet's tables (:mod:`solarray.pipeline.feature_tables`): the full disk, a
≥M1 flare starting in (t, t + 24 h]; a region, such a flare located in it. Scores: ROCA and BSS
of the probabilities as served (no recalibration), with 95 % bootstrap intervals resampling days
(full disk) or physical regions (per region: the true region a detection matched, an unmatched
one its own group); for the full disk also the paired difference ``all`` − arm on the same
observations. Per-region scores of different arms are over the regions each arm detected.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from solarray.data.dataset import assign_splits
from solarray.data.shard_reader import iter_rows
from solarray.forecast.features import flare_labels
from solarray.metrics.bootstrap import SCORES, interval, paired_interval
from solarray.pipeline.config import CycleConfig
from solarray.pipeline.cycle import CycleResult, run_cycle, stage_channels
from solarray.pipeline.degraded import MAGNETOGRAM
from solarray.pipeline.feature_tables import region_labels, run_sample_ids, run_tables, truth_match
from solarray.pipeline.forecast_stage import Forecast, forecast
from solarray.pipeline.inputs import InputConfig, sample_from_row
from solarray.pipeline.model_set import ModelSet
from solarray.pipeline.sample import Sample

ALL = "all"
#: The diagnostic arm: FPNet forecasting without the magnetogram (not what the service does).
FPNET_NO_B = f"fpnet_no_{MAGNETOGRAM}"


@dataclass
class DegradedInputsConfig:
    """``suns``: the first N test Suns (None: all); ``every``: every k-th observation of each."""

    root: str = ".cache/benchmark_sun"
    checkpoint_dir: str = ".cache/benchmark_runs/chain_serving"
    suns: int | None = None
    every: int = 1
    n_boot: int = 1000
    val_months: tuple[int, ...] = (3,)
    test_months: tuple[int, ...] = (1,)
    gap_hours: float = 24.0


def without(sample: Sample, channel: str) -> Sample:
    """``sample`` with ``channel`` missing: its plane NaN and flagged absent (and no unclipped
    magnetogram without ``hmi_m``)."""
    i = sample.channels.index(channel)
    image, present = sample.image.copy(), sample.present.copy()
    image[i], present[i] = np.nan, False
    b_los = None if channel == MAGNETOGRAM else sample.b_los
    return replace(sample, image=image, present=present, b_los=b_los)


def test_runs(cfg: DegradedInputsConfig) -> dict[Path, list[str]]:
    """The test Suns' observations (``sample_id`` s, every ``cfg.every``-th), first ``cfg.suns``
    Suns."""
    out = {}
    for run_dir, ids in run_sample_ids(cfg.root).items():
        split = assign_splits(pd.to_datetime(pd.Series(ids)).to_numpy(), cfg.val_months,
                              cfg.test_months, cfg.gap_hours)
        keep = [s for s, k in zip(ids, split, strict=True) if k == "test"][::cfg.every]
        if keep:
            out[run_dir] = keep
    runs = list(out.items())[: cfg.suns] if cfg.suns else list(out.items())
    return dict(runs)


def _rows(arm: str, run: str, result: CycleResult, fc: Forecast, events, truth_now,
          assign_deg: float) -> tuple[dict, list[dict]]:
    """(full-disk row, per-region rows) of one arm on one observation, labelled."""
    t = pd.Timestamp(result.sample.t_obs)
    t = t.tz_convert("UTC").tz_localize(None) if t.tzinfo is not None else t
    disk = {"arm": arm, "run": run, "time": t, "probability": fc.full_disk,
            "observed": int(flare_labels(events, [t])[0]) if events is not None else -1,
            "fallback": (result.analysis.fallback.method
                         if result.analysis.fallback is not None else "")}
    ars = [r for r in result.analysis.ars if fc.regions.get(r["number"]) is not None
           and r.get("hgs_lon") is not None]
    regions = pd.DataFrame([{"number": r["number"], "hgs_lon": r["hgs_lon"],
                             "hgs_lat": r["hgs_lat"], "area_msh": r["area_msh"] or 0.0}
                            for r in ars], columns=["number", "hgs_lon", "hgs_lat", "area_msh"])
    labels = region_labels(events, t, regions, assign_deg=assign_deg)
    matched = truth_match(truth_now, regions, assign_deg)
    rows = [{"arm": arm, "run": run, "time": t, "ar": int(r["number"]),
             "probability": fc.regions[r["number"]], "observed": int(lab), "truth_ar": int(m)}
            for r, lab, m in zip(ars, labels, matched, strict=True)]
    return disk, rows


def replay(cfg: DegradedInputsConfig, models: ModelSet, config: CycleConfig | None = None,
           log: Callable[[str], None] = print) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Every arm on every test observation → (full-disk rows, per-region rows, seconds per
    cycle by arm)."""
    config = config or CycleConfig()
    root = Path(cfg.root)
    channels = list(dict.fromkeys(c for chans in stage_channels(models).values() for c in chans))
    arms = [ALL, *(f"no_{c}" for c in channels)]
    disk_rows, region_rows = [], []
    seconds: dict[str, list[float]] = {a: [] for a in arms}
    inputs = InputConfig(accepted=tuple(channels), dataset_roots=(str(root / "shards"),))
    runs = test_runs(cfg)
    for k, (run_dir, ids) in enumerate(runs.items()):
        history, events, truth, truth_t = run_tables(run_dir)
        t0 = time.perf_counter()
        for row in iter_rows(root / "shards", ids):
            full = sample_from_row(row, inputs, root / "shards")
            now = truth[(truth_t - pd.Timestamp(row.t_obs)).abs() <= pd.Timedelta(minutes=6)]
            for arm in arms:
                sample = full if arm == ALL else without(full, arm[3:])
                t = time.perf_counter()
                result = run_cycle(sample, models, config, history=history)
                seconds[arm].append(time.perf_counter() - t)
                d, r = _rows(arm, run_dir.name, result, result.forecast, events, now,
                             config.assign_deg)
                disk_rows.append(d)
                region_rows += r
                if arm == f"no_{MAGNETOGRAM}":  # the diagnostic: FPNet anyway
                    fc = forecast(models.optional("fpnet_full_disk"), models.optional("fpnet_ar"),
                                  [sample], [result.analysis], config.max_regions)[0]
                    d, r = _rows(FPNET_NO_B, run_dir.name, result, fc, events, now,
                                 config.assign_deg)
                    disk_rows.append({**d, "fallback": ""})
                    region_rows += r
        log(f"[degraded] Sun {k + 1}/{len(runs)} {run_dir.name}: {len(ids)} observations × "
            f"{len(arms)} arms in {time.perf_counter() - t0:.0f} s")
    cols = ["arm", "run", "time", "ar", "probability", "observed", "truth_ar"]
    return (pd.DataFrame(disk_rows), pd.DataFrame(region_rows, columns=cols),
            {a: float(np.median(v)) for a, v in seconds.items() if v})


def _groups(df: pd.DataFrame, per_region: bool) -> np.ndarray:
    """Bootstrap groups: the day within its Sun (full disk); the physical region within its
    Sun, an unmatched detection its own group (per region)."""
    if not per_region:
        return (df["run"].astype(str) + ":" + df["time"].astype(str).str[:10]).to_numpy()
    own = "unmatched:" + df.index.astype(str)
    key = df["run"].astype(str) + ":" + df["truth_ar"].astype(str)
    return np.where(df["truth_ar"].to_numpy() >= 0, key, own)


def score(df: pd.DataFrame, per_region: bool, n_boot: int) -> dict[str, Any]:
    """ROCA and BSS with bootstrap intervals of one arm's forecasts (rows with a label and a
    probability); ``{"n": 0}`` when the arm made none."""
    df = df[(df["observed"] >= 0) & df["probability"].notna()].reset_index(drop=True)
    if not len(df):
        return {"n": 0}
    y, p = df["observed"].to_numpy(), df["probability"].to_numpy(float)
    out: dict[str, Any] = {"n": int(len(df)), "events": int(y.sum()),
                           "mean_probability": float(p.mean())}
    groups = _groups(df, per_region)
    for name, fn in SCORES.items():
        out[name] = interval(fn, y, p, groups, n_boot=n_boot)
    return out


def paired(disk: pd.DataFrame, arm: str, n_boot: int) -> dict[str, Any]:
    """Full disk, ``all`` − ``arm`` (ROCA, BSS) on the observations both forecast."""
    keys = ["run", "time"]
    a = disk[disk["arm"] == ALL]
    b = disk[disk["arm"] == arm][[*keys, "probability"]]
    both = a.merge(b, on=keys, how="inner", suffixes=("", "_arm"))
    both = both[(both["observed"] >= 0) & both["probability"].notna()
                & both["probability_arm"].notna()].reset_index(drop=True)
    if not len(both):
        return {"n": 0}
    groups = _groups(both, per_region=False)
    y = both["observed"].to_numpy()
    out = {name: paired_interval(fn, y, both["probability"].to_numpy(float),
                                 both["probability_arm"].to_numpy(float), groups, n_boot=n_boot)
           for name, fn in SCORES.items()}
    return {**out, "n": int(len(both))}


def run(cfg: DegradedInputsConfig, models: ModelSet, log: Callable[[str], None] = print
        ) -> dict[str, Any]:
    """Replay, then score every arm: ``{"full_disk": {arm: …}, "regions": {arm: …},
    "paired_full_disk": {arm: all − arm}, "fallbacks", "seconds_per_cycle", "info"}``."""
    disk, regions, seconds = replay(cfg, models, log=log)
    arms = list(dict.fromkeys(disk["arm"]))
    out: dict[str, Any] = {
        "full_disk": {a: score(disk[disk["arm"] == a], False, cfg.n_boot) for a in arms},
        "regions": {a: score(regions[regions["arm"] == a], True, cfg.n_boot) for a in arms},
        "paired_full_disk": {a: paired(disk, a, cfg.n_boot) for a in arms if a != ALL},
        "fallbacks": {a: disk[disk["arm"] == a]["fallback"].value_counts().to_dict()
                      for a in arms},
        "seconds_per_cycle": seconds,
        "info": {"suns": sorted(disk["run"].unique().tolist()),
                 "observations": int((disk["arm"] == ALL).sum()),
                 "channels": stage_channels(models), "versions": models.versions()},
    }
    return out


__all__ = ["ALL", "FPNET_NO_B", "DegradedInputsConfig", "paired", "replay", "run", "score",
           "test_runs", "without"]
