"""The generic loop's optimisation over frames already in memory, in this process, without Ray.

Why: on the shared 2-core machine a Ray run waits for the cores' lock behind every other
engineer's Ray job, while a benchmark's small trainings (e.g. 60 translation models of 200 steps at
32 px) fit in memory. Same objective, optimisers (:func:`~solarray.train.optim.build_optimizers`,
with the objective's own hyperparameters, e.g. Pix2Pix's Adam β = (0.5, 0.999)), schedule
(:func:`~solarray.train.loop.warmup_cosine` with ``cfg``'s warm-up and floor), clipping and step
(:func:`~solarray.train.optim.train_step`) as the Ray Train loop; batches are drawn from shuffled
epochs of ``images`` instead of a Ray Data stream. The checkpoint is the loop's
(``checkpoint_<step>/model.pt``), loadable with :func:`~solarray.models.load_model`.

``images`` may also be a mapping of columns (``{"image": [N, C, H, W], "label": [N], ...}``, each
with N rows: what an objective other than an image-only one reads, e.g. FPNet's), and ``save_at``
adds checkpoints at earlier steps of the same run (a pretraining curve from one run, not one run
per budget); each checkpoint's mean loss since the previous one goes to ``metrics.jsonl``. With
``report_every`` > 0 the metrics file is the loop's instead: every ``report_every`` steps (and at
the end) the mean loss and each loss part since the previous line, with the step, learning rate
and seconds.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from solarray.train.checkpoints import CHECKPOINT_PREFIX, METRICS_FILE, save_training_checkpoint
from solarray.train.config import TrainConfig
from solarray.train.loop import warmup_cosine
from solarray.train.objectives import get_objective
from solarray.train.optim import build_optimizers, train_step


def fit_frames(images: np.ndarray | Mapping[str, np.ndarray], cfg: TrainConfig,
               run_dir: str | Path, save_at: Sequence[int] = (), report_every: int = 0) -> Path:
    """Train ``cfg`` (model, objective, channels = ``images``' channels, steps, batch size,
    optimiser settings, seed) on ``images`` ``[N, C, H, W]`` (scaled; NaN → 0) or on a mapping of
    columns with an ``image`` one; → the directory of the checkpoint written at ``cfg.steps``
    (``save_at``: steps < ``cfg.steps`` that also get a checkpoint; ``report_every``: see the
    module docstring)."""
    columns = dict(images) if isinstance(images, Mapping) else {"image": images}
    image = columns["image"]
    if image.ndim != 4 or image.shape[1] != len(cfg.channels):
        raise ValueError(f"images {image.shape} do not hold the {len(cfg.channels)} channels "
                         f"{list(cfg.channels)}")
    if any(len(v) != len(image) for v in columns.values()):
        raise ValueError(f"columns of unequal length: {({k: len(v) for k, v in columns.items()})}")
    saves = sorted({int(s) for s in save_at if 0 < int(s) < cfg.steps} | {cfg.steps})
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    obj = get_objective(cfg.objective, cfg.model, **cfg.objective_config)
    net = obj.build_model(cfg.model, cfg.model_config, cfg.channels)
    opt, sched = build_optimizers(obj, net, cfg, lambda s: warmup_cosine(
        s, cfg.warmup_steps, cfg.steps, cfg.min_lr_ratio))
    scaler = torch.amp.GradScaler(enabled=False)
    order = np.empty(0, dtype=np.int64)
    batch_size = min(cfg.batch_size, len(image))
    losses: list[float] = []
    sums: dict[str, float] = {}
    lines: list[str] = []
    ckpt = Path(run_dir)
    t0 = time.perf_counter()
    net.train()
    for step in range(1, cfg.steps + 1):
        if len(order) < batch_size:
            order = np.concatenate([order, rng.permutation(len(image))])
        idx, order = order[:batch_size], order[batch_size:]
        batch = {k: torch.from_numpy(np.ascontiguousarray(v[idx])) for k, v in columns.items()}
        batch["image"] = torch.from_numpy(np.nan_to_num(np.ascontiguousarray(image[idx],
                                                                             np.float32)))
        loss, parts, _ = train_step(obj, net, batch, opt, scaler, cfg.grad_clip, False, "cpu",
                                    f"{cfg.run_name} step {step}")
        losses.append(float(loss.detach()))
        sched.step()
        if report_every > 0:
            for k, v in {"loss": loss, **parts}.items():
                sums[k] = sums.get(k, 0.0) + float(v.detach())
            if step % report_every == 0 or step == cfg.steps:
                n = report_every if step % report_every == 0 else step % report_every
                lines.append(json.dumps({**{k: v / n for k, v in sums.items()}, "step": step,
                                         "lr": sched.get_last_lr()[0],
                                         "seconds": round(time.perf_counter() - t0, 1)}))
                sums = {}
        if step in saves:
            ckpt = Path(run_dir) / f"{CHECKPOINT_PREFIX}{step:08d}"
            ckpt.mkdir(parents=True, exist_ok=True)
            save_training_checkpoint(ckpt, net, opt, sched, scaler, step, asdict(cfg))
            if report_every <= 0:
                lines.append(json.dumps({"step": step, "loss": float(np.mean(losses))}))
            losses = []
    (Path(run_dir) / METRICS_FILE).write_text("\n".join(lines) + "\n")
    return ckpt


__all__ = ["fit_frames"]
