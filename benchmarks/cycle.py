"""The forecast cycle at 512² on this machine: per stage, per lever, against its FLOP floor.

    python benchmarks/cycle.py [--repeats 5] [--checkpoint-dir DIR] [--size 512]
        [--arms default,dbscan_pixels,coords_sunpy,crops_one_by_one,threads_1,channels_last,
                small_untrained]
        [--out docs/results/cycle.json]

The models are the shipped defaults: the checkpoints ``solarray demo`` leaves (or
``--checkpoint-dir``; a role without a checkpoint is a tiny untrained stand-in, named so in the
JSON's ``versions``). Arms (:mod:`solarray.benchmarks.cycle`) run interleaved in rotated rounds
after one warm-up round; each prints median [min–max] per stage and its ratio to ``default``.
The ``small_untrained`` arm swaps SPNet and both FPNets for untrained models at the registry's
``small`` preset (same image sizes and channels); each model set's stages are reported against
their FLOP floor (``model_sets`` in the JSON).
"""

from __future__ import annotations

import tempfile
from dataclasses import asdict
from pathlib import Path

from solarray.benchmarks.arms import format_spread
from solarray.benchmarks.cycle import STAGES, CycleBenchConfig, run
from solarray.benchmarks.script import Bench
from solarray.core.frame import DEFAULT_GRID
from solarray.pipeline.model_set import load_models

BENCH = Bench("cycle", "benchmarks/cycle.py", __doc__)
FLAGS = {"--repeats": 5, "--warmup": 1, "--size": DEFAULT_GRID, "--threads": 2, "--checkpoint-dir": None,
         "--arms": ",".join(CycleBenchConfig().arms),
         "--synth-dir": (None, "cache of the rendered observation"),
         "--no-untrained-masks": {"dest": "untrained_masks", "action": "store_false",
                                  "help": "skip analysis on an untrained SPNet's (large) masks"}}


def main(argv: list[str] | None = None) -> int:
    args = BENCH.parse(argv, FLAGS)
    cfg = CycleBenchConfig(size=args.size, repeats=args.repeats, warmup=args.warmup,
                           threads=args.threads, arms=tuple(args.arms.split(",")))
    models = load_models(checkpoint_dir=args.checkpoint_dir)
    synth = Path(args.synth_dir or tempfile.mkdtemp(prefix="solarray-cycle-")) / f"sun{cfg.size}"
    untrained = load_models(checkpoint_dir=synth.parent / "no-checkpoints",
                            roles=("spnet",)) if args.untrained_masks else None
    res = run(models, synth, cfg, progress=lambda m: print(m, flush=True), untrained=untrained)

    print(f"\nmodels: {res['versions']}\nparameters (M): {res['params_M']}")
    print(f"regions per arm: {res['regions']}; same entities as the first arm: "
          f"{res['same_entities']}")
    cols = (*STAGES, "cycle", "end_to_end")
    for arm, st in res["stages"].items():
        print(f"\n{arm}:")
        for k in cols:
            print(f"  {k:<11} {format_spread(st[k])}")
        for k, r in res["ratios_vs_default"].get(arm, {}).items():
            print(f"  {k} / default: {r['median']:.2f}× [{r['min']:.2f}–{r['max']:.2f}]")
    print("\nanalysis parts:", {k: format_spread(v) for k, v in res["analysis_parts"]["parts"].items()})
    u = res["analysis_parts"].get("untrained_masks")
    if u:
        print(f"analysis on an untrained SPNet's masks ({u['mask_pixels']} px): components "
              f"{format_spread(u['components'])}, pixels {format_spread(u['pixels'])}, "
              f"ratio {u['pixels_over_components']['median']:.1f}×")
    g = res["gemm_rate_flops_per_s"]
    print(f"\nGEMM rate ({g['size']}² torch.mm, {g['threads']} threads, best of 7): "
          f"{g['before'] / 1e9:.1f} / {g['after'] / 1e9:.1f} GFLOP/s (before / after the arms); "
          f"token-shaped 256×64×256: {g['token_shaped_256x64x256'] / 1e9:.1f} GFLOP/s")
    for k in ("perception", "analysis", "forecast_full_disk", "forecast_ar", "total"):
        print(f"  {k:<19} {res['flops'][k] / 1e9:8.3f} GFLOP → floor {res['floor_s'][k] * 1e3:8.2f} ms")
    rf = res["ratio_to_floor"]
    print(f"cycle p50 {res['p50_cycle_s']:.3f} s = {rf['cycle']:.0f}× its FLOP floor "
          f"({res['floor_s']['total'] * 1e3:.1f} ms)")
    print("\n| models | stage | time (s) | GFLOP | FLOP floor (ms) | time / floor |\n|---|---|---|---|---|---|")
    for name, ms in res["model_sets"].items():
        for stage, st in ms["stages"].items():
            r = st["time_over_floor"]
            print(f"| {name} | {stage} | {format_spread(st['seconds'])} | {st['gflop']:.3f} | "
                  f"{st['floor_s'] * 1e3:.2f} | " + (f"{r['median']:.0f}× [{r['min']:.0f}–"
                                                     f"{r['max']:.0f}]" if r else "—") + " |")
        print(f"  {name}: {ms['params_M']} M parameters, regions {ms['regions']}")
    BENCH.finish(asdict(cfg) | {"checkpoint_dir": args.checkpoint_dir}, res)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
