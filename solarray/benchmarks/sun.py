"""The benchmark Sun's description: what a reader of any benchmark on it should know.

The Sun itself (configuration, rendering, ingest, feature sizes, EUV contrast) lives beside the
synthetic Sun, in :mod:`solarray.data.synthetic.benchmark_sun`; this module adds what needs the
forecasting tables of :mod:`solarray.forecast` (≥M base rates per split) and writes
``benchmark_sun.json`` once::

    make_benchmark_sun(".cache/benchmark_sun")       # cached: a complete root is reused
    describe(".cache/benchmark_sun")                 # what a reader should know about it
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import pandas as pd

from solarray.core.atomic import write_text
from solarray.data.dataset import assign_splits
from solarray.data.synthetic import forecast_set
from solarray.data.synthetic.benchmark_sun import (
    DESCRIPTION_FILE,
    LOOKAHEAD_CHECKS,
    SUN_VERSION,
    BenchmarkSunConfig,
    build_benchmark_sun,
    contrast,
    feature_sizes,
    flare_productivity,
)
from solarray.forecast.features import full_disk_table, load_feature_table


def make_benchmark_sun(root: str | os.PathLike, cfg: BenchmarkSunConfig | None = None,
                       log: Callable[[str], None] = print) -> Path:
    """Generate and ingest the benchmark Sun under ``root`` (needs Ray for ingest; a complete
    root is reused), and write :data:`DESCRIPTION_FILE` (:func:`describe`) once."""
    cfg = cfg or BenchmarkSunConfig()
    root = build_benchmark_sun(root, cfg, log)
    desc_file = root / DESCRIPTION_FILE
    if not desc_file.exists():
        desc = describe(root)
        desc["sun_version"] = SUN_VERSION
        desc["config"] = asdict(cfg)
        write_text(desc_file, json.dumps(desc, indent=2, default=str))
    return root


def base_rates(root: str | os.PathLike) -> dict[str, dict[str, float]]:
    """Per split: number of Suns, AR rows, ≥M-in-24-h base rate per AR and for the full disk,
    and ≥M flares per day."""
    table = load_feature_table(synthetic=root)
    t = table["t_obs"].to_numpy().astype("datetime64[s]")
    table["split"] = assign_splits(t)
    disk = full_disk_table(table)
    disk["split"] = assign_splits(disk["t_obs"].to_numpy().astype("datetime64[s]"))
    out = {}
    for split in ("train", "val", "test"):
        ar = table[table["split"] == split]
        d = disk[disk["split"] == split]
        out[split] = {"suns": int(ar["run"].nunique()), "ar_rows": int(len(ar)),
                      "frames": int(len(d)),
                      "ar_base_rate": round(float(ar["label"].mean()), 4) if len(ar) else None,
                      "disk_base_rate": round(float(d["label"].mean()), 4) if len(d) else None}
    n_m, days = 0, 0.0
    for run_dir in forecast_set.run_dirs(root):
        spec = json.loads((Path(run_dir) / "synth.json").read_text())
        t0, t1 = (pd.Timestamp(spec["times"][i]) for i in (0, -1))
        ev = pd.read_parquet(Path(run_dir) / "tables" / "events.parquet")
        peak = pd.to_datetime(ev["peak"], utc=True).dt.tz_localize(None)
        n_m += int(((ev["peak_flux"] >= 1e-5) & (peak >= t0) & (peak <= t1)).sum())
        days += (t1 - t0).total_seconds() / 86400.0
    out["m_flares_per_day"] = round(n_m / days, 3) if days else None
    return out


def describe(root: str | os.PathLike) -> dict:
    """Feature sizes, EUV contrast against the real Sun, splits and base rates, where the ≥M
    flares come from (share by true Hale class; Hale class vs PIL flux ROC AUC) and the
    look-ahead checks of a benchmark Sun root (the JSON written beside it)."""
    root = Path(root)
    shards = root / "shards"
    return {"root": str(root), "feature_sizes": feature_sizes(shards),
            "contrast_aia171": contrast(shards), "splits": base_rates(root),
            "flare_productivity": flare_productivity(root),
            "lookahead_checks": list(LOOKAHEAD_CHECKS)}


__all__ = ["base_rates", "describe", "make_benchmark_sun"]
