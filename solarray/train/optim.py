"""Optimisers of the generic loop and one optimisation step, for one or several optimisers.

Most objectives train every parameter with one AdamW. An objective that owns several optimisers
(a GAN: the discriminator and the generator) declares **phases**::

    phases: ClassVar[tuple[str, ...]] = ("discriminator", "generator")

    def phase_parameters(self, model, phase) -> Iterable[nn.Parameter]: ...
    def phase_optimizer(self, phase) -> dict   # optional: {"lr", "betas", "weight_decay"}
    def step(self, model, batch, phase=None, shared=None) -> (loss, metrics)

and the loop runs, for every batch, each phase in order: the phase's forward and loss
(``step(..., phase=name, shared=shared)``; ``shared`` is one dict per batch, so a phase can hand
a detached tensor to the next), its backward, gradient clipping and its optimiser's step. Each
phase has its own optimiser and learning-rate schedule; one AMP ``GradScaler`` serves them all
(updated once per batch, as PyTorch's AMP recipe for several optimisers prescribes). A phase's
optimiser zeroes only its own gradients before its backward, so gradients that a generator loss
leaves in the discriminator never reach the discriminator's step.

Under DDP, a phase that leaves parameters without gradients (the generator during the
discriminator's phase) needs ``find_unused_parameters``: an objective with phases gets it.
An objective without phases may still set its one optimiser's hyperparameters with
``phase_optimizer(ALL_PARAMETERS)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from solarray.train.config import TrainConfig

#: The phase name passed to ``phase_optimizer`` for the one optimiser of an objective without
#: phases.
ALL_PARAMETERS = "all"


def phases_of(objective: Any) -> tuple[str, ...]:
    """The objective's phase names; ``()`` for a single-optimiser objective."""
    phases = tuple(getattr(objective, "phases", ()) or ())
    if phases and not callable(getattr(objective, "phase_parameters", None)):
        raise TypeError(f"objective {getattr(objective, 'objective_name', objective)!r} declares "
                        f"phases {phases} but no phase_parameters(model, phase)")
    if len(set(phases)) != len(phases):
        raise ValueError(f"objective phases must be distinct, got {phases}")
    return phases


class OptimizerSet:
    """Named optimisers (or schedulers) with the ``state_dict``/``load_state_dict`` of one, so a
    training checkpoint stores them like a single optimiser: ``{name: state}``."""

    def __init__(self, members: dict[str, Any]) -> None:
        self.members = dict(members)

    def __getitem__(self, name: str) -> Any:
        return self.members[name]

    def state_dict(self) -> dict[str, Any]:
        return {name: m.state_dict() for name, m in self.members.items()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        missing = sorted(set(self.members) - set(state))
        if missing:
            raise ValueError(f"checkpoint has no optimiser state for phase(s) "
                             f"{', '.join(missing)}; it holds {', '.join(sorted(state))}")
        for name, m in self.members.items():
            m.load_state_dict(state[name])

    def step(self) -> None:  # schedulers
        for m in self.members.values():
            m.step()

    def get_last_lr(self) -> list[float]:  # schedulers: the first phase's rate, for reports
        return next(iter(self.members.values())).get_last_lr()


def build_optimizers(objective: Any, model: nn.Module, cfg: TrainConfig,
                     lr_lambda: Callable[[int], float]) -> tuple[Any, Any]:
    """``(optimizer, scheduler)``: AdamW over every parameter, or an :class:`OptimizerSet` of one
    AdamW per phase (hyperparameters from ``cfg``, overridden by ``objective.phase_optimizer``)
    with one scheduler each. Every parameter must belong to exactly one phase."""
    phases = phases_of(objective)
    override = getattr(objective, "phase_optimizer", None)
    if not phases:
        # one optimiser; an objective with its own hyperparameters (pix2pix Model A: Adam
        # β = (0.5, 0.999), no weight decay) sets them through phase_optimizer(ALL_PARAMETERS)
        hp = {"lr": cfg.lr, "betas": cfg.betas, "weight_decay": cfg.weight_decay}
        hp.update(override(ALL_PARAMETERS) if override else {})
        opt = torch.optim.AdamW(model.parameters(), **hp)
        return opt, torch.optim.lr_scheduler.LambdaLR(opt, lr_lambda)
    optimizers, schedulers, owner = {}, {}, {}
    for phase in phases:
        params = [p for p in objective.phase_parameters(model, phase) if p.requires_grad]
        if not params:
            raise ValueError(f"objective phase {phase!r} has no trainable parameters")
        for p in params:
            if id(p) in owner:
                raise ValueError(f"a parameter belongs to phases {owner[id(p)]!r} and {phase!r}")
            owner[id(p)] = phase
        hp = {"lr": cfg.lr, "betas": cfg.betas, "weight_decay": cfg.weight_decay}
        hp.update(override(phase) if override else {})
        optimizers[phase] = torch.optim.AdamW(params, **hp)
        schedulers[phase] = torch.optim.lr_scheduler.LambdaLR(optimizers[phase], lr_lambda)
    trainable = [p for p in model.parameters() if p.requires_grad]
    orphans = sum(1 for p in trainable if id(p) not in owner)
    if orphans:
        raise ValueError(f"{orphans} trainable parameter tensor(s) belong to no objective phase "
                         f"({', '.join(phases)}); they would never be trained")
    return OptimizerSet(optimizers), OptimizerSet(schedulers)


def _update(loss: torch.Tensor, optimizer: torch.optim.Optimizer, params: list[nn.Parameter],
            scaler: torch.amp.GradScaler, grad_clip: float, label: str) -> torch.Tensor:
    if not torch.isfinite(loss):
        raise FloatingPointError(f"{label}: non-finite loss {loss.item()}")
    optimizer.zero_grad(set_to_none=True)
    scaler.scale(loss).backward()
    grad_norm = torch.tensor(0.0)
    if grad_clip > 0:
        scaler.unscale_(optimizer)
        grad_norm = torch.nn.utils.clip_grad_norm_(params, grad_clip)
    scaler.step(optimizer)
    return grad_norm


def train_step(objective: Any, model: nn.Module, batch: dict[str, torch.Tensor], optimizer: Any,
               scaler: torch.amp.GradScaler, grad_clip: float, use_amp: bool,
               device_type: str, label: str) -> tuple[torch.Tensor, dict[str, torch.Tensor],
                                                      torch.Tensor]:
    """One optimisation step on ``batch`` → ``(loss, metrics, grad_norm)`` (detached).

    With phases, ``loss`` is the sum of the phases' losses, ``metrics`` holds each phase's parts
    plus ``loss_<phase>`` and ``grad_norm`` is the largest phase norm. ``label`` names the worker
    and step in errors.
    """
    phases = phases_of(objective)
    if not phases:
        with torch.autocast(device_type, dtype=torch.float16, enabled=use_amp):
            loss, parts = objective.step(model, batch)
        grad_norm = _update(loss, optimizer, list(model.parameters()), scaler, grad_clip, label)
        scaler.update()
        return loss.detach(), parts, grad_norm
    shared: dict[str, Any] = {}
    total = torch.zeros((), device=next(model.parameters()).device)
    metrics: dict[str, torch.Tensor] = {}
    norms = []
    for phase in phases:
        with torch.autocast(device_type, dtype=torch.float16, enabled=use_amp):
            loss, parts = objective.step(model, batch, phase=phase, shared=shared)
        opt = optimizer[phase]
        params = [p for group in opt.param_groups for p in group["params"]]
        norms.append(_update(loss, opt, params, scaler, grad_clip, f"{label}, phase {phase}"))
        total = total + loss.detach()
        metrics.update(parts)
        metrics[f"loss_{phase}"] = loss.detach()
    scaler.update()
    return total, metrics, torch.stack([n.float() for n in norms]).max()


def prepare_kwargs(objective: Any) -> dict[str, Any]:
    """``ray.train.torch.prepare_model`` keyword arguments the objective needs."""
    if phases_of(objective):
        return {"parallel_strategy_kwargs": {"find_unused_parameters": True}}
    return {}


__all__ = ["ALL_PARAMETERS", "OptimizerSet", "build_optimizers", "phases_of", "prepare_kwargs", "train_step"]
