"""SEARCH (Chatterjee 2025) on the benchmark Sun, ≥ 3 seeds: retrieval, latent directions, generated
queries, query latency.

    python benchmarks/search.py [--root .cache/benchmark_sun] [--seeds 0,1,2]
        [--simsiam-steps 600] [--gan-steps 800] [--out docs/results/search.json]

See :mod:`solarray.benchmarks.search` for what each arm measures.
"""

from __future__ import annotations

from dataclasses import asdict

from solarray.benchmarks.record import comparison_line
from solarray.benchmarks.script import Bench
from solarray.benchmarks.search import SearchBenchmarkConfig, run
from solarray.metrics.protocol import format_pm

BENCH = Bench("search", "benchmarks/search.py", __doc__)
FLAGS = {"--simsiam-steps": 600, "--gan-steps": 800, "--latency-sizes": "100000,1000000"}


def main(argv: list[str] | None = None) -> int:
    args = BENCH.sun(argv, FLAGS, torch_threads=1)
    cfg = SearchBenchmarkConfig(**BENCH.common(args), simsiam_steps=args.simsiam_steps,
                                gan_steps=args.gan_steps,
                                latency_sizes=tuple(int(n) for n in args.latency_sizes.split(",")))
    res = run(cfg)
    print("\n### retrieval (precision@k, test = January)\n")
    for arm, metrics in res["summary"].items():
        print(f"- {arm}: " + ", ".join(f"{k} {format_pm(v)}" for k, v in metrics.items()))
    for base, by in res["comparisons"].items():
        print(comparison_line("simsiam", base, by))
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
