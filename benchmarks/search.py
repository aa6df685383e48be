"""SEARCH (Chatterjee 2025) on the benchmark Sun, ≥ 3 seeds: does SimSiam retrieval beat raw pixels
and the untrained network; latent directions, generated queries, query latency.

    python benchmarks/search.py [--root .cache/benchmark_sun] [--seeds 0,1,2] [--size 48]
        [--preset resnet_tiny] [--simsiam-steps 600] [--gan-steps 800] [--retrieval-only]
        [--out docs/results/search.json]

See :mod:`solarray.benchmarks.search` for what each arm measures.
"""

from __future__ import annotations

from dataclasses import asdict

from solarray.benchmarks.script import Bench
from solarray.benchmarks.search import SearchBenchmarkConfig, run
from solarray.metrics.protocol import format_pm

BENCH = Bench("search", "benchmarks/search.py", __doc__)
FLAGS = {"--size": 48, "--preset": "resnet_tiny", "--simsiam-steps": 600, "--gan-steps": 800,
         "--batch-size": 64, "--noise-gauss": 10.0, "--n-boot": 1000,
         "--latency-sizes": "100000,1000000",
         "--retrieval-only": (False, "skip the GAN, generated queries and latency")}


def main(argv: list[str] | None = None) -> int:
    args = BENCH.sun(argv, FLAGS, torch_threads=2)
    cfg = SearchBenchmarkConfig(**BENCH.common(args), size=args.size, preset=args.preset,
                                simsiam_steps=args.simsiam_steps, gan_steps=args.gan_steps,
                                batch_size=args.batch_size, noise_gauss=args.noise_gauss,
                                n_boot=args.n_boot,
                                latency_sizes=tuple(int(n) for n in args.latency_sizes.split(",")))
    res = run(cfg, generative=not args.retrieval_only)
    print("\n### retrieval (test = January; mean ± std over seeds)\n")
    for arm, metrics in res["summary"].items():
        print(f"- {arm}: " + ", ".join(f"{k} {format_pm(v)}" for k, v in metrics.items()))
    print("\n### SimSiam − baseline (region-bootstrap 95 % interval)\n")
    for base, by in res["intervals"].items():
        print(f"- vs {base}: " + ", ".join(
            f"{k} {v['difference']:+.3f} [{v['lo']:+.3f}, {v['hi']:+.3f}]" for k, v in by.items()))
    if "generative" in res:
        print("\n### generative\n")
        for name, by in res["generative"].items():
            print(f"- {name}: " + ", ".join(f"{p} {format_pm(v)}" for p, v in by.items()))
        print("\n### latency (ms per query)\n")
        for n, v in res["latency"].items():
            print(f"- N={n}: exact {format_pm(v['exact_ms'])}, brute force "
                  f"{format_pm(v['brute_force_ms'])}, identical top-10: {v['identical_top10']}")
    BENCH.finish(asdict(cfg), res, cfg.seeds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
