"""SEARCH (seed 001) on the benchmark Sun, ≥ 3 seeds: retrieval, latent directions, generated
queries, query latency.

    python benchmarks/search.py [--root .cache/benchmark_sun] [--seeds 0,1,2]
        [--simsiam-steps 600] [--gan-steps 800] [--out docs/results/search.json]

See :mod:`solarray.benchmarks.search` for what each arm measures.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict

from solarray.benchmarks.script import command_line, finish, start
from solarray.benchmarks.search import SearchBenchmarkConfig, run
from solarray.metrics.protocol import format_pm


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--root", default=".cache/benchmark_sun")
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--simsiam-steps", type=int, default=600)
    p.add_argument("--gan-steps", type=int, default=800)
    p.add_argument("--latency-sizes", default="100000,1000000")
    p.add_argument("--out", default="docs/results/search.json")
    args = p.parse_args(argv)
    command = command_line("benchmarks/search.py", argv)
    t0 = start(args.root, torch_threads=1)
    cfg = SearchBenchmarkConfig(root=args.root, seeds=tuple(int(s) for s in args.seeds.split(",")),
                                simsiam_steps=args.simsiam_steps, gan_steps=args.gan_steps,
                                latency_sizes=tuple(int(n) for n in args.latency_sizes.split(",")))
    res = run(cfg)
    print("\n### retrieval (precision@k, test = January)\n")
    for arm, metrics in res["summary"].items():
        print(f"- {arm}: " + ", ".join(f"{k} {format_pm(v)}" for k, v in metrics.items()))
    for base, by in res["comparisons"].items():
        print(f"- simsiam vs {base}: " + ", ".join(
            f"{k} {'beats' if c['beats'] else 'does not beat'} (Δ {format_pm(c['difference'])})"
            for k, c in by.items()))
    print("\n### generative\n")
    for name, by in res["generative"].items():
        print(f"- {name}: " + ", ".join(f"{p} {format_pm(v)}" for p, v in by.items()))
    print("\n### latency (ms per query)\n")
    for n, v in res["latency"].items():
        print(f"- N={n}: exact {format_pm(v['exact_ms'])}, brute force "
              f"{format_pm(v['brute_force_ms'])}, identical top-10: {v['identical_top10']}")
    finish("search", command, asdict(cfg), res, cfg.seeds, args.out, t0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
