"""IATools as SA-AI 2025 §3.2.4 evaluates it, on the benchmark Sun: the flare index computed by the
automatic chain against the truth.

The chain's tables (:func:`solarray.benchmarks.automatic_chain.chain_tables`: SPNet → IATools,
flares detected in the synthetic GOES XRS curve by the SEPC rule and located to detected regions
on 193 Å) give each observation's full-disk FI and each detected region's FI; the synthetic
truth gives the same from the generator's own flare list and regions. As the seed: the Pearson
correlation of the daily full-disk FI (seed: 0.94 against SWPC's records) and of the daily
maximum regional FI (seed: 0.93), a day's value being the FI at its last observation
(:func:`~solarray.analysis.flare_index.daily_flare_index`), with 95 % bootstrap intervals
resampling days; for the test Suns and for every Sun (IATools learns nothing; SPNet, whose masks
locate the flares, was trained on the training Suns).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from solarray.analysis.flare_index import daily_flare_index
from solarray.benchmarks.automatic_chain import ChainBenchmarkConfig, chain_tables, train_chain
from solarray.data.dataset import assign_splits
from solarray.forecast.features import load_feature_table
from solarray.metrics.bootstrap import interval


def pearson(x: np.ndarray, y: np.ndarray) -> float | None:
    """Pearson correlation of ``x`` and ``y`` [N]; None when either is constant or N < 2."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    if len(x) < 2 or np.std(x) == 0 or np.std(y) == 0:
        return None
    return float(np.corrcoef(x, y)[0, 1])


def run_splits(runs: pd.Series) -> pd.Series:
    """The split (train/val/test) of each synthetic Sun named ``runNN_<start>_s<seed>``, by its
    start time, as the benchmarks split them."""
    names = pd.unique(runs.astype(str))
    starts = np.array([n.split("_")[1] for n in names], dtype="datetime64[s]")
    return runs.astype(str).map(dict(zip(names, assign_splits(starts), strict=True)))


def agreement(pairs: pd.DataFrame, n_boot: int = 1000) -> dict[str, Any]:
    """Pearson r of ``pred`` against ``truth`` with its 95 % interval over day resamples, and
    the days' count and mean FI."""
    iv = interval(pearson, pairs["truth"].to_numpy(), pairs["pred"].to_numpy(),
                  np.arange(len(pairs)), n_boot=n_boot)
    return {"pearson": iv["value"], "lo": iv["lo"], "hi": iv["hi"], "n_days": int(len(pairs)),
            "mean_pred": float(pairs["pred"].mean()), "mean_truth": float(pairs["truth"].mean()),
            "days_with_fi": int(((pairs["pred"] > 0) | (pairs["truth"] > 0)).sum())}


def flare_index_agreement(chain_ar: pd.DataFrame, chain_disk: pd.DataFrame, truth: pd.DataFrame,
                          n_boot: int = 1000) -> dict[str, Any]:
    """``{subset: {"disk": agreement, "ar_max": agreement}}`` for ``test`` and ``all`` Suns."""
    pairs = {"disk": daily_flare_index(chain_disk, truth, truth_column="disk_flare_index",
                                       how="first"),
             "ar_max": daily_flare_index(chain_ar, truth, how="max")}
    out: dict[str, Any] = {}
    for subset in ("test", "all"):
        out[subset] = {}
        for kind, p in pairs.items():
            keep = run_splits(p["run"]) == "test" if subset == "test" else np.ones(len(p), bool)
            out[subset][kind] = agreement(p[np.asarray(keep)].reset_index(drop=True), n_boot)
    return out


def run(cfg: ChainBenchmarkConfig, log: Callable[[str], None] = print) -> dict:
    """The chain (trained or reused) → its tables → :func:`flare_index_agreement`."""
    tables = chain_tables(cfg, train_chain(cfg, log), log)
    truth = load_feature_table(synthetic=cfg.root)
    return {"flare_index": flare_index_agreement(tables["ar"], tables["disk"], truth,
                                                 cfg.n_boot)}


__all__ = ["agreement", "flare_index_agreement", "pearson", "run", "run_splits"]
