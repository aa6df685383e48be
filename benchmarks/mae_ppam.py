"""MAE + PPAM on the benchmark Sun: physics-prior vs random masking vs no pretraining, ≥ 3 seeds.

    python benchmarks/mae_ppam.py [--root .cache/benchmark_sun] [--seeds 0,1,2]
        [--mae-steps 600] [--fpnet-steps 400] [--out docs/results/mae_ppam.json]

Each seed pretrains two MAEs (PPAM, random masking) and fine-tunes the per-AR FPNet on the crops
alone from each encoder and from scratch (:mod:`solarray.benchmarks.pretraining`); prints mean ±
std and the paired comparisons, writes the JSON record.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict

from solarray.benchmarks.fpnet import METRICS
from solarray.benchmarks.pretraining import PretrainingBenchmarkConfig, run
from solarray.benchmarks.script import command_line, finish, start
from solarray.metrics.protocol import (
    compare,
    format_pm,
    markdown_table,
    summarise,
)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--root", default=".cache/benchmark_sun")
    p.add_argument("--runs-dir", default=".cache/benchmark_runs/pretraining")
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--mae-steps", type=int, default=600)
    p.add_argument("--fpnet-steps", type=int, default=400)
    p.add_argument("--out", default="docs/results/mae_ppam.json")
    args = p.parse_args(argv)
    command = command_line("benchmarks/mae_ppam.py", argv)

    t0 = start(args.root)
    cfg = PretrainingBenchmarkConfig(root=args.root, runs_dir=args.runs_dir,
                                     seeds=tuple(int(s) for s in args.seeds.split(",")),
                                     mae_steps=args.mae_steps, fpnet_steps=args.fpnet_steps)
    res = run(cfg)
    arms = res["per_seed"]
    rows = [{"encoder": e, **{k: format_pm(summarise([s[k] for s in v])) for k in METRICS}}
            for e, v in arms.items()]
    res["comparisons"] = {
        a: {b: {k: compare([s[k] for s in arms[a]], [s[k] for s in arms[b]]) for k in METRICS}
            for b in arms if b != a} for a in ("ppam", "random")}
    print(f"\n{res['info']}; MAE final loss: " + ", ".join(
        f"{k} {format_pm(summarise(v), 4)}" for k, v in res["mae_loss"].items()) + "\n")
    print(markdown_table(rows, ["encoder", *METRICS]))
    for a, against in res["comparisons"].items():
        for b, by in against.items():
            print(f"- {a} vs {b}: " + ", ".join(
                f"{k} {'beats' if c['beats'] else 'does not beat'} (Δ {format_pm(c['difference'])})"
                for k, c in by.items()))
    finish("mae_ppam", command, asdict(cfg), res, cfg.seeds, args.out, t0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
