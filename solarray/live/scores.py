"""Running scores of the stored forecasts: TSS, HSS, BSS, ROCA and the reliability diagram, over
the last N days and since the start, per model version, for the full-disk probability and (where
flares are located) the per-region probabilities.

Computed with the same verification functions as ``solarray verify --forecasts``
(:func:`solarray.metrics.verification.verify`), so the running scores equal a one-off
verification of the same forecasts.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from solarray.live.store import ForecastStore
from solarray.metrics.verification import verify

ALL_VERSIONS = "all"


def verified_pairs(store: ForecastStore) -> dict[str, pd.DataFrame]:
    """``{"full_disk": df, "regions": df}`` with columns ``observation_time``,
    ``model_version``, ``observed`` (0/1), ``probability`` for every forecast with an outcome
    (full disk: forecasts with a full-disk probability; regions: every region with a probability
    and a per-region outcome)."""
    j = store.joined()
    cols = ["observation_time", "model_version", "observed", "probability"]
    if not len(j):
        return {"full_disk": pd.DataFrame(columns=cols), "regions": pd.DataFrame(columns=cols)}
    j = j[j["observed"].notna()]
    disk = pd.DataFrame({"observation_time": j["observation_time"],
                         "model_version": j["model_version"],
                         "observed": j["observed"].astype(float),
                         "probability": j["p_full_disk"].astype(float)})
    disk = disk[np.isfinite(disk["probability"])].reset_index(drop=True)
    rows = []
    for _, r in j.iterrows():
        seen = json.loads(r["regions_observed"] or "{}")
        for reg in json.loads(r["regions"]):
            p, key = reg.get("p_m24"), str(reg.get("number"))
            if p is not None and key in seen:
                rows.append({"observation_time": r["observation_time"],
                             "model_version": r["model_version"],
                             "observed": float(seen[key]), "probability": float(p)})
    return {"full_disk": disk, "regions": pd.DataFrame(rows, columns=cols)}


def _scores(df: pd.DataFrame, threshold: float, bins: int) -> dict[str, Any]:
    if not len(df):
        return {"n": 0}
    report = verify(df["observed"].to_numpy(), df["probability"].to_numpy(), threshold, bins=bins)
    rel = report.reliability
    return {"n": report.n, "events": int(report.counts.observed_yes), **report.scores(),
            "reliability": {"edges": rel.edges.tolist(), "counts": rel.counts.tolist(),
                            "mean_probability": [None if not np.isfinite(v) else float(v)
                                                 for v in rel.mean_probability],
                            "observed_frequency": [None if not np.isfinite(v) else float(v)
                                                   for v in rel.observed_frequency]},
            "undefined": dict(report.undefined)}


def running_scores(store: ForecastStore, *, last_days: Sequence[float] = (7.0, 30.0),
                   threshold: float = 0.5, bins: int = 10) -> dict[str, Any]:
    """Scores per target (``full_disk``, ``regions``), per model version (and ``all``), per
    window (``since_start`` and ``last_<N>d``, the N days before the newest verified forecast)."""
    out: dict[str, Any] = {"threshold": threshold}
    for target, df in verified_pairs(store).items():
        per: dict[str, Any] = {}
        versions = [ALL_VERSIONS] + sorted(df["model_version"].unique()) if len(df) else []
        newest = pd.Timestamp(df["observation_time"].max()) if len(df) else None
        for version in versions:
            sub = df if version == ALL_VERSIONS else df[df["model_version"] == version]
            windows = {"since_start": _scores(sub, threshold, bins)}
            for days in last_days:
                recent = sub[pd.to_datetime(sub["observation_time"])
                             > newest - pd.Timedelta(days=days)]
                windows[f"last_{days:g}d"] = _scores(recent, threshold, bins)
            per[version] = windows
        out[target] = per
    return out


def update_scores(store: ForecastStore, **kwargs: Any) -> dict[str, Any]:
    """Recompute :func:`running_scores` and keep them in the store's ``scores.json``."""
    scores = running_scores(store, **kwargs)
    store.write_scores(scores)
    return scores


__all__ = ["ALL_VERSIONS", "running_scores", "update_scores", "verified_pairs"]
