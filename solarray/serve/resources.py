"""Per-deployment options of the forecaster fitted to one machine (``solarray serve``): the
code's resource requests where a config gives none, GPU requests dropped without a GPU, CPU
requests scaled so that every deployment's minimum replicas fit."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from solarray.serve.app import default_options


def fit_to_resources(options: Mapping[str, Mapping[str, Any]], cpus: float, gpus: float
                     ) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """Per-deployment options adjusted so that every deployment's minimum replicas fit into
    ``cpus``/``gpus``; returns ``(options, notes)``."""
    out = copy.deepcopy({k: dict(v) for k, v in options.items()})
    notes: list[str] = []
    need = 0.0
    for name, o in out.items():
        ao = dict(o.get("ray_actor_options") or {})
        if ao.get("num_gpus") and gpus <= 0:
            notes.append(f"{name}: no GPU here, dropping num_gpus={ao['num_gpus']}")
            ao.pop("num_gpus")
        o["ray_actor_options"] = ao
        auto = o.get("autoscaling_config") or {}
        n = int(auto.get("min_replicas", o.get("num_replicas", 1)) or 1)
        need += n * float(ao.get("num_cpus", 1.0))
    budget = max(cpus - 0.25, 0.5)  # leave room for Serve's controller and proxy
    if need > budget:
        f = budget / need
        notes.append(f"scaling CPU requests by {f:.2f} to fit {cpus:g} CPUs "
                     f"(minimum replicas need {need:g}); autoscaling capped at the minimum")
        for o in out.values():
            ao = o["ray_actor_options"]
            ao["num_cpus"] = round(max(float(ao.get("num_cpus", 1.0)) * f, 0.05), 3)
            auto = o.get("autoscaling_config")
            if auto:
                auto = dict(auto)
                auto["max_replicas"] = auto.get("min_replicas", 1)
                auto["initial_replicas"] = auto["max_replicas"]
                o["autoscaling_config"] = auto
    return out, notes


def with_defaults(options: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Every deployment's options, its resource request from the code where none is given."""
    out = {k: dict(v) for k, v in options.items()}
    for name, d in default_options().items():
        o = out.setdefault(name, {})
        o.setdefault("ray_actor_options", d["ray_actor_options"])
    return out


__all__ = ["fit_to_resources", "with_defaults"]
