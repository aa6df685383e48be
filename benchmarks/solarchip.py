"""SolarCHIP downstream (SolarCHIP 2025): full-disk ≥M-in-24-h flare classification at 1 %,
10 % and 100 % of the training labels, linear probe and fine-tune, SolarCHIP ViT/CNN against the
same network from scratch, an MAE encoder and raw pixels; with ``--variants`` the ablations
(one contrastive term off).

    python benchmarks/solarchip.py [--root .cache/benchmark_sun] [--seeds 0,1,2]
        [--backbones vit,cnn] [--fractions 0.01,0.1,1] [--modes probe,finetune]
        [--variants no_global,no_local,no_intra] [--tasks classification,translation] [--no-mae] [--pretrain-steps 1000]
        [--pretrain-lr 3e-3] [--finetune-steps 100] [--readout max] [--draws 1] [--pretrain-only]
        [--out docs/results/solarchip.json]

Pretraining runs and the frames are cached in ``--runs-dir``; Ray starts only when one is
missing (``--pretrain-only`` fills the cache and stops). Prints mean ± std per arm and the
paired comparisons; the record goes to ``--out`` as JSON.
"""

from __future__ import annotations

from dataclasses import asdict

import torch

from solarray.benchmarks.record import markdown_table, pm_rows
from solarray.benchmarks.script import Bench
from solarray.benchmarks.solarchip import (
    ALL_RUNS,
    METRICS,
    SolarCHIPBenchmarkConfig,
    frames_cached,
    missing_pretraining,
    pretrain_all,
    run,
)
from solarray.benchmarks.solarchip_downstream import FinetuneConfig
from solarray.benchmarks.solarchip_translation import TranslationArmConfig
from solarray.data.dataset import assign_splits

BENCH = Bench("solarchip", "benchmarks/solarchip.py", __doc__)
FLAGS = {"--backbones": "vit,cnn", "--fractions": "0.01,0.1,1", "--modes": "probe,finetune",
         "--variants": ("", "ablations of solarchip_vit: no_global,no_local,no_intra"),
         "--no-mae": False, "--pretrain-steps": 1000, "--pretrain-batch-size": 16,
         "--pretrain-lr": 3e-3, "--finetune-steps": 100, "--pretrain-only": False,
         "--tasks": ("classification",
                     "classification and/or translation (HMI → AIA, per --backbones)"),
         "--translation-steps": 200,
         "--one-pretraining": (False, "every pretraining run made once (first seed) and shared "
                                      "by the downstream seeds (the budget's cut)"),
         "--readout": ("max", "token summary per encoder: mean (class ⊕ mean patch token) or "
                              "max (⊕ max patch token)"),
         "--draws": (1, "label draws per seed at fractions < 1"),
         "--ray-pretraining": (False, "pretrain with the generic loop under Ray Train on the "
                                      "shards instead of in-process on the cached frames")}


def _split(text: str) -> tuple[str, ...]:
    return tuple(v for v in text.split(",") if v)


def main(argv: list[str] | None = None) -> int:
    args = BENCH.parse(argv, FLAGS, sun=True, runs="solarchip", seeds="0,1,2")
    cfg = SolarCHIPBenchmarkConfig(
        **BENCH.common(args), backbones=_split(args.backbones),
        fractions=tuple(float(f) for f in _split(args.fractions)), modes=_split(args.modes),
        variants=_split(args.variants), mae=not args.no_mae,
        pretrain_steps=args.pretrain_steps, pretrain_batch_size=args.pretrain_batch_size,
        pretrain_lr=args.pretrain_lr, in_process=not args.ray_pretraining,
        **({"pretrain_once": ALL_RUNS} if args.one_pretraining else {}),
        finetune=FinetuneConfig(steps=args.finetune_steps), tasks=_split(args.tasks),
        readout=args.readout, draws=args.draws,
        translation=TranslationArmConfig(fractions=tuple(float(f) for f in _split(args.fractions)),
                                         steps=args.translation_steps))
    todo = missing_pretraining(cfg)
    if "frames" in todo or (todo and not cfg.in_process):
        print(f"[solarchip] to pretrain (starts Ray): {', '.join(todo)}")
        BENCH.start(args.root, torch_threads=1, restart_clock=False)
    # one torch thread: on 2 shared cores two threads ran the tiny ViT 10× slower (measured)
    torch.set_num_threads(1)
    if args.pretrain_only:
        images, t, _, channels = frames_cached(cfg)
        pretrain_all(cfg, channels, images[assign_splits(t) == "train"])
        return 0
    res = run(cfg)
    for frac, modes in res["per_seed"].items():
        for mode, arms in modes.items():
            print(f"\n### {float(frac):.0%} labels, {mode}\n")
            print(markdown_table(pm_rows(arms, METRICS), ["arm", *METRICS]))
            for name, by in res["comparisons"].get(frac, {}).get(mode, {}).items():
                print(f"{name}: " + "; ".join(
                    f"{k} {v['bootstrap']['difference']:+.3f} "
                    f"[{v['bootstrap']['lo']:+.3f}, {v['bootstrap']['hi']:+.3f}]"
                    for k, v in by.items() if v["bootstrap"]["difference"] is not None))
    for frac, by in res.get("translation", {}).get("comparisons", {}).items():
        for name, r in by.items():
            print(f"translation {float(frac):.0%} {name}: " + "; ".join(
                f"{k} {v['bootstrap']['difference']:+.3f} [{v['bootstrap']['lo']:+.3f}, "
                f"{v['bootstrap']['hi']:+.3f}]" for k, v in r.items()))
    BENCH.finish(asdict(cfg), res, cfg.seeds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
