"""SPNet on the benchmark Sun, ≥ 3 seeds, against the tuned threshold baseline (same run).

    python benchmarks/spnet.py [--root .cache/benchmark_sun] [--seeds 0,1,2] [--steps 600]
        [--out docs/results/spnet.json]

Per feature (AR, CH, FL): IoU, whole-disk pixel accuracy, class accuracy (true pixels found) and,
with the background, mean IoU and mean accuracy (SA-AI 2025's "mean IoU" may include it), mean ±
std over seeds of the test-month means; then each input channel marked missing at test time in
turn (IoU change per feature, paired by seed); the model beats the baseline on a feature when
mean − std of the per-seed IoU difference is > 0. (The relabelling-cycle evidence of the
human-in-the-loop issue is ``benchmarks/spnet_relabel.py``.)
"""

from __future__ import annotations

import json
from dataclasses import asdict

from solarray.benchmarks.record import markdown_table, pm_rows
from solarray.benchmarks.script import Bench
from solarray.benchmarks.spnet import (
    SCORES,
    SPNetBenchmarkConfig,
    comparisons,
    missing_modality,
    run,
)
from solarray.core.features import FEATURE_KINDS
from solarray.metrics.protocol import format_pm

BENCH = Bench("spnet", "benchmarks/spnet.py", __doc__)
FLAGS = {"--steps": 600, "--batch-size": 8, "--lr": 3e-3,
         "--model-config": ("{}", "JSON SPNet config overrides")}
BEATS = "beats threshold (IoU)"


def main(argv: list[str] | None = None) -> int:
    args = BENCH.sun(argv, FLAGS, runs="spnet")
    cfg = SPNetBenchmarkConfig(**BENCH.common(args), steps=args.steps, batch_size=args.batch_size,
                               lr=args.lr, model_config=json.loads(args.model_config) or None)
    res = run(cfg)
    res["comparisons"] = comparisons(res["per_seed"])
    rows = []
    for f in FEATURE_KINDS:
        beats = res["comparisons"][f]["iou"]["beats"]
        arms = {arm: [s[f] for s in res["per_seed"][arm]] for arm in ("spnet", "threshold")}
        rows += [{"feature": f, **r, BEATS: beats if r["model"] == "spnet"
                  else ""} for r in pm_rows(arms, SCORES, "model", digits=1)]
    print(f"\n{res['info']}\n")
    print(markdown_table(rows, ["feature", "model", *SCORES, BEATS]))
    res["missing_modality"] = missing_modality(res["per_seed"])
    print("\nIoU with one input missing at test time, minus IoU with all (mean ± std over seeds):\n")
    rows = [{"missing": c, **{f: format_pm(d[f]["difference"], 1) for f in FEATURE_KINDS}}
            for c, d in res["missing_modality"].items()]
    print(markdown_table(rows, ["missing", *FEATURE_KINDS]))
    BENCH.finish(asdict(cfg), res, cfg.seeds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
