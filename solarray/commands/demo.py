"""``solarray demo``: synth → ingest → pretraining → SPNet/IATools/FPNet cycle, on a local Ray."""

from __future__ import annotations

import argparse

from solarray.core.errors import UsageError
from solarray.core.paths import require_out_dir
from solarray.demo import DemoConfig, run_demo

NAME = "demo"
HELP = "run the whole path on bundled data (local Ray): synthetic Sun → forecast, map and report"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", default="demo_out", help="output directory (default demo_out)")
    p.add_argument("--suns-per-month", type=int, default=2,
                   help="independent synthetic Suns in each of Jan (test), Feb, Mar (validation), Apr")
    p.add_argument("--days", type=float, default=5.0, help="days per synthetic Sun (2–10)")
    p.add_argument("--cadence-hours", type=float, default=4.0)
    p.add_argument("--size", type=int, default=128, help="image size (multiple of 16)")
    p.add_argument("--steps", type=int, default=60, help="optimiser steps per training stage")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--num-cpus", type=int, default=2, help="CPUs of the local Ray instance")
    p.add_argument("--checkpoint-dir", default=None,
                   help="where to leave checkpoints (default: where `solarray serve` looks)")


def run(args: argparse.Namespace) -> int:
    require_out_dir("--out", args.out)
    try:
        cfg = DemoConfig(out=args.out, suns_per_month=args.suns_per_month, days=args.days,
                         cadence_hours=args.cadence_hours,
                         size=args.size, seed=args.seed, steps=args.steps, num_cpus=args.num_cpus,
                         checkpoint_dir=args.checkpoint_dir)
    except ValueError as err:
        raise UsageError(str(err)) from None
    run_demo(cfg)
    return 0
