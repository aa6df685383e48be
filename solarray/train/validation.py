"""Validation inside the training loop: each worker's validation shard, mean metrics over it, and
the mean of a worker's metrics across the Ray Train worker group."""

from __future__ import annotations

from typing import Any

import torch

from solarray.train.config import TrainConfig
from solarray.train.optim import phases_of


def mean_across_workers(values: dict[str, float], device: torch.device) -> dict[str, float]:
    """``values`` averaged over every worker of the process group (unchanged with one worker)."""
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return values
    keys = sorted(values)
    # On the training device: NCCL (GPU) cannot reduce CPU tensors.
    t = torch.tensor([values[k] for k in keys], dtype=torch.float64, device=device)
    dist.all_reduce(t)
    t /= dist.get_world_size()
    return dict(zip(keys, t.tolist(), strict=True))


def read_val_batches(cfg: TrainConfig, shard, dtypes: dict[str, Any], device: torch.device,
                     rank: int) -> list[dict[str, torch.Tensor]]:
    """This worker's validation ``shard`` (anything with ``iter_torch_batches``) as a list of full
    batches on ``device`` (read once; at most ``cfg.val_batches`` kept when > 0, but the shard is
    always consumed so every rank's data iterator finishes its epoch)."""
    batches = []
    for batch in shard.iter_torch_batches(
            batch_size=cfg.batch_size, dtypes=dtypes, device=device, drop_last=True):
        if not cfg.val_batches or len(batches) < cfg.val_batches:
            batches.append(batch)
    if not batches:
        raise ValueError(f"rank {rank}: the validation data shard yielded no full batch of "
                         f"{cfg.batch_size} rows; use more validation data or a smaller batch_size")
    return batches


@torch.no_grad()
def validate(objective, model: torch.nn.Module, batches: list[dict[str, torch.Tensor]],
             use_amp: bool = False, device: torch.device | None = None) -> dict[str, float]:
    """Mean validation metrics over ``batches`` → ``{"val_<name>": value}``.

    Uses ``objective.evaluate(model, batch) -> {name: scalar}`` when the objective defines it
    (metrics comparable across its hyperparameters, e.g. retrieval accuracy), else the training
    step's ``loss`` and parts (each phase's, for an objective with phases). The model is put back in training mode afterwards.
    """
    evaluate = getattr(objective, "evaluate", None)
    dev_type = (device or torch.device("cpu")).type
    model.eval()
    sums: dict[str, float] = {}
    n = 0
    try:
        for batch in batches:
            with torch.autocast(dev_type, dtype=torch.float16, enabled=use_amp):
                if evaluate is not None:
                    values = evaluate(model, batch)
                elif phases_of(objective):
                    values, shared = {}, {}
                    for phase in phases_of(objective):
                        loss, parts = objective.step(model, batch, phase=phase, shared=shared)
                        values.update(parts)
                        values[f"loss_{phase}"] = loss
                else:
                    loss, parts = objective.step(model, batch)
                    values = {"loss": loss, **parts}
            size = len(next(iter(batch.values())))
            for k, v in values.items():
                sums[k] = sums.get(k, 0.0) + float(v) * size
            n += size
    finally:
        model.train()
    return {f"val_{k}": v / max(n, 1) for k, v in sums.items()}


__all__ = ["mean_across_workers", "read_val_batches", "validate"]
