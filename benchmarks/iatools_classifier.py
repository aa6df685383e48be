"""Hale and McIntosh-Z dual CNNs on the benchmark Sun, ≥ 3 seeds, against the majority class.

    python benchmarks/iatools_classifier.py [--root .cache/benchmark_sun] [--seeds 0,1,2]
        [--epochs 12] [--every 3] [--out docs/results/classifier.json]

Trains on the AR crops of the training-month Suns, scores on the test-month Suns (unseen), with
the majority class of the training crops measured in the same run; prints mean ± std and the
paired comparison (a model beats the baseline when mean − std of the per-seed difference > 0).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict

from solarray.benchmarks.classifier import ClassifierBenchmarkConfig, run
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
    p.add_argument("--runs-dir", default=".cache/benchmark_runs/classifier")
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--epochs", type=int, default=12)
    p.add_argument("--every", type=int, default=3)
    p.add_argument("--out", default="docs/results/classifier.json")
    args = p.parse_args(argv)
    command = command_line("benchmarks/iatools_classifier.py", argv)

    t0 = start(args.root)
    cfg = ClassifierBenchmarkConfig(root=args.root, runs_dir=args.runs_dir, epochs=args.epochs,
                                    every=args.every,
                                    seeds=tuple(int(s) for s in args.seeds.split(",")))
    res = run(cfg)
    res["comparisons"] = {}
    rows = []
    for task, arms in res["per_seed"].items():
        res["comparisons"][task] = {}
        for metric in ("macro_f1", "weighted_f1"):
            c = compare([r[metric] for r in arms["cnn"]], [r[metric] for r in arms["majority"]])
            res["comparisons"][task][metric] = c
            rows.append({"task": task, "metric": metric,
                         "cnn": format_pm(summarise([r[metric] for r in arms["cnn"]])),
                         "majority": format_pm(summarise([r[metric] for r in arms["majority"]])),
                         "difference": format_pm(c["difference"]), "beats": c["beats"]})
    print(f"\n{res['info']}\n")
    print(markdown_table(rows, ["task", "metric", "cnn", "majority", "difference", "beats"]))
    finish("classifier", command, asdict(cfg), res, cfg.seeds, args.out, t0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
