"""FPNet evidence on the synthetic Sun: does PPAM pretraining help flare forecasting?

    python benchmarks/fpnet.py [--root .cache/fpnet_synth] [--mae-steps 300] [--steps 300]

Builds (or reuses) a synthetic set of 10 independent 4-day runs at 2-h cadence, 128² AIA 304 Å +
HMI magnetogram (two runs per month: January = test, March = validation, Feb/Apr/May = training),
pretrains two MAEs on the training months (PPAM and random masking, same steps), then trains
FPNet full-disk and per-AR with PPAM-pretrained, random-mask-pretrained and untrained encoders,
and compares with climatology (training base rate) and a logistic regression on the physical
features alone. Every model is calibrated on the validation months (Platt); two operating points
are reported: reliable probabilities ("yes" at p ≥ 0.5) and the TSS-optimal validation threshold
mapped to 0.5. All scores on the held-out January runs, from solarray.metrics.verification.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

for k, v in {"RAY_USAGE_STATS_ENABLED": "0", "RAY_TRAIN_HEALTH_CHECK_INTERVAL_S": "0.2",
             "RAY_TRAIN_ENABLE_PREEMPTION_WATCHER": "0"}.items():
    os.environ.setdefault(k, v)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--root", default=".cache/fpnet_synth")
    p.add_argument("--runs-dir", default=".cache/fpnet_bench")
    p.add_argument("--mae-steps", type=int, default=300)
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--seeds", default="0", help="comma-separated FPNet seeds (scores averaged)")
    p.add_argument("--modes", default="ar,full_disk")
    p.add_argument("--out", default=None, help="JSON file for the results")
    args = p.parse_args(argv)

    import pandas as pd
    import ray
    import torch

    from solarray.data.synthetic import forecast_set
    from solarray.forecast import features as feat
    from solarray.forecast.baselines import climatology, logistic_baseline
    from solarray.forecast.frames import load_frames
    from solarray.forecast.prediction import verify_table
    from solarray.forecast.training import FPNetTrainConfig, train_fpnet
    from solarray.metrics.calibration import fit_calibration
    from solarray.metrics.verification import SCORE_KEYS, format_table
    from solarray.train.config import TrainConfig
    from solarray.train.loop import pretrain

    torch.set_num_threads(1)  # shared 2-core machine: avoid thread oversubscription
    ray.init(num_cpus=2, object_store_memory=512 * 1024**2, include_dashboard=False,
             log_to_driver=False)
    quiet = lambda s: None  # noqa: E731
    t0 = time.perf_counter()
    forecast_set.make_synthetic_set(args.root)
    runs = Path(args.runs_dir).resolve()
    shards = str(Path(args.root) / "shards")
    print(f"synthetic set ready ({time.perf_counter() - t0:.0f} s)")

    # --- MAE pretraining on the training months: PPAM vs random masking -----------------
    encoders: dict[str, str] = {"none": ""}
    mae_times = {}
    for strategy in ("ppam", "random"):
        cfg = TrainConfig(model="mae_vit", objective="mae",
                          model_config={"preset": "tiny", "image_size": 128,
                                        "masking": {"strategy": strategy, "ratio": 0.75}},
                          steps=args.mae_steps, batch_size=args.batch_size, lr=1e-3,
                          warmup_steps=20, checkpoint_every=args.mae_steps, num_to_keep=1,
                          report_every=50, num_workers=0, storage_path=str(runs),
                          run_name=f"mae_{strategy}_{args.mae_steps}")
        t = time.perf_counter()
        res = pretrain(cfg, shards, split=True, log=quiet)
        mae_times[strategy] = time.perf_counter() - t
        encoders[strategy] = str(res.checkpoint)
        print(f"MAE {strategy}: {args.mae_steps} steps in {mae_times[strategy]:.0f} s, "
              f"final loss {res.metrics.get('loss', float('nan')):.4f}")

    frames = load_frames(shards)
    ar = pd.concat([feat.synthetic_ar_table(d, d.name)
                    for d in forecast_set.run_dirs(args.root)],
                   ignore_index=True)
    tables = {"ar": ar, "full_disk": feat.full_disk_table(ar)}
    seeds = [int(s) for s in args.seeds.split(",")]
    results: dict = {"mae_seconds": mae_times, "modes": {}}
    for mode in args.modes.split(","):
        rows_rel: dict[str, dict] = {}
        rows_tss: dict[str, dict] = {}
        splits = None
        info = {}
        for variant, label in (("ppam", "FPNet, PPAM-pretrained"),
                               ("random", "FPNet, random-mask-pretrained"),
                               ("none", "FPNet, no pretraining")):
            per_seed_rel, per_seed_tss = [], []
            for seed in seeds:
                cfg = FPNetTrainConfig(
                    mode=mode, encoder_checkpoint=encoders[variant], steps=args.steps,
                    batch_size=args.batch_size, seed=seed, num_workers=0,
                    model_config={"preset": "tiny",
                                  "image_size": 32 if mode == "ar" else 128},
                    storage_path=str(runs), run_name=f"fpnet_{mode}_{variant}_{args.steps}_s{seed}")
                t = time.perf_counter()
                res = train_fpnet(cfg, frames, tables[mode], runs / cfg.run_name, log=quiet,
                                  splits=splits)
                splits = res.examples
                info = {"n": res.n_examples, "train_base_rate": res.train_base_rate,
                        "pos_weight": res.pos_weight}
                val, test = res.forecasts["val"], res.forecasts["test"]
                for op, store in (("reliable", per_seed_rel), ("tss", per_seed_tss)):
                    cal = fit_calibration(val["observed"], val["probability_raw"], "platt", op)
                    d = test.assign(probability=cal(test["probability_raw"].to_numpy()))
                    store.append(verify_table(d).scores())
                print(f"{mode:9s} {variant:6s} seed {seed}: {time.perf_counter() - t:.0f} s, "
                      f"ROCA {per_seed_rel[-1]['roca']:.3f}  BSS {per_seed_rel[-1]['bss']:.3f}")
            rows_rel[label] = _mean_scores(per_seed_rel, SCORE_KEYS)
            rows_tss[label] = _mean_scores(per_seed_tss, SCORE_KEYS)
        clim = climatology(splits["train"], splits["test"])
        rows_rel["Climatology"] = rows_tss["Climatology"] = verify_table(clim).scores()
        sf = ["f107", "flare_index", "log_r", "area_msh"] if mode == "ar" else \
            ["f107", "flare_index", "area_msh", "n_ar"]
        for op, rows in (("reliable", rows_rel), ("tss", rows_tss)):
            lr = logistic_baseline(splits, sf, ["flare_index", "area_msh"],
                                   ["mcintosh", "hale"], "platt", op)
            rows["Logistic regression (physics only)"] = verify_table(lr["test"]).scores()
        results["modes"][mode] = {"info": info, "reliable": rows_rel, "tss": rows_tss}
        print(f"\n### {mode}: {info}")
        print("\nReliable (Platt) probabilities, yes at p >= 0.5:\n")
        print(format_table(rows_rel, markdown=True))
        print("\nTSS-optimal validation threshold mapped to 0.5:\n")
        print(format_table(rows_tss, markdown=True))
    results["seconds"] = time.perf_counter() - t0
    out = Path(args.out or runs / "results.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1, default=float))
    print(f"\ntotal {results['seconds']:.0f} s; results in {out}")
    return 0


def _mean_scores(rows: list[dict], keys) -> dict:
    out = {}
    for k in keys:
        vals = [r[k] for r in rows if r[k] is not None]
        out[k] = None if not vals else (sum(vals) / len(vals))
    return out


if __name__ == "__main__":
    sys.exit(main())
