"""SA-AI 2025's SV1 → SV2 → SV3 relabelling cycle on the benchmark Sun, ≥ 3 seeds, against the
tuned threshold baseline (same run).

    python benchmarks/spnet_relabel.py [--root .cache/benchmark_sun] [--seeds 0,1,2]
        [--steps 300] [--min-area 6] [--drop-fraction 0.7] [--out docs/results/spnet_relabel.json]

V1 = the truth of half the training Suns with small features dropped (an incomplete human label
set); SV1 trained on it relabels those Suns and a simulated expert adds the features it found
that overlap a true feature (V2); SV2 labels the other half (the archive) and the expert keeps
its correct features (V3 = V2 + archive); SV3 trained on V3. Each version scored on the test
Suns (IoU, mIoU with background, class accuracy), paired by seed and with bootstrap 95 %
intervals over test Suns (:mod:`solarray.benchmarks.spnet_cycle`).
"""

from __future__ import annotations

import json
from dataclasses import asdict

from solarray.benchmarks.record import markdown_table, pm_rows
from solarray.benchmarks.script import Bench
from solarray.benchmarks.spnet import SCORES
from solarray.benchmarks.spnet_cycle import VERSIONS, CycleBenchmarkConfig, comparisons, run
from solarray.core.features import FEATURE_KINDS
from solarray.metrics.protocol import format_pm

BENCH = Bench("spnet_relabel", "benchmarks/spnet_relabel.py", __doc__)
FLAGS = {"--steps": 300, "--batch-size": 8, "--lr": 3e-3,
         "--model-config": ("{}", "JSON SPNet config overrides"),
         "--min-area": 6, "--drop-fraction": 0.7}


def _ci(d: dict) -> str:
    if d["difference"] is None or d["lo"] is None:
        return "undef."
    return f"{d['difference']:+.1f} [{d['lo']:+.1f}, {d['hi']:+.1f}]"


def main(argv: list[str] | None = None) -> int:
    args = BENCH.sun(argv, FLAGS, runs="spnet_cycle")
    cfg = CycleBenchmarkConfig(**BENCH.common(args), steps=args.steps,
                               batch_size=args.batch_size, lr=args.lr,
                               model_config=json.loads(args.model_config) or None,
                               min_area=args.min_area, drop_fraction=args.drop_fraction)
    res = run(cfg)
    res["comparisons"] = comparisons(res["per_seed"])
    rows = []
    for f in FEATURE_KINDS:
        per_arm = {a.upper() if a != "threshold" else a: [s[f] for s in res["per_seed"][a]]
                   for a in (*VERSIONS, "threshold")}
        rows += [{"feature": f, **r} for r in pm_rows(per_arm, SCORES, "model", digits=1)]
    print(f"\n{res['info']}\n")
    for s, entry in zip(cfg.seeds, res["labels"], strict=True):
        print(f"seed {s}: " + "; ".join(f"{v.upper()} {e['samples']} samples, features "
                                        f"{e['features']}" for v, e in entry.items()))
    print()
    print(markdown_table(rows, ["feature", "model", *SCORES]))
    rows = [{"pair": pair, "feature": f,
             "IoU (seeds)": format_pm(by_f[f]["iou"]["difference"], 1),
             "IoU [95 %]": _ci(res["intervals"][pair][f]["iou"]),
             "mIoU (seeds)": format_pm(by_f[f]["miou"]["difference"], 1),
             "mIoU [95 %]": _ci(res["intervals"][pair][f]["miou"])}
            for pair, by_f in res["comparisons"].items() for f in FEATURE_KINDS]
    print()
    print(markdown_table(rows, ["pair", "feature", "IoU (seeds)", "IoU [95 %]", "mIoU (seeds)",
                                "mIoU [95 %]"]))
    BENCH.finish(asdict(cfg), res, cfg.seeds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
