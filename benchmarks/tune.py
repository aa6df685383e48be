"""Benchmark: ASHA vs the same trials run to completion without a scheduler, in one command.

Writes toy-Sun samples (32 px, AIA 171/193 + HMI magnetogram, ≥M-flare labels) as ingest Parquet
shards spanning February–April (March is the validation month), takes the shipped
``contrastive_weights`` sweep with a tiny 32 px SolarCHIP, draws ``--samples`` fixed points of its
space (seeded), and runs them through Ray Tune twice per round — the trial function of
``solarray tune`` (:func:`solarray.tune.runner.run_trial`), one trial at a time, with the runner's
ASHA settings, and with no scheduler (FIFO: every trial to the last step). The two arms alternate
in ``--repeats`` rotated rounds (:mod:`solarray.benchmarks.arms`): wall time of each sweep and
trial-steps run, medians and spread, the ratio of medians with the per-round range, and whether
ASHA's best trial is the full run's best.

    python benchmarks/tune.py --samples 4 --steps 24 --repeats 3
"""

from __future__ import annotations

import os
import shutil
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from solarray.benchmarks.script import Bench

BENCH = Bench("tune_asha", "benchmarks/tune.py", __doc__)
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


def trial(config, train_ds=None, val_ds=None, setup=None):
    """One fixed point of the space (``config["point"]``) as a ``solarray tune`` trial."""
    from solarray.tune.runner import run_trial

    run_trial(config["point"], train_ds=train_ds, val_ds=val_ds, setup=setup)


def fixed_points(sweep, k: int, seed: int) -> list[dict]:
    """``k`` points of the sweep's space drawn with ``seed`` (the same trials for both arms)."""
    from solarray.tune.space import param_space

    rng = np.random.default_rng(seed)
    return [{path: dom.sample(random_state=rng) for path, dom in param_space(sweep).items()}
            for _ in range(k)]


def run_arm(sweep, resolved, points, train_ds, val_ds, channels, storage: str, name: str,
            asha: bool) -> dict:
    """One sweep over ``points``, ASHA or FIFO; per trial: the steps run and the last metric."""
    from ray import tune
    from ray.tune.schedulers import ASHAScheduler, FIFOScheduler

    from solarray.tune.callbacks import release_callback, release_placement_groups
    from solarray.tune.runner import runs_in_trial, trial_resources

    startup = startup_recorder()
    root = os.path.join(storage, name)
    setup = {"sweep": sweep.to_dict(), "source": sweep.source,
             "overrides": resolved.runner_overrides(channels),
             "train_root": os.path.join(root, "train")}
    scheduler = ASHAScheduler(
        time_attr="step", metric=sweep.metric, mode=sweep.mode, max_t=resolved.steps,
        grace_period=sweep.asha.grace(resolved.steps),
        reduction_factor=sweep.asha.reduction_factor) if asha else FIFOScheduler()
    tuner = tune.Tuner(
        tune.with_resources(tune.with_parameters(trial, train_ds=train_ds, val_ds=val_ds,
                                                 setup=setup), trial_resources(resolved)),
        param_space={"point": tune.grid_search(points)},
        tune_config=tune.TuneConfig(num_samples=1, scheduler=scheduler,
                                    max_concurrent_trials=resolved.max_concurrent,
                                    reuse_actors=runs_in_trial(resolved.trial_workers),
                                    **({} if asha else {"metric": sweep.metric,
                                                        "mode": sweep.mode})),
        run_config=tune.RunConfig(name=name, storage_path=storage, verbose=0,
                                  callbacks=[release_callback(Path(setup["train_root"])),
                                             startup],
                                  failure_config=tune.FailureConfig(max_failures=0)))
    try:
        grid = tuner.fit()
    finally:
        # As the runner does (per trial above, and here for any left): Ray Train's worker-group
        # placement groups outlive their trials; left alone, the next trials wait for CPUs.
        for d in Path(setup["train_root"]).glob("*"):
            release_placement_groups(d)
    trials = []
    for r in grid:
        if r.error is not None:
            raise SystemExit(f"{name}: a trial failed: {str(r.error).splitlines()[0]}")
        i = points.index(r.config["point"])
        trials.append({"point": i, "steps": int(r.metrics["step"]),
                       "metric": float(r.metrics[sweep.metric]),
                       "time_s": float(r.metrics.get("time_total_s", float("nan"))),
                       "startup_s": startup.startup_s.get(r.metrics["trial_id"]),
                       "launched": startup.launched.get(r.metrics["trial_id"])})
    shutil.rmtree(root, ignore_errors=True)
    return {"trials": sorted(trials, key=lambda t: t["point"])}


def startup_recorder():
    """A Tune callback timing each trial from its launch (``on_trial_start``, on the driver) to
    the end of its first training step (the loop's ``first_step_time`` in its first report):
    ``.startup_s[trial_id]`` in seconds."""
    import time

    from ray.tune import Callback

    class StartupRecorder(Callback):
        def __init__(self) -> None:
            self.launched: dict[str, float] = {}
            self.startup_s: dict[str, float] = {}

        def on_trial_start(self, iteration, trials, trial, **info):
            self.launched.setdefault(trial.trial_id, time.time())

        def on_trial_result(self, iteration, trials, trial, result, **info):
            t = result.get("first_step_time")
            if trial.trial_id not in self.startup_s and t is not None:
                self.startup_s[trial.trial_id] = round(t - self.launched[trial.trial_id], 3)

    return StartupRecorder()


def startup_split(runs: dict[str, list[dict]], concurrent: int = 1
                  ) -> tuple[list[float], list[float]]:
    """Start-up seconds of the first ``concurrent`` trials launched in every sweep (each in a new
    Tune actor), and of all later trials (in a reused actor when trials train in it)."""
    first, later = [], []
    for sweeps in runs.values():
        for run in sweeps:
            timed = sorted((t for t in run["trials"] if t["startup_s"] is not None),
                           key=lambda t: t["launched"])
            first += [t["startup_s"] for t in timed[:concurrent]]
            later += [t["startup_s"] for t in timed[concurrent:]]
    return first, later


def best_point(trials: list[dict], mode: str) -> int:
    """The point that reached the most steps with the best metric (the runner's ranking)."""
    sign = 1 if mode == "max" else -1
    return max(trials, key=lambda t: (t["steps"], sign * t["metric"]))["point"]


FLAGS = {"--samples": (4, "fixed trials per arm"),
         "--steps": (24, "steps of a full trial (ASHA max_t)"),
         "--repeats": (3, "interleaved rounds of both arms"),
         "--seed": (0, "seed of the fixed trial points"),
         "--trial-workers": (1, "workers per trial (1: the loop in the trial's Tune actor; "
                                "more: a Ray Train run per trial)"),
         "--max-concurrent": (1, "trials at a time (compared at the same ASHA rung)"),
         "--work": "/tmp/tune_bench"}


def main(argv: list[str] | None = None) -> int:
    args = BENCH.parse(argv, FLAGS)

    from solarray.benchmarks import arms as arms_mod
    from solarray.core.ray_connect import connect
    from solarray.tune.experiment import TuneRun, resolve
    from solarray.tune.runner import datasets_from_dir
    from solarray.tune.space import load_sweep, parse_sweep
    from solarray.tune.trials import trial_datasets

    os.environ.setdefault("RAY_DATA_DISABLE_PROGRESS_BARS", "1")
    shutil.rmtree(args.work, ignore_errors=True)
    shards = os.path.join(args.work, "shards")
    n = write_toy_shards(shards)
    every = max(1, args.steps // 6)
    raw = load_sweep("contrastive_weights").to_dict()
    raw["name"] = "bench"
    raw["base"].update(model_config=SMALL, batch_size=32, lr=2e-3, warmup_steps=every,
                       report_every=every, checkpoint_every=every, val_batches=2)
    raw["asha"] = {"grace_period": every, "reduction_factor": 2}
    sweep = parse_sweep(raw, source="bench sweep")
    resolved = resolve(sweep, TuneRun(name="bench", storage_path=args.work,
                                      samples=args.samples, steps=args.steps,
                                      trial_workers=args.trial_workers,
                                      max_concurrent=args.max_concurrent))
    connect(num_cpus=2, object_store_memory=512 * 1024**2)
    train_ds, val_ds, channels, _ = datasets_from_dir(shards, probe_rows=64)
    train_ds, val_ds = trial_datasets(sweep, channels, train_ds, val_ds)  # as run_sweep does
    points = fixed_points(sweep, args.samples, args.seed)
    print(f"{n} toy samples; {args.samples} fixed trials × {args.steps} steps; rungs every "
          f"{every} steps; load average {os.getloadavg()[0]:.1f}")

    runs: dict[str, list[dict]] = {"asha": [], "full": []}
    counter = iter(range(10**6))

    def arm(label: str):
        return lambda: runs[label].append(run_arm(
            sweep, resolved, points, train_ds, val_ds, channels, args.work,
            f"{label}_{next(counter)}", asha=label == "asha"))

    load0 = os.getloadavg()[0]
    def progress(msg: str) -> None:
        label = msg.split()[2].rstrip(":")
        trials = runs[label][-1]["trials"]
        print(msg, "— trial steps", [t["steps"] for t in trials], "s",
              [round(t["time_s"], 1) for t in trials], flush=True)

    walls = arms_mod.interleave({"asha": arm("asha"), "full": arm("full")},
                                repeats=args.repeats, progress=progress)
    steps = {k: [float(sum(t["steps"] for t in r["trials"])) for r in v] for k, v in runs.items()}
    best = {k: [best_point(r["trials"], sweep.mode) for r in v] for k, v in runs.items()}
    first, later = startup_split(runs, args.max_concurrent)
    res = {"wall_s": {k: arms_mod.summary(v) for k, v in walls.items()},
           "trial_steps": {k: arms_mod.summary(v) for k, v in steps.items()},
           "ratio_wall": arms_mod.ratio(walls["asha"], walls["full"]),
           "ratio_trial_steps": arms_mod.ratio(steps["asha"], steps["full"]),
           "best_point": best, "runs": runs, "points": points,
           "startup_s": {"first_trial": arms_mod.summary(first),
                         "later_trials": arms_mod.summary(later)},
           "trial_steps_full": args.samples * args.steps,
           "load_average": [load0, os.getloadavg()[0]]}
    print(f"\n## ASHA vs the same {args.samples} trials without a scheduler ({args.repeats} "
          f"interleaved rounds, load average {load0:.1f} → {os.getloadavg()[0]:.1f})")
    print("| arm | sweep wall | trial-steps run | best trial (per round) |")
    print("|---|---|---|---|")
    for k, label in (("full", "no scheduler (every trial to the end)"), ("asha", "ASHA")):
        print(f"| {label} | {arms_mod.format_spread(res['wall_s'][k], 's', 1)} | "
              f"{arms_mod.format_spread(res['trial_steps'][k], '', 0)} | {best[k]} |")
    print(f"Trial start-up (launch → first step): first {args.max_concurrent} trial(s) of a sweep "
          f"{arms_mod.format_spread(res['startup_s']['first_trial'], 's', 2)}, later trials "
          f"{arms_mod.format_spread(res['startup_s']['later_trials'], 's', 2)}")
    print(f"ASHA / full: wall {arms_mod.format_spread(res['ratio_wall'], '×', 2)}; trial-steps "
          f"{arms_mod.format_spread(res['ratio_trial_steps'], '×', 2)}")
    cfg = {"sweep": raw, "samples": args.samples, "steps": args.steps, "repeats": args.repeats,
           "seed": args.seed, "max_concurrent": args.max_concurrent,
           "trial_workers": args.trial_workers}
    BENCH.finish(cfg, res, [args.seed])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
