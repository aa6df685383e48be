"""MAE pretraining with physics-prior (PPAM) vs random masking vs none, on the benchmark Sun.

For each seed: two MAEs (``mae_vit``, same steps, batch and seed) pretrained on the training
months of the benchmark Sun with PPAM and with random masking; then the per-AR FPNet fine-tuned
from each encoder and from scratch. FPNet here sees the **crops only** (no physics features), so
the score measures what the encoder gives the image pathway; with the physics features FPNet is
already near the ceiling of the benchmark (:mod:`solarray.benchmarks.fpnet`). Scores as in
:func:`solarray.benchmarks.fpnet.scores` on the test month, plus each MAE's final loss.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from solarray.benchmarks.fpnet import METRICS, scores
from solarray.benchmarks.runs import ProtocolConfig, pretrain_run
from solarray.forecast.features import load_feature_table
from solarray.forecast.frames import load_frames, select_channels
from solarray.forecast.training import FPNetTrainConfig, train_fpnet
from solarray.metrics.protocol import compare

ENCODERS = ("none", "random", "ppam")


@dataclass
class PretrainingBenchmarkConfig(ProtocolConfig):
    runs_dir: str = ".cache/benchmark_runs/pretraining"
    mae_steps: int = 600
    mae_batch_size: int = 16
    mae_lr: float = 1e-3
    mask_ratio: float = 0.75
    channels: tuple[str, ...] = ("hmi_m", "aia304")
    """Each MAE (PPAM, random masking): steps, batch, learning rate, masked fraction, channels."""
    fpnet_steps: int = 400
    fpnet_batch_size: int = 32
    fpnet_lr: float = 1e-3
    ar_image_size: int = 32
    """The per-AR FPNet fine-tuned on the crops alone: steps, batch, learning rate, crop size."""

    def __post_init__(self) -> None:
        self.seeds, self.channels = tuple(self.seeds), tuple(self.channels)
        if self.mae_steps < 1 or self.fpnet_steps < 1:
            raise ValueError("mae_steps and fpnet_steps must be ≥ 1")


def _mae(cfg: PretrainingBenchmarkConfig, strategy: str, seed: int, size: int,
         log: Callable[[str], None]) -> tuple[str, float]:
    res, seconds = pretrain_run(
        cfg.root, cfg.runs_dir, f"mae_{strategy}_s{seed}", model="mae_vit", objective="mae",
        channels=cfg.channels, model_config={"preset": "tiny", "image_size": size, "masking": {
            "strategy": strategy, "ratio": cfg.mask_ratio}}, steps=cfg.mae_steps,
        batch_size=cfg.mae_batch_size, lr=cfg.mae_lr, seed=seed, warmup=50, reports=4)
    loss = float(res.metrics.get("loss", float("nan")))
    log(f"[pretrain-bench] MAE {strategy} seed {seed}: {cfg.mae_steps} steps in "
        f"{seconds:.0f} s, final loss {loss:.4f}")
    return str(res.checkpoint), loss


def run(cfg: PretrainingBenchmarkConfig, log: Callable[[str], None] = print) -> dict:
    """``{"per_seed": {encoder: [scores per seed]}, "mae_loss": {strategy: [...]}, "info"}``."""
    frames = select_channels(load_frames(Path(cfg.root) / "shards"), cfg.channels)
    table = load_feature_table(synthetic=cfg.root)
    size = int(frames.image.shape[-1])
    per_seed: dict[str, list] = {e: [] for e in ENCODERS}
    mae_loss: dict[str, list] = {s: [] for s in ENCODERS[1:]}
    splits = None
    for seed in cfg.seeds:
        encoders = {"none": ""}
        for strategy in ENCODERS[1:]:
            encoders[strategy], loss = _mae(cfg, strategy, seed, size, log)
            mae_loss[strategy].append(loss)
        for name, ckpt in encoders.items():
            fcfg = FPNetTrainConfig(
                mode="ar", encoder_checkpoint=ckpt, steps=cfg.fpnet_steps,
                batch_size=cfg.fpnet_batch_size, lr=cfg.fpnet_lr, seed=seed,
                model_config={"preset": "tiny", "image_size": cfg.ar_image_size,
                              "scalar_features": [], "log_features": [],
                              "categorical_features": []},
                storage_path=str(Path(cfg.runs_dir).resolve()),
                run_name=f"fpnet_image_only_{name}_s{seed}")
            t = time.perf_counter()
            res = train_fpnet(fcfg, frames, table, Path(cfg.runs_dir) / fcfg.run_name,
                              log=lambda s: None, splits=splits)
            splits = res.examples
            s = scores(res.forecasts["val"], res.forecasts["test"])
            per_seed[name].append(s)
            log(f"[pretrain-bench] FPNet crops only, encoder {name}, seed {seed}: "
                f"{time.perf_counter() - t:.0f} s, " + ", ".join(
                    f"{k} {v:.3f}" for k, v in s.items() if v is not None))
    info = {"n": {k: len(v) for k, v in (splits or {}).items()}, "channels": list(cfg.channels),
            "mae_image_size": size}
    return {"per_seed": per_seed, "mae_loss": mae_loss, "info": info}


def comparisons(per_seed: dict[str, list[dict]]) -> dict[str, dict[str, dict]]:
    """The two pretrained encoders (PPAM, random masking) against every other arm, per metric,
    paired by seed."""
    return {a: {b: {k: compare([s[k] for s in per_seed[a]], [s[k] for s in per_seed[b]])
                    for k in METRICS} for b in per_seed if b != a} for a in ("ppam", "random")}


__all__ = ["ENCODERS", "PretrainingBenchmarkConfig", "comparisons", "run"]
