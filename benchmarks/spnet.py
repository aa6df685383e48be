"""SPNet on the benchmark Sun, ≥ 3 seeds, against the tuned threshold baseline (same run).

    python benchmarks/spnet.py [--root .cache/benchmark_sun] [--seeds 0,1,2] [--steps 600]
        [--out docs/results/spnet.json]

Per feature (AR, CH, FL): IoU, whole-disk pixel accuracy and class accuracy (true pixels found),
mean ± std over seeds of the test-month means; the model beats the baseline on a feature when
mean − std of the per-seed IoU difference is > 0. (The relabelling-cycle evidence of the
human-in-the-loop issue is ``benchmarks/spnet_relabel.py``.)
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict

from solarray.benchmarks.script import command_line, finish, start
from solarray.benchmarks.spnet import SCORES, SPNetBenchmarkConfig, run
from solarray.core.features import FEATURE_KINDS
from solarray.metrics.protocol import (
    compare,
    format_pm,
    markdown_table,
    summarise,
)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--root", default=".cache/benchmark_sun")
    p.add_argument("--runs-dir", default=".cache/benchmark_runs/spnet")
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--steps", type=int, default=600)
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--model-config", default="{}", help="JSON SPNet config overrides")
    p.add_argument("--out", default="docs/results/spnet.json")
    args = p.parse_args(argv)
    command = command_line("benchmarks/spnet.py", argv)

    t0 = start(args.root)
    cfg = SPNetBenchmarkConfig(root=args.root, runs_dir=args.runs_dir, steps=args.steps,
                               batch_size=args.batch_size, lr=args.lr,
                               seeds=tuple(int(s) for s in args.seeds.split(",")),
                               model_config=json.loads(args.model_config) or None)
    res = run(cfg)
    rows, res["comparisons"] = [], {}
    for f in FEATURE_KINDS:
        vals = {arm: [s[f] for s in res["per_seed"][arm]] for arm in ("spnet", "threshold")}
        c = compare([v["iou"] for v in vals["spnet"]], [v["iou"] for v in vals["threshold"]])
        res["comparisons"][f] = {"iou": c}
        for arm, v in vals.items():
            rows.append({"feature": f, "model": arm, **{
                k: format_pm(summarise([x[k] for x in v]), 1) for k in SCORES},
                "beats threshold (IoU)": c["beats"] if arm == "spnet" else ""})
    print(f"\n{res['info']}\n")
    print(markdown_table(rows, ["feature", "model", *SCORES, "beats threshold (IoU)"]))
    finish("spnet", command, asdict(cfg), res, cfg.seeds, args.out, t0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
