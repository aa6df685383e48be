"""SA-AI 2025 Table 4 on the benchmark Sun: FPNet* (truth inputs), the automatic chain, the SVM on
McIntosh + F10.7, logistic regression and climatology, every column at probability 0.5 and at
the validation-chosen threshold.

    python benchmarks/table4.py [--root .cache/benchmark_sun] [--seeds 0,1,2]
        [--runs-dir .cache/benchmark_runs/automatic_chain] [--n-boot 1000]
        [--out docs/results/table4.json]

Reads back the automatic-chain benchmark's finished FPNet runs (same ``--runs-dir``; missing ones
are trained), fits the baselines on the same splits and prints, per region and full disk, the
Table 4 layout and the paired 95 % bootstrap intervals of FPNet* and of the chain against each
baseline (:mod:`solarray.benchmarks.table4`).
"""

from __future__ import annotations

from dataclasses import asdict

from solarray.benchmarks.script import Bench
from solarray.benchmarks.table4 import Table4Config, label, markdown, run

BENCH = Bench("table4", "benchmarks/table4.py", __doc__)
FLAGS = {"--n-boot": 1000}


def main(argv: list[str] | None = None) -> int:
    args = BENCH.sun(argv, FLAGS, runs="automatic_chain")
    cfg = Table4Config(**BENCH.common(args), n_boot=args.n_boot)
    res = run(cfg)
    for mode, r in res.items():
        print(f"\n### {mode} (examples {r['info']})\n")
        print(markdown(r["rows"]))
        for arm, against in r["paired"].items():
            for base, d in against.items():
                print(f"- {label(arm)} − {label(base)} ({d['n']} forecasts): " + ", ".join(
                    f"{k} {v['difference']:+.3f} [{v['lo']:+.3f}, {v['hi']:+.3f}]"
                    for k, v in d.items() if isinstance(v, dict)
                    and v.get("difference") is not None and v.get("lo") is not None))
    BENCH.finish(asdict(cfg), res, cfg.seeds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
