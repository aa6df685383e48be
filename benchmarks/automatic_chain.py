"""The automatic chain (what `solarray serve` delivers) on the benchmark Sun's held-out Suns.

    python benchmarks/automatic_chain.py [--root .cache/benchmark_sun] [--seeds 0,1,2]
        [--spnet-steps 400] [--ar-steps 400] [--disk-steps 300] [--n-boot 1000]
        [--out docs/results/automatic_chain.json] [--serving-set DIR]

Trains SPNet and the Hale/McIntosh CNNs on the training Suns, builds FPNet's tables with that
chain, trains FPNet on them (and, as an upper bound, on the truth's features) for every seed and
scores every arm of :mod:`solarray.benchmarks.automatic_chain` on the test Suns: mean ± std over
seeds, 95 % bootstrap intervals (true regions / days resampled) and the paired intervals of the
chain against each baseline on the same pipeline features. ``--serving-set DIR`` also writes the
measured chain (SPNet, classifiers, the first seed's FPNet runs) as a checkpoint directory for
``solarray serve --checkpoint-dir DIR`` / ``solarray watch`` / ``benchmarks/live_replay.py``.
"""

from __future__ import annotations

from dataclasses import asdict

from solarray.benchmarks.automatic_chain import ChainBenchmarkConfig, run, serving_set
from solarray.benchmarks.record import markdown_table, pm_rows
from solarray.benchmarks.script import Bench

BENCH = Bench("automatic_chain", "benchmarks/automatic_chain.py", __doc__)
FLAGS = {"--spnet-steps": 400, "--classifier-epochs": 3, "--ar-steps": 400, "--disk-steps": 300,
         "--batch-size": 32, "--lr": 1e-3, "--n-boot": 1000,
         "--serving-set": (None, "also write the measured chain's checkpoints here")}
KEYS = ("roca", "bss", "tss")


def _ci(s: dict, key: str) -> str:
    lo, hi = s.get(f"{key}_lo"), s.get(f"{key}_hi")
    return "" if lo is None else f"[{lo:.3f}, {hi:.3f}]"


def main(argv: list[str] | None = None) -> int:
    args = BENCH.sun(argv, FLAGS, runs="automatic_chain")
    cfg = ChainBenchmarkConfig(
        **BENCH.common(args), spnet_steps=args.spnet_steps,
        classifier_epochs=args.classifier_epochs, ar_steps=args.ar_steps,
        disk_steps=args.disk_steps, batch_size=args.batch_size, lr=args.lr, n_boot=args.n_boot)
    res = run(cfg)
    for mode in ("ar", "full_disk"):
        print(f"\n### {mode} ({res['info'][mode]})\n")
        rows = pm_rows(res["per_seed"][mode], KEYS)
        rows += [{"arm": name, **{k: f"{s[k]:.3f}" if s.get(k) is not None else "" for k in KEYS}}
                 for name, s in res["baselines"][mode].items()]
        print(markdown_table(rows, ["arm", *KEYS]))
        for name, s in {**{a: v[0] for a, v in res["per_seed"][mode].items()},
                        **res["baselines"][mode]}.items():
            print(f"- {name}: ROCA 95 % {_ci(s, 'roca')}, BSS 95 % {_ci(s, 'bss')} "
                  f"({s['n_groups']} {s['resampled']})")
        for name, d in res["paired"][mode].items():
            print(f"- automatic_chain − {name} ({d['n']} forecasts): " + ", ".join(
                f"{k} {v['difference']:+.3f} [{v['lo']:+.3f}, {v['hi']:+.3f}]"
                f"{' beats' if v['beats'] else ''}" for k, v in d.items()
                if k in ("roca", "bss") and v["difference"] is not None
                and v["lo"] is not None))
    print("\n### per region, one stage swapped for its truth (stage cost = swapped − chain)\n")
    chain = res["per_seed"]["ar"]["automatic_chain"]
    rows = pm_rows({"automatic_chain": chain, **{f"swap_{k}": v["fpnet"]
                                                 for k, v in res["stages"]["ar"].items()}}, KEYS)
    rows += [{"arm": f"logistic swap_{k}", **{m: f"{v['logistic'][m]:.3f}" for m in KEYS}}
             for k, v in res["stages"]["ar"].items()]
    print(markdown_table(rows, ["arm", *KEYS]))
    if args.serving_set:
        print(f"serving checkpoints: {serving_set(cfg, args.serving_set)}")
    BENCH.finish(asdict(cfg), res, cfg.seeds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
