"""SPNet on the benchmark Sun, ≥ 3 seeds, against the tuned threshold baseline (same run).

    python benchmarks/spnet.py [--root .cache/benchmark_sun] [--seeds 0,1,2] [--steps 600]
        [--arms sv,mae] [--no-missing] [--mae-steps 300] [--out docs/results/spnet.json]

Per feature (AR, CH, FL): IoU, whole-disk pixel accuracy, class accuracy (true pixels found) and,
with the background, mean IoU and mean accuracy (SA-AI 2025's "mean IoU" may include it), mean ±
std over seeds of the test-month means; then each input channel marked missing at test time in
turn (IoU change per feature, paired by seed; ``--no-missing`` skips it). ``--arms`` adds, per
seed: ``sv`` the single-modal per-feature networks (AR from HMI, CH from 193 Å, FL from 304 Å),
``mae`` the multi-modal network initialised from an MAE pretrained on the same training images.
Comparisons paired by seed and with bootstrap 95 % intervals over test Suns. (The
relabelling-cycle evidence of the human-in-the-loop issue is ``benchmarks/spnet_relabel.py``.)
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
         "--model-config": ("{}", "JSON SPNet config overrides"),
         "--arms": ("", "comma-separated extra arms: sv (single-modal per feature), mae"),
         "--no-missing": (False, "skip the missing-modality table"),
         "--mae-steps": (300, "MAE pretraining steps of the mae arm")}
NAMES = {"spnet": "SPNet multi-modal (MV)", "sv": "SPNet single-modal (SV)",
         "mae": "SPNet multi-modal, MAE-initialised", "threshold": "threshold"}


def _ci(d: dict) -> str:
    if d["difference"] is None or d["lo"] is None:
        return "undef."
    return f"{d['difference']:+.1f} [{d['lo']:+.1f}, {d['hi']:+.1f}]"


def main(argv: list[str] | None = None) -> int:
    args = BENCH.sun(argv, FLAGS, runs="spnet")
    cfg = SPNetBenchmarkConfig(**BENCH.common(args), steps=args.steps, batch_size=args.batch_size,
                               lr=args.lr, model_config=json.loads(args.model_config) or None,
                               arms=tuple(a for a in args.arms.split(",") if a),
                               missing=not args.no_missing, mae_steps=args.mae_steps)
    res = run(cfg)
    res["comparisons"] = comparisons(res["per_seed"])
    arms = [a for a in ("spnet", "sv", "mae", "threshold") if res["per_seed"].get(a)]
    rows = []
    for f in FEATURE_KINDS:
        per_arm = {NAMES[a]: [s[f] for s in res["per_seed"][a]] for a in arms}
        rows += [{"feature": f, **r} for r in pm_rows(per_arm, SCORES, "model", digits=1)]
    print(f"\n{res['info']}\n")
    print(markdown_table(rows, ["feature", "model", *SCORES]))
    print("\nDifferences (IoU; mIoU with background): paired by seed (mean ± std) and the "
          "seed-mean difference with its bootstrap 95 % interval over test Suns:\n")
    rows = []
    for pair, by_f in res["comparisons"].items():
        for f in FEATURE_KINDS:
            ci = res["intervals"].get(pair, {}).get(f, {})
            rows.append({"pair": pair, "feature": f,
                         "IoU (seeds)": format_pm(by_f[f]["iou"]["difference"], 1),
                         "IoU [95 %]": _ci(ci["iou"]) if ci else "",
                         "mIoU (seeds)": format_pm(by_f[f]["miou"]["difference"], 1),
                         "mIoU [95 %]": _ci(ci["miou"]) if ci else ""})
    print(markdown_table(rows, ["pair", "feature", "IoU (seeds)", "IoU [95 %]", "mIoU (seeds)",
                                "mIoU [95 %]"]))
    res["missing_modality"] = missing_modality(res["per_seed"])
    if res["missing_modality"]:
        print("\nIoU with one input missing at test time, minus IoU with all "
              "(mean ± std over seeds):\n")
        rows = [{"missing": c, **{f: format_pm(d[f]["difference"], 1) for f in FEATURE_KINDS}}
                for c, d in res["missing_modality"].items()]
        print(markdown_table(rows, ["missing", *FEATURE_KINDS]))
    BENCH.finish(asdict(cfg), res, cfg.seeds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
