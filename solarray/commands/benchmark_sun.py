"""``solarray benchmark-sun``: build (or reuse) the benchmark Sun and print what it holds."""

from __future__ import annotations

import argparse
import json

from solarray.benchmarks.sun import make_benchmark_sun
from solarray.core.errors import UsageError
from solarray.core.paths import require_out_dir
from solarray.core.ray_connect import connect
from solarray.data.synthetic.benchmark_sun import BENCHMARK_CHANNELS, BenchmarkSunConfig

NAME = "benchmark-sun"
HELP = ("build the benchmark Sun every learned model is judged on (independent synthetic Suns "
        "per month, ≥ 128 px, real-Sun contrast), cached")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", default=".cache/benchmark_sun", help="root directory (reused if complete)")
    p.add_argument("--size", type=int, default=128, help="image size N (≥ 128)")
    p.add_argument("--days", type=float, default=BenchmarkSunConfig.days,
                   help="days per synthetic Sun, its last time step included (default "
                        f"{BenchmarkSunConfig.days:g}: one cadence before the next Sun starts)")
    p.add_argument("--channels", default=",".join(BENCHMARK_CHANNELS))
    p.add_argument("--num-cpus", type=int, default=None, help="local Ray CPUs (default: all)")


def run(args: argparse.Namespace) -> int:
    try:
        cfg = BenchmarkSunConfig(size=args.size, days=args.days,
                                 channels=tuple(c.strip() for c in args.channels.split(",") if c.strip()))
    except ValueError as err:
        raise UsageError(str(err)) from None
    require_out_dir("--out", args.out)
    connect(num_cpus=args.num_cpus)
    try:
        root = make_benchmark_sun(args.out, cfg)
    except ValueError as err:
        raise UsageError(f"--out: {err}") from None
    desc = json.loads((root / "benchmark_sun.json").read_text())
    sizes = desc["feature_sizes"]
    print(f"benchmark Sun: {root}")
    print("median feature size (px): " + ", ".join(
        f"{k} {v['median_px']:g} (p10 {v['p10_px']:g}, p90 {v['p90_px']:g}, n {v['n_components']})"
        for k, v in sizes.items()))
    for key, c in desc["contrast_aia171"].items():
        print(f"171 Å {key}: synthetic {c['synthetic']} vs real {c['real']} "
              f"(ratio {c['ratio']}, within 25 %: {c['within_25pct']})")
    for split, s in desc["splits"].items():
        print(f"{split}: {s}")
    return 0
