"""Benchmark: a small real sweep through `solarray tune` on CPU, with ASHA stopping trials early.

Writes toy-Sun samples (32 px, AIA 171/193 + HMI magnetogram, ≥M-flare labels) as ingest Parquet
shards spanning February–April (March is the validation month), derives a sweep file from the
shipped ``contrastive_weights`` sweep with a tiny 32 px SolarCHIP, and runs

    solarray tune --sweep bench.yaml --data SHARDS --samples 8 --trial-workers 1 \
        --max-concurrent 1 --name bench --storage OUT [--score downstream]

Baseline from the same run: running every trial to completion. Prints the ranked table, trial
steps run vs the baseline's, and trial wall time vs the baseline's (each trial costing what the
trials that ran to the end cost on average).

    PYTHONPATH=. /work/venv/bin/python benchmarks/tune.py --samples 8 --steps 48 --out /tmp/tune_bench
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time
from datetime import datetime, timedelta

import numpy as np
import yaml

CH = ("aia171", "aia193", "hmi_m")
SMALL = {"preset": "tiny", "backbone_config": {"image_size": 32, "patch_size": 8,
                                               "embed_dim": 32, "decoder_dim": 32}}


def write_toy_shards(out_dir: str, hours: int = 6, seed: int = 0) -> int:
    """Toy samples every ``hours`` h from 2024-02-01 to 2024-04-30 as ingest shards (one a month)."""
    from solarray.data.shards import write_shard
    from solarray.data.synthetic.toy import toy_samples

    os.makedirs(out_dir, exist_ok=True)
    t0 = datetime(2024, 2, 1)
    times = []
    t = t0
    while t < datetime(2024, 5, 1):
        times.append(t)
        t += timedelta(hours=hours)
    cols = toy_samples(len(times), CH, size=32, seed=seed)
    rows = []
    for i, t in enumerate(times):
        rows.append({"t_obs": t, "sample_id": t.strftime("%Y-%m-%dT%H:%M:%S"),
                     "image": cols["image"][i], "present": np.ones(len(CH), bool), "meta": "{}",
                     "labels": {"flare_class_24h": "M2.0" if cols["flare_m24"][i] else "C1.0",
                                "f107": float(cols["f107"][i]), "f30": float(cols["f30"][i])}})
    for month in (2, 3, 4):
        write_shard([r for r in rows if r["t_obs"].month == month], out_dir, CH)
    return len(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=8)
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--out", default="/tmp/tune_bench")
    ap.add_argument("--score", choices=("metric", "downstream"), default="metric")
    args = ap.parse_args()

    from solarray.cli import main as cli
    from solarray.tune.space import load_sweep

    shutil.rmtree(args.out, ignore_errors=True)
    shards = os.path.join(args.out, "shards")
    n = write_toy_shards(shards)
    every = max(1, args.steps // 6)
    sweep = load_sweep("contrastive_weights").to_dict()
    sweep["name"] = "bench"
    sweep["base"].update(model_config=SMALL, batch_size=32, lr=2e-3, warmup_steps=every,
                         report_every=every, checkpoint_every=every, val_batches=2)
    sweep["asha"] = {"grace_period": every, "reduction_factor": 2}
    sweep_file = os.path.join(args.out, "bench.yaml")
    with open(sweep_file, "w") as fh:
        yaml.safe_dump(sweep, fh, sort_keys=False)
    print(f"{n} toy samples in {shards}; sweep {sweep_file}; rungs every {every} steps")

    os.environ.setdefault("RAY_DATA_DISABLE_PROGRESS_BARS", "1")
    import ray

    from solarray.core.ray_connect import set_env_defaults

    set_env_defaults()
    ray.init(num_cpus=2, include_dashboard=False, object_store_memory=512 * 1024**2,
             log_to_driver=False)
    t0 = time.perf_counter()
    rc = cli(["tune", "--sweep", sweep_file, "--data", shards, "--samples", str(args.samples),
              "--steps", str(args.steps), "--trial-workers", "1", "--max-concurrent", "1",
              "--name", "bench", "--storage", args.out, "--score", args.score])
    wall = time.perf_counter() - t0
    if rc:
        raise SystemExit(rc)

    import pandas as pd

    results = os.path.join(args.out, "bench", "results")
    table = pd.read_csv(os.path.join(results, "trials.csv"))
    summary = json.load(open(os.path.join(results, "summary.json")))
    full = table.loc[~table["stopped_early"], "time_s"]
    est_all = len(table) * float(full.mean()) if len(full) else float("nan")
    actual = float(table["time_s"].sum())
    ratio_steps = summary["trial_steps_run"] / summary["trial_steps_full"]
    print(f"\ntrials {len(table)}, stopped early by ASHA {summary['stopped_early']}; "
          f"trial-steps {summary['trial_steps_run']} of {summary['trial_steps_full']} "
          f"(ratio {ratio_steps:.2f}, {summary['trial_steps_saved']} saved)")
    print(f"trial wall time {actual:.0f} s vs ~{est_all:.0f} s with every trial run to the end "
          f"(ratio {actual / est_all:.2f}); whole command {wall:.0f} s")
    print(json.dumps({"wall_s": round(wall, 1), "trial_wall_s": round(actual, 1),
                      "trial_wall_all_est_s": round(est_all, 1), **summary}))


if __name__ == "__main__":
    main()
