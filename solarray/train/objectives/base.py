"""What an objective is, and the registry that names them.

An objective is a small object (a dataclass of its hyperparameters) with

* ``models``: registered model names it trains (used to pick the objective for a model);
* ``required``/``optional``: batch columns it needs and can use, with dtypes;
* ``build_model(model_name, model_config, channels)`` → ``nn.Module``;
* ``step(model, batch)`` → ``(loss, metrics)`` where ``batch`` maps column names to tensors on
  the model's device and ``metrics`` are detached scalars for reporting;
* optionally ``evaluate(model, batch)`` → ``{name: scalar}`` for validation;
* optionally ``phases`` (e.g. ``("discriminator", "generator")``) with
  ``phase_parameters(model, phase)`` and ``phase_optimizer(phase)`` → ``{"lr", "betas",
  "weight_decay"}``: one optimiser per phase, and ``step(model, batch, phase=..., shared=...)``
  computes that phase's loss (:mod:`solarray.train.optim`).

Register one with ``@register_objective("name")`` in its own module of this package.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Protocol

import torch
from torch import nn

from solarray.models import build
from solarray.models.pretrained import load_encoder


class Objective(Protocol):
    models: ClassVar[tuple[str, ...]]
    required: ClassVar[dict[str, torch.dtype]]
    optional: ClassVar[dict[str, torch.dtype]]

    def build_model(self, model_name: str, model_config: Mapping[str, Any],
                    channels: tuple[str, ...]) -> nn.Module: ...

    def step(self, model: nn.Module, batch: dict[str, torch.Tensor]
             ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]: ...


_OBJECTIVES: dict[str, type] = {}


def register_objective(name: str) -> Callable[[type], type]:
    """Class decorator registering an objective (a dataclass of its hyperparameters)."""

    def deco(cls: type) -> type:
        if name in _OBJECTIVES and _OBJECTIVES[name] is not cls:
            raise ValueError(f"objective {name!r} is already registered")
        cls.objective_name = name
        _OBJECTIVES[name] = cls
        return cls

    return deco


def list_objectives() -> list[str]:
    return sorted(_OBJECTIVES)


def objective_for_model(model_name: str) -> str:
    """The registered objective that trains ``model_name``."""
    for name, cls in sorted(_OBJECTIVES.items()):
        if model_name in cls.models:
            return name
    raise KeyError(
        f"no objective trains model {model_name!r}; objectives: "
        + ", ".join(f"{n} ({'/'.join(c.models)})" for n, c in sorted(_OBJECTIVES.items()))
    )


def get_objective(name: str | None, model_name: str | None = None, **params: Any) -> Objective:
    """Instantiate an objective by name (or the one for ``model_name``) with hyperparameters."""
    if name is None:
        if model_name is None:
            raise ValueError("get_objective needs an objective name or a model name")
        name = objective_for_model(model_name)
    try:
        cls = _OBJECTIVES[name]
    except KeyError:
        raise KeyError(
            f"unknown objective {name!r}; known objectives: {', '.join(list_objectives())}"
        ) from None
    fields = {f.name for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(params) - fields)
    if unknown:
        raise ValueError(f"objective {name!r}: unknown parameter(s) {', '.join(unknown)}; "
                         f"expected some of {', '.join(sorted(fields))}")
    return cls(**params)


def check_trains(objective: Any, model_name: str) -> None:
    """ValueError unless ``objective`` trains ``model_name``."""
    if model_name not in objective.models:
        raise ValueError(f"objective {objective.objective_name} trains "
                         f"{', '.join(objective.models)}, not {model_name!r}")


def build_model_for(objective: Any, model_name: str, model_config: Mapping[str, Any], *,
                    pretrained: str = "", instrument: str = "", **fields: Any) -> nn.Module:
    """``build(model_name, preset=model_config["preset"], **model_config, **fields)`` after
    checking that ``objective`` trains ``model_name``; with ``pretrained`` (a checkpoint path),
    its encoder is loaded by :func:`~solarray.models.pretrained.load_encoder` (``instrument``
    picks SolarCHIP's AIA or HMI encoder; empty: inferred from the model's channels)."""
    check_trains(objective, model_name)
    cfg = dict(model_config)
    preset = cfg.pop("preset", None)
    cfg.update(fields)
    model = build(model_name, preset=preset, **cfg)
    if pretrained:
        load_encoder(model, pretrained, instrument=instrument or None)
    return model


__all__ = ["Objective", "build_model_for", "check_trains", "get_objective", "list_objectives",
           "objective_for_model", "register_objective"]
