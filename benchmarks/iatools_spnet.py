"""IATools' AR clustering on SPNet's predicted masks beside the truth masks (SA-AI 2025 §3.2.4:
ARI 0.54 / IoU 51.97, 0.58 / 52.42 with small regions filtered).

    python benchmarks/iatools_spnet.py [--runs-dir .cache/benchmark_runs/spnet_arms]
        [--seeds 0,1,2] [--every 1] [--out docs/results/iatools_spnet.json]

Reads the multi-modal SPNet runs ``benchmarks/spnet.py --runs-dir DIR`` trained
(``DIR/runs/spnet_s<seed>``), predicts the test Suns' AR masks, clusters them with IATools (the
served chain's settings, with and without the small-area filter) and scores ARI and IoU against
the truth's regions (:mod:`solarray.benchmarks.iatools_spnet`).
"""

from __future__ import annotations

from dataclasses import asdict

from solarray.benchmarks.iatools_spnet import FILTERS, IAToolsSPNetConfig, run
from solarray.benchmarks.record import markdown_table
from solarray.benchmarks.script import Bench
from solarray.metrics.protocol import format_pm

BENCH = Bench("iatools_spnet", "benchmarks/iatools_spnet.py", __doc__)
FLAGS = {"--every": (1, "score every n-th test image"), "--run-prefix": "spnet"}


def main(argv: list[str] | None = None) -> int:
    args = BENCH.sun(argv, FLAGS, runs="spnet_arms")
    cfg = IAToolsSPNetConfig(**BENCH.common(args), every=args.every, run_prefix=args.run_prefix)
    res = run(cfg)
    rows = []
    for f in FILTERS:
        s, t, d = res["summary"][f], res["truth"][f], res["differences"][f]
        rows.append({"AR mask": f"SPNet ({cfg.run_prefix} runs)", "small regions": f,
                     "ARI": format_pm(s["ari"], 3), "IoU": format_pm(s["iou"], 1),
                     "regions / image": format_pm(s["n_regions"], 2)})
        rows.append({"AR mask": "truth", "small regions": f, "ARI": f"{t['ari']:.3f}",
                     "IoU": f"{t['iou']:.1f}", "regions / image": f"{t['n_regions']:.2f}"})
        for k in ("ari", "iou"):
            b = d[k]["bootstrap"]
            print(f"{f}: SPNet − truth {k}: {b['difference']:+.3f} "
                  f"[{b['lo']:+.3f}, {b['hi']:+.3f}] (bootstrap over test Suns)")
    print(f"\n{res['info']['test_images']} test images\n")
    print(markdown_table(rows, ["AR mask", "small regions", "ARI", "IoU", "regions / image"]))
    BENCH.finish(asdict(cfg), res, cfg.seeds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
