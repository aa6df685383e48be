"""Hale and McIntosh-Z dual CNNs on the benchmark Sun, ≥ 3 seeds, against the majority class and
the single CNN (one network for every longitude; SA-AI 2025: dual F1 0.61 vs single 0.54).

    python benchmarks/iatools_classifier.py [--root .cache/benchmark_sun] [--seeds 0,1,2]
        [--epochs 12] [--every 3] [--no-single] [--out docs/results/classifier.json]

Trains on the AR crops of the training-month Suns, scores on the test-month Suns (unseen), with
the majority class of the training crops measured in the same run; prints mean ± std and the
paired comparison (a model beats the baseline when mean − std of the per-seed difference > 0).
"""

from __future__ import annotations

from dataclasses import asdict

from solarray.benchmarks.classifier import ClassifierBenchmarkConfig, comparisons, run
from solarray.benchmarks.record import markdown_table
from solarray.benchmarks.script import Bench
from solarray.metrics.protocol import format_pm

BENCH = Bench("classifier", "benchmarks/iatools_classifier.py", __doc__)
COLUMNS = ["task", "metric", "model", "baseline", "difference", "beats"]


def main(argv: list[str] | None = None) -> int:
    args = BENCH.sun(argv, {"--epochs": 12, "--every": 3, "--no-single": False},
                     runs="classifier")
    cfg = ClassifierBenchmarkConfig(**BENCH.common(args), epochs=args.epochs, every=args.every,
                                    single=not args.no_single)
    res = run(cfg)
    res["comparisons"] = comparisons(res["per_seed"])
    rows = [dict(zip(COLUMNS, (task, metric, format_pm(c["model"]), format_pm(c["baseline"]),
                               format_pm(c["difference"]), c["beats"]), strict=True))
            for task, by in res["comparisons"].items() for metric, c in by.items()]
    print(f"\n{res['info']}\n(metric dual_vs_single_*: model = dual CNN, baseline = single CNN; "
          "else baseline = majority class)\n")
    print(markdown_table(rows, COLUMNS))
    BENCH.finish(asdict(cfg), res, cfg.seeds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
