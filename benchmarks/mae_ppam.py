"""MAE + PPAM on the benchmark Sun: physics-prior vs random masking vs no pretraining, ≥ 3 seeds.

    python benchmarks/mae_ppam.py [--root .cache/benchmark_sun] [--seeds 0,1,2]
        [--mae-steps 600] [--fpnet-steps 400] [--out docs/results/mae_ppam.json]

Each seed pretrains two MAEs (PPAM, random masking) and fine-tunes the per-AR FPNet on the crops
alone from each encoder and from scratch (:mod:`solarray.benchmarks.pretraining`); prints mean ±
std and the paired comparisons, writes the JSON record.
"""

from __future__ import annotations

from dataclasses import asdict

from solarray.benchmarks.fpnet import METRICS
from solarray.benchmarks.pretraining import PretrainingBenchmarkConfig, comparisons, run
from solarray.benchmarks.record import comparison_lines, markdown_table, pm_rows
from solarray.benchmarks.script import Bench
from solarray.metrics.protocol import format_pm, summarise

BENCH = Bench("mae_ppam", "benchmarks/mae_ppam.py", __doc__)


def main(argv: list[str] | None = None) -> int:
    args = BENCH.sun(argv, {"--mae-steps": 600, "--fpnet-steps": 400}, runs="pretraining")
    cfg = PretrainingBenchmarkConfig(**BENCH.common(args), mae_steps=args.mae_steps,
                                     fpnet_steps=args.fpnet_steps)
    res = run(cfg)
    res["comparisons"] = comparisons(res["per_seed"])
    print(f"\n{res['info']}; MAE final loss: " + ", ".join(
        f"{k} {format_pm(summarise(v), 4)}" for k, v in res["mae_loss"].items()) + "\n")
    print(markdown_table(pm_rows(res["per_seed"], METRICS, "encoder"), ["encoder", *METRICS]))
    print("\n".join(comparison_lines(res["comparisons"])))
    BENCH.finish(asdict(cfg), res, cfg.seeds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
