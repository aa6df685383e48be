"""The one model registry: ``@register`` fills it, ``build`` and ``list_models`` read it.

Every registered model class has a ``config_class`` (a dataclass with a ``PRESETS`` dict of named
sizes, at least ``tiny`` and ``paper``) and is constructed as ``cls(config)``. A checkpoint is a
plain dict ``{"format", "model", "config", "state_dict"}`` saved with :func:`torch.save`; it loads
with ``torch.load(weights_only=True)`` and alone rebuilds the model (:func:`load_model`).

Families import this module and ``solarray.models`` imports the families, so every registered
model is known once the package is imported. A family whose checkpoints once had another layout
registers a converter (:func:`register_legacy_format`) so those files still load.
"""

from __future__ import annotations

import copy
import dataclasses
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from solarray.core.atomic import atomic_path
from solarray.core.checkpoints import model_file
from solarray.core.errors import UsageError

CHECKPOINT_FORMAT = "solarray.model/1"

_REGISTRY: dict[str, type[nn.Module]] = {}

#: ``(description, matches, convert)`` per legacy checkpoint layout (see register_legacy_format).
_LEGACY: list[tuple[str, Callable[[Mapping[str, Any]], bool],
                    Callable[[Mapping[str, Any], str], dict[str, Any]]]] = []


def register(name: str) -> Callable[[type[nn.Module]], type[nn.Module]]:
    """Class decorator: make ``cls`` buildable as ``build(name, ...)``.

    The class needs a ``config_class`` dataclass attribute and an ``__init__(self, config)``.
    """

    def deco(cls: type[nn.Module]) -> type[nn.Module]:
        if name in _REGISTRY and _REGISTRY[name] is not cls:
            raise ValueError(f"model name {name!r} is already registered by {_REGISTRY[name]}")
        if not dataclasses.is_dataclass(getattr(cls, "config_class", None)):
            raise TypeError(f"model {name!r}: {cls.__name__}.config_class must be a dataclass")
        cls.model_name = name
        _REGISTRY[name] = cls
        return cls

    return deco


def register_legacy_format(description: str, matches: Callable[[Mapping[str, Any]], bool],
                           convert: Callable[[Mapping[str, Any], str], dict[str, Any]]) -> None:
    """Teach :func:`model_from_checkpoint_dict` an older checkpoint layout.

    ``matches(ckpt)`` recognises a loaded dict of that layout; ``convert(ckpt, source)`` returns
    the equivalent :func:`checkpoint_dict` (or raises ``ValueError`` naming ``source`` and what
    was expected). ``description`` names the layout in error messages.
    """
    _LEGACY.append((description, matches, convert))


def list_models() -> list[str]:
    """Names of every registered model, sorted."""
    return sorted(_REGISTRY)


def get_model_class(name: str) -> type[nn.Module]:
    """The registered class for ``name``; a clear error listing the known names otherwise."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise KeyError(
            f"unknown model {name!r}; known models: {', '.join(sorted(_REGISTRY))}"
        ) from None


def _deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(dict(base))
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def make_config(config_class: type, preset: str | None = None, **overrides: Any) -> Any:
    """Instantiate ``config_class`` from a named preset plus field overrides.

    Dict-valued fields are merged key by key (so ``backbone={"depth": 4}`` keeps the preset's other
    backbone settings). Unknown field names or presets raise with the known ones listed.
    """
    presets: Mapping[str, Mapping[str, Any]] = getattr(config_class, "PRESETS", {})
    values: dict[str, Any] = {}
    if preset is not None:
        if preset not in presets:
            raise KeyError(
                f"{config_class.__name__}: unknown preset {preset!r}; "
                f"known presets: {', '.join(presets) or '(none)'}"
            )
        values = _deep_merge(values, presets[preset])
    names = {f.name for f in dataclasses.fields(config_class)}
    unknown = sorted(set(overrides) - names)
    if unknown:
        raise TypeError(
            f"{config_class.__name__}: unknown config field(s) {', '.join(unknown)}; "
            f"expected some of {', '.join(sorted(names))}"
        )
    values = _deep_merge(values, overrides)
    return config_class(**values)


def build(name: str, config: Any = None, preset: str | None = None, **overrides: Any) -> nn.Module:
    """Build a registered model: ``build("solarchip_vit", preset="tiny", channels=[...])``.

    Pass either a ready ``config`` instance or a ``preset`` name and/or field overrides.
    """
    cls = get_model_class(name)
    if config is None:
        config = make_config(cls.config_class, preset, **overrides)
    elif preset is not None or overrides:
        raise TypeError("build(): pass either config= or preset/overrides, not both")
    elif not isinstance(config, cls.config_class):
        raise TypeError(
            f"model {name!r} expects a {cls.config_class.__name__}, got {type(config).__name__}"
        )
    return cls(config)


def _plain(value: Any) -> Any:
    """Config values as plain lists/dicts/scalars (safe for ``torch.load(weights_only=True)``)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def config_dict(model: nn.Module) -> dict[str, Any]:
    """The model's config as a plain dict (lists instead of tuples)."""
    return _plain(dataclasses.asdict(model.config))


def checkpoint_dict(model: nn.Module) -> dict[str, Any]:
    """``{"format", "model", "config", "state_dict"}`` for a registered model (DDP unwrapped)."""
    model = getattr(model, "module", model)
    if getattr(model, "model_name", None) not in _REGISTRY:
        raise TypeError(f"{type(model).__name__} is not a registered solarray model")
    return {
        "format": CHECKPOINT_FORMAT,
        "model": model.model_name,
        "config": config_dict(model),
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
    }


def model_from_checkpoint_dict(ckpt: Mapping[str, Any], source: str = "checkpoint") -> nn.Module:
    """Rebuild and load a model from a :func:`checkpoint_dict` mapping (or a registered legacy
    layout, converted first)."""
    if isinstance(ckpt, Mapping) and ckpt.get("format") != CHECKPOINT_FORMAT:
        for _, matches, convert in _LEGACY:
            if matches(ckpt):
                ckpt = convert(ckpt, source)
                break
    if not isinstance(ckpt, Mapping) or ckpt.get("format") != CHECKPOINT_FORMAT:
        known = "".join(f" or {d}" for d, _, _ in _LEGACY)
        raise ValueError(f"{source}: not a solarray model checkpoint (expected a dict of format "
                         f"{CHECKPOINT_FORMAT!r} with model, config and state_dict{known})")
    cls = get_model_class(ckpt["model"])
    config = make_config(cls.config_class, **ckpt["config"])
    model = cls(config)
    model.load_state_dict(ckpt["state_dict"])
    return model


def save_model(model: nn.Module, path: str | os.PathLike) -> Path:
    """Write the model checkpoint to ``path`` atomically (temp file, then rename)."""
    path = Path(path)
    with atomic_path(path) as tmp:
        torch.save(checkpoint_dict(model), tmp)
    return path


def load_model(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> nn.Module:
    """Rebuild a model from a checkpoint file, or a training checkpoint directory (``model.pt``)."""
    path = model_file(path)
    if not path.exists():
        raise FileNotFoundError(f"model checkpoint not found: {path}")
    ckpt = torch.load(path, map_location=map_location, weights_only=True)
    return model_from_checkpoint_dict(ckpt, source=str(path))


def load_checkpoint(flag: str, path: str | os.PathLike, expected: str | tuple[str, ...]
                    ) -> nn.Module:
    """The model in checkpoint ``path`` (file or training directory) a user names with ``flag``,
    which must be one of ``expected``; a missing, unreadable or wrong-model checkpoint is a
    :class:`~solarray.core.errors.UsageError` naming the flag and the fix."""
    names = (expected,) if isinstance(expected, str) else tuple(expected)
    file = model_file(path)
    if not file.exists():
        raise UsageError(f"{flag}: no model checkpoint at {file}: no such checkpoint (give a "
                         "model.pt or a training checkpoint directory)")
    try:
        model = load_model(path)
    except Exception as err:  # torch: pickle/zip errors; registry: unknown model or config
        raise UsageError(f"{flag}: {file} is not a readable solarray checkpoint "
                         f"({' '.join(str(err).split())[:160]})") from None
    name = getattr(model, "model_name", None)
    if names and name not in names:
        raise UsageError(f"{flag}: {path} holds model {name!r}, not {' or '.join(names)}; "
                         f"give a {names[0]} checkpoint")
    return model
