"""Skill with each input removed: the benchmark Sun's test Suns through the served cycle with all
channels and with each channel missing (:mod:`solarray.benchmarks.degraded_inputs`).

    python benchmarks/degraded_inputs.py [--checkpoint-dir .cache/benchmark_runs/chain_serving]
        [--suns N] [--every K] [--n-boot 1000] [--quick] [--out docs/results/degraded_inputs.json]

``--quick``: 3 test Suns, every 3rd observation, 200 bootstrap draws (a few minutes). Prints one
table: full-disk and per-region ROCA and BSS [95 % interval] per arm, and the full-disk paired
difference all − arm.
"""

from __future__ import annotations

from dataclasses import asdict

from solarray.benchmarks.degraded_inputs import ALL, DegradedInputsConfig, run
from solarray.benchmarks.script import Bench
from solarray.pipeline.model_set import load_models

BENCH = Bench("degraded_inputs", "benchmarks/degraded_inputs.py", __doc__)
FLAGS = {"--checkpoint-dir": DegradedInputsConfig.checkpoint_dir,
         "--suns": (0, "first N test Suns (0: all)"), "--every": (1, "every k-th observation"),
         "--n-boot": 1000, "--quick": (False, "3 Suns, every 3rd observation, 200 draws")}


def _cell(s: dict, key: str) -> str:
    iv = s.get(key) or {}
    if iv.get("value") is None:
        return "–"
    lo, hi = iv.get("lo"), iv.get("hi")
    return f"{iv['value']:.3f} [{lo:.2f}, {hi:.2f}]" if lo is not None else f"{iv['value']:.3f}"


def _diff(s: dict, key: str) -> str:
    d = s.get(key) or {}
    if d.get("difference") is None:
        return "–"
    return f"{d['difference']:+.3f} [{d['lo']:+.2f}, {d['hi']:+.2f}]"


def main(argv: list[str] | None = None) -> int:
    args = BENCH.parse(argv, FLAGS, sun=True)
    if args.quick:
        args.suns, args.every, args.n_boot = args.suns or 3, max(args.every, 3), 200
    cfg = DegradedInputsConfig(root=args.root, checkpoint_dir=args.checkpoint_dir,
                               suns=args.suns or None, every=args.every, n_boot=args.n_boot)
    BENCH.start(args.root, torch_threads=2)
    models = load_models(checkpoint_dir=cfg.checkpoint_dir)
    if models.untrained:
        raise SystemExit(f"{cfg.checkpoint_dir}: no checkpoint for {', '.join(models.untrained)}")
    res = run(cfg, models)
    print(f"\n{res['info']['observations']} observations of {len(res['info']['suns'])} test "
          f"Suns; seconds per cycle {res['seconds_per_cycle']}")
    print(f"{'arm':<16}{'full disk ROCA':>24}{'BSS':>24}{'all − arm ROCA':>24}"
          f"{'per region ROCA':>24}{'BSS':>24}{'n regions':>10}")
    for arm, fd in res["full_disk"].items():
        rg, pd_ = res["regions"][arm], res["paired_full_disk"].get(arm, {})
        print(f"{arm:<16}{_cell(fd, 'roca'):>24}{_cell(fd, 'bss'):>24}"
              f"{'' if arm == ALL else _diff(pd_, 'roca'):>24}{_cell(rg, 'roca'):>24}"
              f"{_cell(rg, 'bss'):>24}{rg.get('n', 0):>10}")
    print(f"fallbacks: {res['fallbacks']}")
    BENCH.finish(asdict(cfg) | {"quick": args.quick}, res)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
