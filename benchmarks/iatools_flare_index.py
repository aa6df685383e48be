"""IATools' flare index against the truth, as SA-AI 2025 §3.2.4 reports it (Pearson 0.94 / 0.93).

    python benchmarks/iatools_flare_index.py [--root .cache/benchmark_sun]
        [--runs-dir .cache/benchmark_runs/automatic_chain] [--n-boot 1000]
        [--out docs/results/iatools_flare_index.json]

Reads (or builds) the automatic chain's tables (SPNet → IATools; flares from the synthetic GOES
XRS curve located on 193 Å) and prints the Pearson correlation of the daily full-disk FI and of
the daily maximum regional FI with the synthetic truth's, with 95 % bootstrap intervals over
days, for the test Suns and for all (:mod:`solarray.benchmarks.iatools_eval`).
"""

from __future__ import annotations

from dataclasses import asdict

from solarray.benchmarks.automatic_chain import ChainBenchmarkConfig
from solarray.benchmarks.iatools_eval import run
from solarray.benchmarks.record import markdown_table
from solarray.benchmarks.script import Bench

BENCH = Bench("iatools_flare_index", "benchmarks/iatools_flare_index.py", __doc__)
FLAGS = {"--n-boot": 1000}
SEED = {"disk": "0.94 (daily full-disk FI vs SWPC)", "ar_max": "0.93 (daily max AR FI vs SWPC)"}


def main(argv: list[str] | None = None) -> int:
    args = BENCH.sun(argv, FLAGS, runs="automatic_chain")
    cfg = ChainBenchmarkConfig(root=args.root, runs_dir=args.runs_dir, n_boot=args.n_boot)
    res = run(cfg)
    rows = [{"Suns": subset, "FI": kind, "Pearson r": f"{a['pearson']:.3f}",
             "95 %": f"[{a['lo']:.3f}, {a['hi']:.3f}]", "days": a["n_days"],
             "days with FI > 0": a["days_with_fi"],
             "mean FI chain / truth": f"{a['mean_pred']:.1f} / {a['mean_truth']:.1f}",
             "seed": SEED[kind]}
            for subset, by_kind in res["flare_index"].items() for kind, a in by_kind.items()]
    print(markdown_table(rows, list(rows[0])))
    BENCH.finish(asdict(cfg), res)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
