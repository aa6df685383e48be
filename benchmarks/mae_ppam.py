"""MAE + PPAM on the benchmark Sun: physics-prior vs random masking vs no pretraining as a curve
over pretraining budgets, ≥ 3 seeds, in this process (no Ray).

    python benchmarks/mae_ppam.py [--root .cache/benchmark_sun] [--seeds 0,1,2]
        [--mae-steps 100,300,700] [--fpnet-steps 1000] [--ar-image-size 32] [--n-boot 1000]
        [--torch-threads 1] [--out docs/results/mae_ppam.json]

Each seed pretrains two MAEs (PPAM, random masking) to the largest budget with a checkpoint at
every budget, and fine-tunes the per-AR FPNet on the crops alone from each checkpoint and from
scratch (:mod:`solarray.benchmarks.pretraining`); prints, per budget, mean ± std per arm and the
paired comparisons with their bootstrap intervals; writes the JSON record. The benchmark Sun
must exist (``solarray benchmark-sun``; built here through Ray when missing).
"""

from __future__ import annotations

import time
from dataclasses import asdict
from pathlib import Path

import torch

from solarray.benchmarks.fpnet import METRICS
from solarray.benchmarks.paired_arms import interval_lines
from solarray.benchmarks.pretraining import PretrainingBenchmarkConfig, run
from solarray.benchmarks.record import markdown_table, pm_rows
from solarray.benchmarks.script import Bench
from solarray.metrics.protocol import format_pm, summarise

BENCH = Bench("mae_ppam", "benchmarks/mae_ppam.py", __doc__)
FLAGS = {"--mae-steps": ("100,300,700", "pretraining budgets: checkpoints of one MAE run"),
         "--fpnet-steps": 1000, "--ar-image-size": 32, "--n-boot": 1000, "--torch-threads": 1}


def main(argv: list[str] | None = None) -> int:
    args = BENCH.parse(argv, FLAGS, sun=True, runs="pretraining", seeds="0,1,2")
    if not (Path(args.root) / "shards").is_dir():
        BENCH.start(args.root, torch_threads=args.torch_threads)  # builds the Sun (Ray)
    torch.set_num_threads(args.torch_threads)
    BENCH.t0 = time.perf_counter()
    cfg = PretrainingBenchmarkConfig(
        **BENCH.common(args), mae_steps=tuple(int(s) for s in args.mae_steps.split(",")),
        fpnet_steps=args.fpnet_steps, ar_image_size=args.ar_image_size, n_boot=args.n_boot)
    res = run(cfg)
    print(f"\n{res['info']}")
    for strategy, by_budget in res["mae_loss"].items():
        print(f"MAE {strategy} loss: " + ", ".join(
            f"@{b} {format_pm(summarise(v), 4)}" for b, v in by_budget.items()))
    print(markdown_table(pm_rows(res["per_seed"], METRICS, "encoder"), ["encoder", *METRICS]))
    for b in cfg.mae_steps:
        print(f"\n{b} pretraining steps:")
        print("\n".join(interval_lines(res["intervals"][b])))
    BENCH.finish(asdict(cfg), res, cfg.seeds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
