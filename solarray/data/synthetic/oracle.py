"""The generator's own chance of a ≥M flare in the next 24 h: the ceiling of any forecast.

The synthetic Sun makes flares as a Poisson process per region
(:func:`~solarray.data.synthetic.activity.simulate_flares`): above a lower cut at rate
``λ(x)``·strength(t) per day (x the region's PIL flux), peaks drawn from a power law, and GOES
sees a flare's flux times the region's :func:`~solarray.data.synthetic.activity.visible_weight`.
So the expected number of ≥M1 flares GOES records from a region in (t, t + h] is

    Λ = ∫ λ(x) · s(τ) · min(1, (cut(x) · w(τ) / 10⁻⁵)^CUM_INDEX) dτ,

and the probability of at least one is ``1 − exp(−Λ)`` (per region; the disk's from the sum of
its regions' Λ). This reads the generator's hidden state and the region's future strength: it
is **not a forecast** but what the best possible forecast of this Sun would say — the benchmark
reports it as the oracle row so that a target can be read against what the Sun allows (the
flares stay random given it). The XRS background under a flare's peak is neglected (it lifts a
few flares just below M1 over the line).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd

from solarray.data.synthetic import forecast_set
from solarray.data.synthetic.activity import CUM_INDEX, rate_and_cut, visible_weight
from solarray.data.synthetic.generator import SynthConfig
from solarray.data.synthetic.model import ActiveRegion, SunModel, build_sun
from solarray.data.synthetic.productivity import M1_FLUX


def m_rate_seen(region: ActiveRegion, t_days: np.ndarray) -> np.ndarray:
    """Expected ≥M1 flares per day that GOES records from ``region`` at ``t_days`` (days since
    the Sun's start)."""
    t = np.asarray(t_days, dtype=float)
    lam, cut = rate_and_cut(region.pil_flux)
    w = visible_weight(region, t)
    seen = np.minimum(1.0, (cut * w / M1_FLUX) ** CUM_INDEX)
    return lam * np.asarray(region.strength(t), dtype=float) * seen


def expected_m_flares(region: ActiveRegion, t_day: float, horizon_days: float = 1.0,
                      steps: int = 96) -> float:
    """Λ of ``region`` over (``t_day``, ``t_day + horizon_days``] (midpoint rule, ``steps``)."""
    tau = t_day + (np.arange(steps) + 0.5) * horizon_days / steps
    return float(m_rate_seen(region, tau).mean() * horizon_days)


def true_r(region: ActiveRegion, t_day: float) -> float:
    """The physical quantity behind a region's flare rate at ``t_day``: its PIL flux at the
    strength it has then (10²² Mx), the truth counterpart of the Schrijver R IATools measures."""
    return float(region.pil_flux * float(region.strength(np.array([t_day]))[0]))


def run_suns(root: str | os.PathLike) -> dict[str, tuple[SunModel, pd.Timestamp]]:
    """Each run of the forecasting set in ``root`` → (its Sun as the generator built it, its
    start time, tz-naive UTC)."""
    spec = json.loads((Path(root) / forecast_set.RUNS_FILE).read_text())
    out = {}
    for r in spec["runs"]:
        cfg = SynthConfig(start=r["start"], hours=24.0 * float(r["days"]), seed=int(r["seed"]),
                          activity=float(r.get("activity", 1.0)))
        t0 = pd.Timestamp(r["start"])
        out[r["name"]] = (build_sun(cfg.seed, float(r["days"]),
                                    float(cfg.start_time.decimalyear), cfg.activity),
                          t0.tz_localize(None) if t0.tzinfo else t0)
    return out


def synth_sun(synth_dir: str | os.PathLike) -> tuple[SunModel, pd.Timestamp]:
    """The Sun of one generator output directory (its ``synth.json``) as the generator built it,
    and its start time (tz-naive UTC)."""
    spec = json.loads((Path(synth_dir) / "synth.json").read_text())["config"]
    cfg = SynthConfig(start=spec["start"], hours=float(spec["hours"]), seed=int(spec["seed"]),
                      activity=float(spec.get("activity", 1.0)))
    t0 = pd.Timestamp(spec["start"])
    return (build_sun(cfg.seed, cfg.hours / 24.0, float(cfg.start_time.decimalyear),
                      cfg.activity), t0.tz_localize(None) if t0.tzinfo else t0)


def _days(t, t0: pd.Timestamp) -> float:
    t = pd.Timestamp(t)
    t = t.tz_localize(None) if t.tzinfo else t
    return (t - t0) / pd.Timedelta(days=1)


def oracle_columns(rows: pd.DataFrame, suns: dict[str, tuple[SunModel, pd.Timestamp]],
                   horizon_days: float = 1.0) -> pd.DataFrame:
    """For per-region rows (``run``, ``truth_ar``, ``t_obs``): ``oracle`` (1 − exp(−Λ) of the
    matched true region; 0 for a detection matching none) and ``true_r`` (:func:`true_r`; NaN
    for none)."""
    p = np.zeros(len(rows))
    r = np.full(len(rows), np.nan)
    for i, (run, ar, t) in enumerate(zip(rows["run"], rows["truth_ar"], rows["t_obs"],
                                         strict=True)):
        if int(ar) < 0:
            continue
        sun, t0 = suns[run]
        region, d = sun.region(int(ar)), _days(t, t0)
        p[i] = 1.0 - np.exp(-expected_m_flares(region, d, horizon_days))
        r[i] = true_r(region, d)
    return pd.DataFrame({"oracle": p, "true_r": r}, index=rows.index)


def disk_oracle(rows: pd.DataFrame, suns: dict[str, tuple[SunModel, pd.Timestamp]],
                horizon_days: float = 1.0) -> np.ndarray:
    """For observation rows (``run``, ``t_obs``): 1 − exp(−Σ Λ) over every active region of
    that Sun."""
    out = np.zeros(len(rows))
    for i, (run, t) in enumerate(zip(rows["run"], rows["t_obs"], strict=True)):
        sun, t0 = suns[run]
        d = _days(t, t0)
        lam = sum(expected_m_flares(r, d, horizon_days) for r in sun.active_regions)
        out[i] = 1.0 - np.exp(-lam)
    return out


__all__ = ["disk_oracle", "expected_m_flares", "m_rate_seen", "oracle_columns", "run_suns",
           "synth_sun", "true_r"]
