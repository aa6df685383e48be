"""FPNet on the benchmark Sun, ≥ 3 seeds, against climatology and logistic regression.

    python benchmarks/fpnet.py [--root .cache/benchmark_sun] [--seeds 0,1,2] [--modes ar,full_disk]
        [--ar-steps 400] [--disk-steps 300] [--input-maskings random,ppam]
        [--out docs/results/fpnet.json]

Builds the benchmark Sun when missing (``solarray benchmark-sun``), then runs every arm of
:mod:`solarray.benchmarks.fpnet` for every seed and prints mean ± std per arm and the paired
comparisons (a model beats a baseline when mean − std of the per-seed difference is > 0). The
results (command line, config, per-seed scores, comparisons) go to ``--out`` as JSON.
"""

from __future__ import annotations

from dataclasses import asdict

from solarray.benchmarks.fpnet import METRICS, FPNetBenchmarkConfig, run
from solarray.benchmarks.record import comparison_lines, markdown_table, pm_rows
from solarray.benchmarks.script import Bench

BENCH = Bench("fpnet", "benchmarks/fpnet.py", __doc__)
FLAGS = {"--modes": "ar,full_disk", "--ar-steps": 400, "--disk-steps": 300, "--batch-size": 32,
         "--lr": 1e-3, "--encoder": ("", "MAE checkpoint to start the encoder from"),
         "--no-ablations": False,
         "--input-maskings": ("", "extra arms, e.g. random,ppam: FPNet whose encoder sees "
                                  "only some image patches (PPAM on FPNet's input)"),
         "--input-mask-ratio": 0.5}


def main(argv: list[str] | None = None) -> int:
    args = BENCH.sun(argv, FLAGS, runs="fpnet")
    cfg = FPNetBenchmarkConfig(
        **BENCH.common(args), modes=tuple(args.modes.split(",")),
        ar_steps=args.ar_steps, disk_steps=args.disk_steps, batch_size=args.batch_size, lr=args.lr,
        encoder_checkpoint=args.encoder, ablations=not args.no_ablations,
        input_maskings=tuple(m for m in args.input_maskings.split(",") if m),
        input_mask_ratio=args.input_mask_ratio)
    res = run(cfg)
    for mode, arms in res["per_seed"].items():
        print(f"\n### {mode} ({res['info'].get(mode, {})})\n")
        print(markdown_table(pm_rows(arms, METRICS), ["arm", *METRICS]))
        for line in comparison_lines(res["comparisons"][mode]):
            print(line)
    BENCH.finish(asdict(cfg), res, cfg.seeds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
