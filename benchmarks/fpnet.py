"""FPNet on the benchmark Sun, ≥ 3 seeds, against climatology and logistic regression.

    python benchmarks/fpnet.py [--root .cache/benchmark_sun] [--seeds 0,1,2] [--modes ar,full_disk]
        [--ar-steps 400] [--disk-steps 300] [--input-maskings random,ppam] [--crops-only]
        [--ar-image-size 32] [--in-process] [--n-boot 1000] [--out docs/results/fpnet.json]

Builds the benchmark Sun when missing (``solarray benchmark-sun``), then runs every arm of
:mod:`solarray.benchmarks.fpnet` for every seed and prints mean ± std per arm and the paired
comparisons (a model beats a baseline when mean − std of the per-seed difference is > 0); with
``--input-maskings`` also the paired bootstrap 95 % intervals over test regions of PPAM − random
and each − every patch. ``--crops-only``: FPNet without physical features (the image pathway is
all it has); ``--in-process``: training in this process, no Ray. The results (command line,
config, per-seed scores, comparisons, intervals) go to ``--out`` as JSON.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import torch

from solarray.benchmarks.fpnet import METRICS, FPNetBenchmarkConfig, run
from solarray.benchmarks.paired_arms import interval_lines
from solarray.benchmarks.record import comparison_lines, markdown_table, pm_rows
from solarray.benchmarks.script import Bench

BENCH = Bench("fpnet", "benchmarks/fpnet.py", __doc__)
FLAGS = {"--modes": "ar,full_disk", "--ar-steps": 400, "--disk-steps": 300, "--batch-size": 32,
         "--lr": 1e-3, "--encoder": ("", "MAE checkpoint to start the encoder from"),
         "--no-ablations": False,
         "--input-maskings": ("", "extra arms, e.g. random,ppam: FPNet whose encoder sees "
                                  "only some image patches (PPAM on FPNet's input)"),
         "--input-mask-ratio": 0.5, "--ar-image-size": 32,
         "--crops-only": (False, "FPNet without physical features: the crops alone"),
         "--in-process": (False, "train in this process over the examples in memory (no Ray)"),
         "--n-boot": 1000}


def main(argv: list[str] | None = None) -> int:
    args = BENCH.parse(argv, FLAGS, sun=True, runs="fpnet", seeds="0,1,2")
    if args.in_process and (Path(args.root) / "shards").is_dir():
        torch.set_num_threads(1)  # no Ray: nothing waits for the cores' lock
    else:
        BENCH.start(args.root)
    cfg = FPNetBenchmarkConfig(
        **BENCH.common(args), modes=tuple(args.modes.split(",")),
        ar_steps=args.ar_steps, disk_steps=args.disk_steps, batch_size=args.batch_size, lr=args.lr,
        encoder_checkpoint=args.encoder, ablations=not args.no_ablations,
        input_maskings=tuple(m for m in args.input_maskings.split(",") if m),
        input_mask_ratio=args.input_mask_ratio, ar_image_size=args.ar_image_size,
        crops_only=args.crops_only, in_process=args.in_process, n_boot=args.n_boot)
    res = run(cfg)
    for mode, arms in res["per_seed"].items():
        print(f"\n### {mode} ({res['info'].get(mode, {})})\n")
        print(markdown_table(pm_rows(arms, METRICS), ["arm", *METRICS]))
        for line in comparison_lines(res["comparisons"][mode]):
            print(line)
        if mode in res.get("intervals", {}):
            print("\n".join(interval_lines(res["intervals"][mode]["comparisons"])))
    BENCH.finish(asdict(cfg), res, cfg.seeds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
