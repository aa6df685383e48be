"""FPNet on the benchmark Sun, ≥ 3 seeds, against climatology and logistic regression.

    python benchmarks/fpnet.py [--root .cache/benchmark_sun] [--seeds 0,1,2] [--modes ar,full_disk]
        [--ar-steps 400] [--disk-steps 300] [--out docs/results/fpnet.json]

Builds the benchmark Sun when missing (``solarray benchmark-sun``), then runs every arm of
:mod:`solarray.benchmarks.fpnet` for every seed and prints mean ± std per arm and the paired
comparisons (a model beats a baseline when mean − std of the per-seed difference is > 0). The
results (command line, config, per-seed scores, comparisons) go to ``--out`` as JSON.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict

from solarray.benchmarks.fpnet import METRICS, FPNetBenchmarkConfig, run
from solarray.benchmarks.script import command_line, finish, start
from solarray.metrics.protocol import (
    format_pm,
    markdown_table,
    summarise,
)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--root", default=".cache/benchmark_sun")
    p.add_argument("--runs-dir", default=".cache/benchmark_runs/fpnet")
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--modes", default="ar,full_disk")
    p.add_argument("--ar-steps", type=int, default=400)
    p.add_argument("--disk-steps", type=int, default=300)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--encoder", default="", help="MAE checkpoint to start the encoder from")
    p.add_argument("--no-ablations", action="store_true")
    p.add_argument("--out", default="docs/results/fpnet.json")
    args = p.parse_args(argv)
    command = command_line("benchmarks/fpnet.py", argv)

    t0 = start(args.root)
    cfg = FPNetBenchmarkConfig(
        root=args.root, runs_dir=args.runs_dir, seeds=tuple(int(s) for s in args.seeds.split(",")),
        modes=tuple(args.modes.split(",")), ar_steps=args.ar_steps, disk_steps=args.disk_steps,
        batch_size=args.batch_size, lr=args.lr, encoder_checkpoint=args.encoder,
        ablations=not args.no_ablations)
    res = run(cfg)
    for mode, arms in res["per_seed"].items():
        rows = [{"arm": arm, **{k: format_pm(summarise([s[k] for s in vals]))
                                for k in METRICS}} for arm, vals in arms.items()]
        print(f"\n### {mode} ({res['info'].get(mode, {})})\n")
        print(markdown_table(rows, ["arm", *METRICS]))
        for model, against in res["comparisons"][mode].items():
            for base, by_metric in against.items():
                wins = ", ".join(f"{k} {'beats' if c['beats'] else 'does not beat'} "
                                 f"(Δ {format_pm(c['difference'])})" for k, c in by_metric.items())
                print(f"- {model} vs {base}: {wins}")
    finish("fpnet", command, asdict(cfg), res, cfg.seeds, args.out, t0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
