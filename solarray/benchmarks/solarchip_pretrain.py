"""Training for the SolarCHIP benchmark without Ray: :func:`pretrain_frames` states a run as
keywords (model, objective, channels, configs, steps, batch, learning rate, seed), builds its
:class:`~solarray.train.config.TrainConfig` and trains it in this process over frames already in
memory with :func:`~solarray.benchmarks.frames_fit.fit_frames` (the generic loop's objective,
optimisers, warm-up + cosine schedule, clipping and step).

Why it exists: on the shared 2-core machine a Ray run waits for the cores' lock behind every
other engineer's Ray job; the frames of the benchmark Sun fit in memory (1440 × 5 × 128²), and
the same steps in one process measured 1.02× the Ray Train loop's time per sample
(BENCHMARKS.md, "Ray Train loop vs the plain PyTorch loop"). The run directory looks like the
loop's (``checkpoint_<step>/model.pt`` + ``train_state.pt``, ``metrics.jsonl`` with the loss
parts every ``steps // reports`` steps), so a cached run is found the same way
(:func:`~solarray.train.checkpoints.latest_checkpoint`) and its checkpoint loads with
:func:`~solarray.models.load_model`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from solarray.benchmarks.frames_fit import fit_frames
from solarray.train.config import TrainConfig


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
    t0 = time.perf_counter()
    ckpt = fit_frames(images, cfg, run_dir, report_every=max(1, steps // reports))
    return ckpt, time.perf_counter() - t0


__all__ = ["pretrain_frames"]
