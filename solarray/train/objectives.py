"""Objectives: what one training step computes. The generic loop in :mod:`solarray.train.loop`
owns everything else (data, optimiser, schedule, AMP, checkpoints, Ray Train).

An objective is a small object with

* ``models``: registered model names it trains (used to pick the objective for a model);
* ``columns``: batch columns it needs (``required``) and can use (``optional``), with dtypes;
* ``build_model(model_name, model_config, channels)`` → ``nn.Module``;
* ``step(model, batch)`` → ``(loss, metrics)`` where ``batch`` maps column names to tensors on
  the model's device and ``metrics`` are detached scalars for reporting.

Register new ones with ``@register_objective("name")`` (MAE, SPNet, FPNet add theirs this way).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

import torch
from torch import nn

from solarray.losses.contrastive import SolarCHIPLossConfig, solarchip_loss


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
    fields = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(params) - fields)
    if unknown:
        raise ValueError(f"objective {name!r}: unknown parameter(s) {', '.join(unknown)}; "
                         f"expected some of {', '.join(sorted(fields))}")
    return cls(**params)


@register_objective("solarchip")
@dataclass
class SolarCHIPObjective(SolarCHIPLossConfig):
    """SolarCHIP: reconstruction + global + local + intra-sample contrastive terms."""

    models: ClassVar[tuple[str, ...]] = ("solarchip_vit", "solarchip_cnn")
    required: ClassVar[dict[str, torch.dtype]] = {"image": torch.float32}
    optional: ClassVar[dict[str, torch.dtype]] = {"present": torch.float32}

    def build_model(self, model_name: str, model_config: Mapping[str, Any],
                    channels: tuple[str, ...]) -> nn.Module:
        from solarray.models import build

        if model_name not in self.models:
            raise ValueError(f"objective solarchip trains {', '.join(self.models)}, "
                             f"not {model_name!r}")
        cfg = dict(model_config)
        preset = cfg.pop("preset", None)
        return build(model_name, preset=preset, channels=tuple(channels), **cfg)

    def step(self, model: nn.Module, batch: dict[str, torch.Tensor]
             ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        image = torch.nan_to_num(batch["image"])
        present = None
        if "present" in batch:  # absent channels: zero input, no reconstruction target
            image = image * batch["present"][:, :, None, None].to(image.dtype)
            core = getattr(model, "module", model)
            present = {m: batch["present"][:, core.channel_index(m)] for m in ("aia", "hmi")}
        out = model(image)
        total, parts = solarchip_loss(out, self, present)
        return total, {k: v.detach() for k, v in parts.items()}

    def evaluate(self, model: nn.Module, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Validation metrics: the loss and its parts, plus in-batch HMI→AIA retrieval on the
        projected class tokens (``retrieval_top1``, mean reciprocal rank ``retrieval_mrr``; chance
        ≈ 1/B and ≈ ln(B)/B). Unlike the weighted loss, retrieval is comparable across λ and τ."""
        image = torch.nan_to_num(batch["image"])
        out = model(image)
        present = None
        if "present" in batch:
            core = getattr(model, "module", model)
            present = {m: batch["present"][:, core.channel_index(m)] for m in ("aia", "hmi")}
        total, parts = solarchip_loss(out, self, present)
        q = torch.nn.functional.normalize(out["g_hmi"].float(), dim=-1)
        k = torch.nn.functional.normalize(out["g_aia"].float(), dim=-1)
        sim = q @ k.T
        rank = (sim > sim.diagonal()[:, None]).sum(dim=1).float()  # 0 = the true pair is best
        return {"loss": total.detach(), **{n: v.detach() for n, v in parts.items()},
                "retrieval_top1": (rank == 0).float().mean(),
                "retrieval_mrr": (1.0 / (rank + 1.0)).mean()}
