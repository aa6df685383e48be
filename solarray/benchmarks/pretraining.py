"""MAE pretraining with physics-prior (PPAM) vs random masking vs none, on the benchmark Sun, as a
curve over pretraining budgets.

For each seed: two MAEs (``mae_vit``, same steps, batch and seed) pretrained on the training
months' full-disk frames of the benchmark Sun with PPAM and with random masking, **one run each**
to the largest budget, with a checkpoint at every budget of ``mae_steps`` (the cosine schedule is
the longest run's: an earlier checkpoint is that run part-way, not a shorter run of its own);
then the per-AR FPNet fine-tuned from each checkpoint and from scratch. FPNet here sees the
**crops only** (no physics features), so the score measures what the encoder gives the image
pathway; with the physics features FPNet is already near the ceiling of the benchmark
(:mod:`solarray.benchmarks.fpnet`). Everything trains in this process over the frames and crops
in memory (:func:`~solarray.benchmarks.frames_fit.fit_frames`, no Ray).

Scores as in :func:`solarray.benchmarks.fpnet.scores` on the test month; at each budget PPAM −
random, PPAM − none and random − none, paired by seed and with paired bootstrap 95 % intervals
over test regions (:mod:`solarray.benchmarks.paired_arms`); each MAE's mean loss over the steps
before each checkpoint.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from solarray.benchmarks.fpnet import CROPS_ONLY, kept_forecasts, score_groups, scores
from solarray.benchmarks.frames_fit import fit_frames
from solarray.benchmarks.paired_arms import examples_fitter, paired_comparisons
from solarray.benchmarks.runs import ProtocolConfig
from solarray.data.dataset import assign_splits
from solarray.forecast.features import load_feature_table
from solarray.forecast.frames import load_frames, select_channels
from solarray.forecast.training import FPNetTrainConfig, train_fpnet
from solarray.train.checkpoints import CHECKPOINT_PREFIX, METRICS_FILE
from solarray.train.config import TrainConfig

STRATEGIES = ("random", "ppam")


@dataclass
class PretrainingBenchmarkConfig(ProtocolConfig):
    runs_dir: str = ".cache/benchmark_runs/pretraining"
    mae_steps: tuple[int, ...] = (100, 300, 700)
    mae_batch_size: int = 16
    mae_lr: float = 1e-3
    mask_ratio: float = 0.75
    channels: tuple[str, ...] = ("hmi_m", "aia304")
    """Each MAE (PPAM, random masking): budgets (checkpoints of one run), batch, learning rate,
    masked fraction, channels."""
    fpnet_steps: int = 1000
    fpnet_batch_size: int = 32
    fpnet_lr: float = 1e-3
    ar_image_size: int = 32
    """The per-AR FPNet fine-tuned on the crops alone: steps, batch, learning rate, crop size."""
    n_boot: int = 1000

    def __post_init__(self) -> None:
        self.seeds, self.channels = tuple(self.seeds), tuple(self.channels)
        self.mae_steps = tuple(sorted({int(s) for s in self.mae_steps}))
        if not self.mae_steps or self.mae_steps[0] < 1 or self.fpnet_steps < 1:
            raise ValueError("mae_steps (at least one budget) and fpnet_steps must be ≥ 1")


def arm_name(strategy: str, steps: int) -> str:
    """``"ppam@300"``: FPNet from the ``strategy`` MAE's checkpoint at ``steps``."""
    return f"{strategy}@{steps}"


def _mae(cfg: PretrainingBenchmarkConfig, images, strategy: str, seed: int,
         log: Callable[[str], None]) -> tuple[dict[int, str], dict[int, float]]:
    """One MAE run to the largest budget; → (checkpoint per budget, mean loss before each)."""
    tcfg = TrainConfig(
        model="mae_vit", objective="mae", channels=cfg.channels,
        model_config={"preset": "tiny", "image_size": int(images.shape[-1]),
                      "masking": {"strategy": strategy, "ratio": cfg.mask_ratio}},
        steps=cfg.mae_steps[-1], batch_size=cfg.mae_batch_size, lr=cfg.mae_lr, seed=seed,
        warmup_steps=min(50, cfg.mae_steps[-1] - 1), run_name=f"mae_{strategy}_s{seed}",
        storage_path=str(Path(cfg.runs_dir).resolve()))
    t = time.perf_counter()
    fit_frames(images, tcfg, tcfg.run_dir, save_at=cfg.mae_steps)
    lines = [json.loads(x) for x in (tcfg.run_dir / METRICS_FILE).read_text().split("\n") if x]
    loss = {int(r["step"]): float(r["loss"]) for r in lines}
    log(f"[pretrain-bench] MAE {strategy} seed {seed}: {cfg.mae_steps[-1]} steps in "
        f"{time.perf_counter() - t:.0f} s, loss " + ", ".join(f"@{k} {v:.4f}"
                                                               for k, v in loss.items()))
    ckpts = {s: str(tcfg.run_dir / f"{CHECKPOINT_PREFIX}{s:08d}") for s in cfg.mae_steps}
    return ckpts, loss


def run(cfg: PretrainingBenchmarkConfig, log: Callable[[str], None] = print) -> dict:
    """``{"per_seed": {arm: [scores per seed]}, "mae_loss": {strategy: {steps: [...]}},
    "intervals": {steps: {...}}, "info"}``; arms ``none`` and ``<strategy>@<steps>``."""
    frames = select_channels(load_frames(Path(cfg.root) / "shards", local=True), cfg.channels)
    table = load_feature_table(synthetic=cfg.root)
    fcfg0 = FPNetTrainConfig(mode="ar")
    train_images = frames.image[assign_splits(frames.t, fcfg0.val_months, fcfg0.test_months,
                                              fcfg0.gap_hours) == "train"]
    per_seed: dict[str, list] = {}
    kept: dict[str, list] = {}
    mae_loss: dict[str, dict[int, list]] = {s: {b: [] for b in cfg.mae_steps} for s in STRATEGIES}
    splits, res = None, None
    for seed in cfg.seeds:
        encoders = {"none": ""}
        for strategy in STRATEGIES:
            ckpts, loss = _mae(cfg, train_images, strategy, seed, log)
            for b in cfg.mae_steps:
                encoders[arm_name(strategy, b)] = ckpts[b]
                mae_loss[strategy][b].append(loss.get(b))
        for name, ckpt in encoders.items():
            fcfg = FPNetTrainConfig(
                mode="ar", encoder_checkpoint=ckpt, steps=cfg.fpnet_steps,
                batch_size=cfg.fpnet_batch_size, lr=cfg.fpnet_lr, seed=seed,
                model_config={"preset": "tiny", "image_size": cfg.ar_image_size, **CROPS_ONLY},
                storage_path=str(Path(cfg.runs_dir).resolve()),
                run_name=f"fpnet_crops_{name.replace('@', '_')}_s{seed}")
            t = time.perf_counter()
            res = train_fpnet(fcfg, frames, table, Path(cfg.runs_dir) / fcfg.run_name,
                              log=lambda s: None, splits=splits, fitter=examples_fitter())
            splits = res.examples
            s = scores(res.forecasts["val"], res.forecasts["test"])
            per_seed.setdefault(name, []).append(s)
            kept.setdefault(name, []).append(kept_forecasts(res.forecasts["val"],
                                                            res.forecasts["test"]))
            log(f"[pretrain-bench] FPNet crops only, encoder {name}, seed {seed}: "
                f"{time.perf_counter() - t:.0f} s, " + ", ".join(
                    f"{k} {v:.3f}" for k, v in s.items() if v is not None))
    test = res.forecasts["test"]
    tk = test[test["observed"] >= 0].reset_index(drop=True)
    groups, unit = score_groups(tk)
    intervals = {b: paired_comparisons(per_seed, kept, tk["observed"].to_numpy(), groups, pairs(b),
                                       n_boot=cfg.n_boot) for b in cfg.mae_steps}
    info = {"n": {k: len(v) for k, v in (splits or {}).items()}, "channels": list(cfg.channels),
            "mae_image_size": int(frames.image.shape[-1]), "mae_train_frames": len(train_images),
            "resampled": unit, "n_groups": int(len(set(groups))), "n_test_rows": int(len(tk))}
    return {"per_seed": per_seed, "mae_loss": mae_loss, "intervals": intervals, "info": info}


def pairs(steps: int) -> list[tuple[str, str]]:
    """The comparisons at one budget: PPAM − random, PPAM − none, random − none."""
    ppam, rnd = arm_name("ppam", steps), arm_name("random", steps)
    return [(ppam, rnd), (ppam, "none"), (rnd, "none")]


__all__ = ["PretrainingBenchmarkConfig", "STRATEGIES", "arm_name", "pairs", "run"]
