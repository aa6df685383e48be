"""Training for the SolarCHIP benchmark without Ray: the generic loop's objective, optimisers
(:func:`~solarray.train.optim.build_optimizers`: AdamW with
:class:`~solarray.train.config.TrainConfig`'s defaults, or the objective's own, e.g. Pix2Pix's
Adam β = (0.5, 0.999)), warm-up + cosine schedule, clipping and step
(:func:`~solarray.train.optim.train_step`), run in this process over frames already in memory.

Why it exists: on the shared 2-core machine a Ray run waits for the cores' lock behind every
other engineer's Ray job; the frames of the benchmark Sun fit in memory (1440 × 5 × 128²), and
the same steps in one process measured 1.02× the Ray Train loop's time per sample
(BENCHMARKS.md, "Ray Train loop vs the plain PyTorch loop"). The run directory looks like the
loop's (``checkpoint_<step>/model.pt`` + ``train_state.pt``, ``metrics.jsonl``), so a cached run
is found the same way (:func:`~solarray.train.checkpoints.latest_checkpoint`) and its checkpoint
loads with :func:`~solarray.models.load_model`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch

from solarray.train.checkpoints import CHECKPOINT_PREFIX, METRICS_FILE, save_training_checkpoint
from solarray.train.config import TrainConfig
from solarray.train.loop import warmup_cosine
from solarray.train.objectives import get_objective
from solarray.train.optim import build_optimizers, train_step


def pretrain_frames(images: np.ndarray, run_dir: str | Path, *, model: str, objective: str,
                    channels: tuple[str, ...], model_config: Mapping[str, Any], steps: int,
                    batch_size: int, lr: float, seed: int, warmup: int = 30, reports: int = 10,
                    objective_config: Mapping[str, Any] | None = None) -> tuple[Path, float]:
    """Train ``model`` with ``objective`` on ``images`` ``[N, C, H, W]`` (shuffled epochs,
    ``batch_size`` per step) and write one checkpoint at ``steps``; returns ``(checkpoint
    directory, wall seconds)``."""
    cfg = TrainConfig(model=model, objective=objective, channels=tuple(channels),
                      model_config=dict(model_config), objective_config=dict(objective_config or {}),
                      steps=steps, batch_size=batch_size, lr=lr, seed=seed,
                      warmup_steps=min(warmup, steps - 1))
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    obj = get_objective(objective, model, **cfg.objective_config)
    net = obj.build_model(model, cfg.model_config, cfg.channels)
    opt, sched = build_optimizers(
        obj, net, cfg, lambda s: warmup_cosine(s, cfg.warmup_steps, steps, cfg.min_lr_ratio))
    scaler = torch.amp.GradScaler(enabled=False)
    every = max(1, steps // reports)
    order = np.empty(0, dtype=np.int64)
    sums: dict[str, float] = {}
    lines = []
    net.train()
    for step in range(1, steps + 1):
        if len(order) < batch_size:
            order = np.concatenate([order, rng.permutation(len(images))])
        idx, order = order[:batch_size], order[batch_size:]
        batch = {"image": torch.from_numpy(np.ascontiguousarray(images[idx], np.float32))}
        loss, parts, _ = train_step(obj, net, batch, opt, scaler, cfg.grad_clip, False, "cpu",
                                    f"{run_dir.name} step {step}")
        sched.step()
        for k, v in {"loss": loss, **parts}.items():
            sums[k] = sums.get(k, 0.0) + float(v.detach())
        if step % every == 0 or step == steps:
            n = every if step % every == 0 else step % every
            lines.append(json.dumps({**{k: v / n for k, v in sums.items()}, "step": step,
                                     "lr": sched.get_last_lr()[0],
                                     "seconds": round(time.perf_counter() - t0, 1)}))
            sums = {}
    (run_dir / METRICS_FILE).write_text("\n".join(lines) + "\n")
    ckpt = run_dir / f"{CHECKPOINT_PREFIX}{steps:08d}"
    save_training_checkpoint(ckpt, net, opt, sched, scaler, steps, asdict(cfg))
    return ckpt, time.perf_counter() - t0


__all__ = ["pretrain_frames"]
