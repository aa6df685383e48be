"""The generic training loop's optimisation in the test process, without Ray: for learning tests
that train several small models (a real run and its ablated control) within seconds."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch
from torch import nn

from solarray.train.config import TrainConfig
from solarray.train.loop import warmup_cosine
from solarray.train.objectives import get_objective
from solarray.train.optim import build_optimizers, train_step


def uninformative_permutation(label: np.ndarray, seed: int = 0) -> np.ndarray:
    """A permutation of the class labels ``label`` [N] that carries no information about them:
    each true class receives every label in (to within one) its overall share. The rows are
    ordered by true class (randomly within a class) and handed the labels evenly interleaved.
    A plain permutation of a few hundred labels keeps a chance agreement with them (correlation
    ±0.06), and a model of a very learnable label then scores above chance on it (measured:
    FPNet ROCA up to 0.67 in ``test_per_ar_image_pathway_learns_from_crops_alone``)."""
    label = np.asarray(label)
    rng = np.random.default_rng(seed)
    order = np.lexsort((rng.random(len(label)), label))
    values, counts = np.unique(label, return_counts=True)
    place = np.concatenate([(np.arange(c) + rng.random()) / c for c in counts])
    out = np.empty_like(label)
    out[order] = np.repeat(values, counts)[np.argsort(place, kind="stable")]
    return out


def train_in_process(cfg: TrainConfig, columns: Mapping[str, np.ndarray]) -> nn.Module:
    """Train ``cfg``'s model on ``columns`` (the objective's batch columns, e.g. ``image``
    ``[N, C, S, S]`` and ``label`` ``[N]``) as :func:`solarray.train.loop.train_loop_per_worker`
    does — the objective and model built after ``torch.manual_seed(cfg.seed)``, its optimisers
    and warm-up + cosine schedule, :func:`~solarray.train.optim.train_step` — for ``cfg.steps``
    steps of full ``cfg.batch_size`` batches, each epoch a seeded permutation of the rows (the
    loop's shuffle). Returns the model in eval mode."""
    torch.manual_seed(cfg.seed)
    objective = get_objective(cfg.objective, cfg.model, **cfg.objective_config)
    model = objective.build_model(cfg.model, cfg.model_config, cfg.channels)
    optimizer, scheduler = build_optimizers(
        objective, model, cfg,
        lambda s: warmup_cosine(s, cfg.warmup_steps, cfg.steps, cfg.min_lr_ratio))
    scaler = torch.amp.GradScaler("cpu", enabled=False)
    dtypes = {**objective.required, **objective.optional}
    data = {k: torch.as_tensor(np.asarray(v)).to(dtypes[k]) for k, v in columns.items()
            if k in dtypes}
    missing = sorted(set(objective.required) - set(data))
    if missing:
        raise ValueError(f"columns lack the objective's {missing}")
    n = len(next(iter(data.values())))
    if n < cfg.batch_size:
        raise ValueError(f"{n} rows: fewer than one batch of {cfg.batch_size}")
    gen = torch.Generator().manual_seed(cfg.seed)
    model.train()
    step = 0
    while step < cfg.steps:
        order = torch.randperm(n, generator=gen)
        for start in range(0, n - cfg.batch_size + 1, cfg.batch_size):
            pick = order[start:start + cfg.batch_size]
            train_step(objective, model, {k: v[pick] for k, v in data.items()}, optimizer,
                       scaler, cfg.grad_clip, False, "cpu", f"step {step}")
            scheduler.step()
            step += 1
            if step >= cfg.steps:
                break
    return model.eval()
