"""From a sweep to its trials: one trial's :class:`~solarray.train.config.TrainConfig` keys (the
sweep's base with the trial's dotted-path parameters set), and the checks, before any trial runs,
that the sweep's model and objective are registered and that its trial configs build.
"""

from __future__ import annotations

import copy
from typing import Any

from solarray.models import list_models
from solarray.train.config import TrainConfig
from solarray.train.loop import training_datasets, validate_model_config
from solarray.train.objectives import get_objective, list_objectives, objective_for_model
from solarray.tune.space import Sweep, SweepError, SweepUnavailable


def _put(node: Any, key: str, value: Any, path: str) -> None:
    if isinstance(node, list):
        if not key.isdigit() or int(key) >= len(node):
            raise SweepError(f"cannot set {path}: {key!r} is not an index of a list of "
                             f"{len(node)} (give the whole list in base)")
        node[int(key)] = value
    else:
        node[key] = value


def set_path(values: dict[str, Any], path: str, value: Any) -> None:
    """Set ``values[a][b]... = value`` for ``path`` ``"a.b..."``, creating mappings as needed.

    A numeric part indexes a list already in ``values`` (``objective_config.fg_weights.0``).
    """
    *parents, leaf = path.split(".")
    node: Any = values
    for i, key in enumerate(parents):
        if isinstance(node, list):
            child = node[int(key)] if key.isdigit() and int(key) < len(node) else None
        else:
            child = node.get(key)
        if child is None:
            child = {}
        elif isinstance(child, dict):
            child = dict(child)
        elif isinstance(child, (list, tuple)):
            child = list(child)
        else:
            raise SweepError(f"cannot set {path}: {'.'.join(parents[:i + 1])} is "
                             f"{type(child).__name__}, not a mapping or list")
        _put(node, key, child, path)
        node = child
    _put(node, leaf, value, path)


def apply_params(base: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of ``base`` with each dotted-path parameter set."""
    out = copy.deepcopy(base)
    for path, value in params.items():
        set_path(out, path, value)
    return out


def check_available(sweep: Sweep) -> None:
    """Raise :class:`SweepUnavailable` unless the sweep's model and objective are registered."""
    missing = []
    if sweep.model not in list_models():
        missing.append(f"model {sweep.model!r} (registered: {', '.join(list_models())})")
    if sweep.objective is not None and sweep.objective not in list_objectives():
        missing.append(f"objective {sweep.objective!r} (registered: "
                       f"{', '.join(list_objectives())})")
    if not missing and sweep.objective is None:
        try:
            objective_for_model(sweep.model)
        except KeyError as err:
            missing.append(str(err.args[0]))
    if missing:
        raise SweepUnavailable(f"sweep {sweep.name!r} ({sweep.source}) needs "
                               + " and ".join(missing)
                               + "; it runs once the branch providing it is merged")


def train_values(sweep: Sweep, params: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    """TrainConfig keys of one trial: ``base`` + searched ``params`` + model/objective +
    ``overrides`` (run name, storage, channels, resources set by the runner)."""
    values = apply_params(sweep.base, params)
    values["model"] = sweep.model
    values["objective"] = sweep.objective
    values.update(overrides)
    return values


def validate_sweep(sweep: Sweep, channels: tuple[str, ...] | list[str]) -> None:
    """Build one trial's config at example points of the space and check that the objective
    accepts its ``objective_config`` and the model its ``model_config`` (no weights built).

    Raises :class:`SweepUnavailable` or :class:`SweepError` naming the field.
    """
    check_available(sweep)
    points = [{p.path: p.example() for p in sweep.space}]
    for p in sweep.space:  # every listed value of finite domains, one at a time
        for v in (p.values or [])[1:]:
            points.append({**points[0], p.path: v})
    for point in points:
        where = ", ".join(f"{k}={v!r}" for k, v in point.items())
        try:
            cfg = TrainConfig.from_dict(train_values(sweep, point, channels=tuple(channels)),
                                        source=f"{sweep.source} at {where}")
            get_objective(cfg.objective, cfg.model, **cfg.objective_config)
            validate_model_config(cfg)
        except (TypeError, ValueError, KeyError) as err:
            msg = err.args[0] if isinstance(err, KeyError) and err.args else str(err)
            raise SweepError(f"{sweep.source}: a trial config is invalid ({where}): {msg}") from None


def trial_datasets(sweep: Sweep, channels: tuple[str, ...] | list[str], train_ds, val_ds=None):
    """``(train, val)`` with only the columns the sweep's trials read, selected and materialized
    once here: every trial iterates the same blocks, with no Ray Data task of its own (trials that
    hold every CPU would otherwise wait for one)."""
    point = {p.path: p.example() for p in sweep.space}
    cfg = TrainConfig.from_dict(train_values(sweep, point, channels=tuple(channels)),
                                source=sweep.source)
    _, datasets = training_datasets(cfg, train_ds, val_ds)
    val = datasets.get("val")
    return datasets["train"].materialize(), (val.materialize() if val is not None else None)


__all__ = ["apply_params", "check_available", "set_path", "train_values", "trial_datasets",
           "validate_sweep"]
