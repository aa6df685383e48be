"""Benchmark: a small real sweep (the shipped contrastive_weights space) on CPU with ASHA.

Tiny SolarCHIP (32 px, 3 channels) on the in-memory toy Sun, one Train worker per trial, one trial
at a time. Prints the ranked table, how many optimiser steps ASHA ran against the baseline of
running every trial to completion, and the wall-clock ratio against that baseline estimated from
the same run's per-step time (the finished trials).

    /work/venv/bin/python benchmarks/tune.py --samples 8 --steps 60 --out /tmp/tune_bench
"""

from __future__ import annotations

import argparse
import json
import time


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=8)
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--out", default="/tmp/tune_bench")
    ap.add_argument("--score", choices=("metric", "downstream"), default="metric")
    args = ap.parse_args()

    from solarray.tune.runner import TuneRun, run_sweep, set_env_defaults

    set_env_defaults()
    import ray

    from solarray.train.toy import toy_dataset, toy_samples
    from solarray.tune.downstream import ProbeData
    from solarray.tune.results import format_table, trial_steps
    from solarray.tune.space import load_sweep

    ray.init(num_cpus=2, include_dashboard=False, object_store_memory=512 * 1024**2,
             log_to_driver=False)
    ch = ("aia171", "aia193", "hmi_m")
    small = {"preset": "tiny", "backbone_config": {"image_size": 32, "patch_size": 8,
                                                   "embed_dim": 32, "decoder_dim": 32}}
    sweep = load_sweep("contrastive_weights")
    every = max(1, args.steps // 6)
    sweep = sweep.replace(base={**sweep.base, "model_config": small, "batch_size": 32,
                                "lr": 2e-3, "warmup_steps": every, "report_every": every,
                                "checkpoint_every": every, "val_batches": 2},
                          asha=sweep.asha.__class__(grace_period=every, reduction_factor=2))
    train = toy_dataset(256, ch, size=32, seed=1, rows_per_block=128).materialize()
    val = toy_dataset(64, ch, size=32, seed=2).materialize()
    ptr, pte = toy_samples(256, ch, size=32, seed=1), toy_samples(128, ch, size=32, seed=3)
    probe = ProbeData(ptr["image"], ptr["flare_m24"], pte["image"], pte["flare_m24"])

    t0 = time.perf_counter()
    out = run_sweep(sweep, TuneRun(name=f"bench-{args.score}", storage_path=args.out,
                                   samples=args.samples, steps=args.steps, score=args.score,
                                   verbose=0),
                    train, val, ch, probe=probe, log=print)
    wall = time.perf_counter() - t0
    table = out.table
    print(format_table(table, out.resolved))
    s = trial_steps(table, out.resolved)
    # Wall-clock baseline from the same run: every trial costing what a trial that ran to the end
    # cost (mean), against the trials' actual summed wall time.
    full = table.loc[~table["stopped_early"], "time_s"]
    est_all = len(table) * float(full.mean()) if len(full) else float("nan")
    actual = float(table["time_s"].sum())
    print(f"\ntrials: {len(table)}, stopped early by ASHA: {s['stopped_early']}")
    print(f"trial-steps run: {s['trial_steps_run']} of {s['trial_steps_full']} "
          f"(ratio {s['trial_steps_run'] / s['trial_steps_full']:.2f}; "
          f"{s['trial_steps_saved']} saved)")
    print(f"trial wall time: {actual:.0f} s vs ~{est_all:.0f} s if all ran to the end "
          f"(ratio {actual / est_all:.2f}); whole sweep {wall:.0f} s")
    print(json.dumps({"wall_s": round(wall, 1), "trial_wall_s": round(actual, 1),
                      "trial_wall_all_est_s": round(est_all, 1), **s,
                      "best": {k: (round(v, 4) if isinstance(v, float) else v)
                               for k, v in table.iloc[0].to_dict().items()
                               if k not in ("checkpoint", "error")}}, default=str))
    print("results:", out.files["csv"].parent)


if __name__ == "__main__":
    main()
