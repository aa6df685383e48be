"""``solarray tune``: Ray Tune sweep (ASHA) of a training objective's hyperparameters.

The one way to start a sweep (also the Ray job ``python -m jobs.tune``); the sweeps themselves
are data, ``solarray/tune/sweeps/<name>.yaml`` (listed in ``tune/README.md``).
"""

from __future__ import annotations

import argparse
import os

from solarray.core.errors import UsageError
from solarray.core.ray_connect import connect
from solarray.data.dataset import image_size_of, require_shards, require_split, shard_channels
from solarray.tune.experiment import TuneRun
from solarray.tune.results import format_table, trial_steps
from solarray.tune.runner import SweepInterrupted, datasets_from_dir, run_sweep, sized_to_data
from solarray.tune.space import SweepError, SweepUnavailable, load_sweep, shipped_sweeps
from solarray.tune.trials import check_available

NAME = "tune"
HELP = "sweep hyperparameters with Ray Tune + ASHA (one Ray Train run per trial); resumable"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sweep", required=True,
                        help=f"shipped sweep name ({' | '.join(shipped_sweeps())}; "
                             "solarray/tune/sweeps/) or a sweep .yaml file")
    parser.add_argument("--data", required=True, help="directory of ingest's Parquet shards")
    parser.add_argument("--samples", type=int, default=None,
                        help="trials to sample (Tune num_samples; default from the sweep)")
    parser.add_argument("--trial-workers", type=int, default=None,
                        help="Ray Train workers per trial (>= 1; default from the sweep)")
    parser.add_argument("--cpus-per-worker", type=float, default=None,
                        help="CPUs reserved per Train worker")
    parser.add_argument("--gpu", action="store_true", default=None, help="one GPU per worker")
    parser.add_argument("--max-concurrent", type=int, default=1, help="trials running at once")
    parser.add_argument("--name", default=None,
                        help="experiment name (default: the sweep's); reuse it with --resume")
    parser.add_argument("--storage", default="ray_results", help="Tune storage path")
    parser.add_argument("--resume", action="store_true",
                        help="continue the sweep saved under --storage/--name")
    parser.add_argument("--steps", type=int, default=None,
                        help="optimiser steps per trial (ASHA's max; default from the sweep)")
    parser.add_argument("--score", choices=("metric", "downstream"), default=None,
                        help="rank by the sweep's validation metric or by a linear flare probe "
                             "on the class-token embeddings")


def run(args: argparse.Namespace) -> int:
    for flag, value, low in (("--samples", args.samples, 1), ("--trial-workers",
                             args.trial_workers, 1), ("--max-concurrent", args.max_concurrent, 1),
                             ("--steps", args.steps, 1)):
        if value is not None and value < low:
            raise UsageError(f"{flag} must be an integer >= {low}, got {value}")
    if args.cpus_per_worker is not None and args.cpus_per_worker <= 0:
        raise UsageError(f"--cpus-per-worker must be > 0, got {args.cpus_per_worker}")
    if args.name is not None and (not args.name or os.sep in args.name):
        raise UsageError(f"--name must be a plain name, got {args.name!r}")
    try:
        sweep = load_sweep(args.sweep)
        check_available(sweep)
    except (SweepError, SweepUnavailable) as err:
        raise UsageError(f"--sweep: {err}") from None
    require_shards("--data", args.data)

    for split in ("train", "val"):  # trials train on one and are scored on the other
        require_split("--data", args.data, split, "add data from other months (test = January, "
                      "validation = March)")
    try:  # the model at the shards' image size, or a one-line refusal before Ray starts
        sweep = sized_to_data(sweep, image_size_of(args.data), shard_channels("--data", args.data))
    except SweepError as err:
        raise UsageError(str(err)) from None
    run_cfg = TuneRun(name=args.name, storage_path=args.storage, samples=args.samples,
                      steps=args.steps, trial_workers=args.trial_workers,
                      cpus_per_worker=args.cpus_per_worker, use_gpu=args.gpu,
                      max_concurrent=args.max_concurrent, resume=args.resume, score=args.score)
    # Joins the job's cluster inside `ray job submit` (or $RAY_ADDRESS), else starts a local Ray.
    connect(quiet=False, log_to_driver=True)
    train, val, channels, probe = datasets_from_dir(args.data)
    if (args.score or sweep.score) == "downstream" and probe is None:
        raise UsageError("--score downstream: the data needs flare labels (flare_m24) of both "
                         "classes in the training and validation months")
    try:
        out = run_sweep(sweep, run_cfg, train, val, channels, probe=probe)
    except SweepError as err:
        raise UsageError(str(err)) from None
    except SweepInterrupted as err:
        print(err)
        return 1
    print(format_table(out.table, out.resolved))
    s = trial_steps(out.table, out.resolved)
    print(f"ASHA stopped {s['stopped_early']} of {len(out.table)} trials early: "
          f"{s['trial_steps_run']} trial-steps run of {s['trial_steps_full']} "
          f"({s['trial_steps_saved']} saved)")
    for key in ("csv", "parquet", "plot", "best_yaml", "best_json"):
        print(f"{key:>9}: {out.files[key]}")
    print(f"Train the best config: solarray pretrain --config {out.files['best_yaml']} "
          f"--data {args.data}")
    return 0
