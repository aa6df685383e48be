"""The generic loop's optimisation over frames already in memory, in this process, without Ray.

Why: on the shared 2-core machine a Ray run waits for the cores' lock behind every other
engineer's Ray job, while a benchmark's small trainings (e.g. 60 translation models of 200 steps at
32 px) fit in memory. Same objective, optimisers (:func:`~solarray.train.optim.build_optimizers`,
with the objective's own hyperparameters, e.g. Pix2Pix's Adam β = (0.5, 0.999)), schedule
(:func:`~solarray.train.loop.warmup_cosine` with ``cfg``'s warm-up and floor), clipping and step
(:func:`~solarray.train.optim.train_step`) as the Ray Train loop; batches are drawn from shuffled
epochs of ``images`` instead of a Ray Data stream. The checkpoint is the loop's
(``checkpoint_<step>/model.pt``), loadable with :func:`~solarray.models.load_model`.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from solarray.train.checkpoints import CHECKPOINT_PREFIX, save_training_checkpoint
from solarray.train.config import TrainConfig
from solarray.train.loop import warmup_cosine
from solarray.train.objectives import get_objective
from solarray.train.optim import build_optimizers, train_step


def fit_frames(images: np.ndarray, cfg: TrainConfig, run_dir: str | Path) -> Path:
    """Train ``cfg`` (model, objective, channels = ``images``' channels, steps, batch size,
    optimiser settings, seed) on ``images`` ``[N, C, H, W]`` (scaled; NaN → 0); → the directory
    of the checkpoint written at ``cfg.steps``."""
    if images.ndim != 4 or images.shape[1] != len(cfg.channels):
        raise ValueError(f"images {images.shape} do not hold the {len(cfg.channels)} channels "
                         f"{list(cfg.channels)}")
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    obj = get_objective(cfg.objective, cfg.model, **cfg.objective_config)
    net = obj.build_model(cfg.model, cfg.model_config, cfg.channels)
    opt, sched = build_optimizers(obj, net, cfg, lambda s: warmup_cosine(
        s, cfg.warmup_steps, cfg.steps, cfg.min_lr_ratio))
    scaler = torch.amp.GradScaler(enabled=False)
    order = np.empty(0, dtype=np.int64)
    batch_size = min(cfg.batch_size, len(images))
    net.train()
    for step in range(1, cfg.steps + 1):
        if len(order) < batch_size:
            order = np.concatenate([order, rng.permutation(len(images))])
        idx, order = order[:batch_size], order[batch_size:]
        x = np.nan_to_num(np.ascontiguousarray(images[idx], np.float32))
        train_step(obj, net, {"image": torch.from_numpy(x)}, opt, scaler, cfg.grad_clip, False,
                   "cpu", f"{cfg.run_name} step {step}")
        sched.step()
    ckpt = Path(run_dir) / f"{CHECKPOINT_PREFIX}{cfg.steps:08d}"
    ckpt.mkdir(parents=True, exist_ok=True)
    save_training_checkpoint(ckpt, net, opt, sched, scaler, cfg.steps, asdict(cfg))
    return ckpt


__all__ = ["fit_frames"]
