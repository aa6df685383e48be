"""A model sized to the images it trains on.

Every image model's presets carry an input size (``tiny`` 64 px for the ViTs, 32 px for the
sigma-VAE, …), but a user's shards hold whatever ``solarray ingest --size`` wrote. The training
entry points (``solarray pretrain``, its job, the Tune sweeps) therefore take the image size from
the data: :func:`sized_model_config` writes it into the model config (``image_size``, or the
backbone's for SolarCHIP), unless the user pinned another size there — then it refuses, before
Ray starts, in one line naming both sizes. A model whose architecture cannot take the size (the
AR GAN's generator doubles a 4-px map a fixed number of times; the sigma-VAE divides by its
strides) is refused the same way, listing its presets' sizes.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from solarray.core.errors import UsageError
from solarray.models import get_model_class, make_config


def _size_path(model: str) -> tuple[str, ...]:
    """Where ``model``'s config keeps its input size: ``("image_size",)``, SolarCHIP's
    ``("backbone_config", "image_size")``, or ``()`` for a model without one."""
    fields = {f.name for f in dataclasses.fields(get_model_class(model).config_class)}
    if "image_size" in fields:
        return ("image_size",)
    if "backbone_config" in fields:
        return ("backbone_config", "image_size")
    return ()


def model_config_of(model: str, model_config: Mapping[str, Any], channels: Sequence[str]):
    """``model``'s config dataclass from a ``model_config`` mapping (``preset`` + overrides) and
    the data's ``channels`` (as ``channels``, or their count as ``in_channels``); built on the
    driver, no weights, so config errors surface before Ray."""
    mc = dict(model_config)
    preset = mc.pop("preset", None)
    cls = get_model_class(model)
    fields = {f.name for f in dataclasses.fields(cls.config_class)}
    if "channels" in fields:
        mc["channels"] = tuple(channels)
    elif "in_channels" in fields:
        mc["in_channels"] = len(channels)
    return make_config(cls.config_class, preset, **mc)


def pinned_image_size(model: str, model_config: Mapping[str, Any]) -> int | None:
    """The input size ``model_config`` sets explicitly (not through its preset), if any."""
    holder: Any = model_config
    for key in _size_path(model):
        holder = (holder or {}).get(key) if isinstance(holder, Mapping) else None
    return None if holder is None or isinstance(holder, Mapping) else int(holder)


def with_image_size(model: str, model_config: Mapping[str, Any], size: int) -> dict[str, Any]:
    """A copy of ``model_config`` with ``model``'s input size set to ``size`` pixels (where the
    model keeps it); unchanged for a model without one."""
    out = copy.deepcopy(dict(model_config))
    path = _size_path(model)
    holder = out
    for key in path[:-1]:
        holder[key] = dict(holder.get(key) or {})
        holder = holder[key]
    if path:
        holder[path[-1]] = int(size)
    return out


def _preset_sizes(model: str, channels: Sequence[str]) -> str:
    presets = getattr(get_model_class(model).config_class, "PRESETS", {})
    sizes = []
    for name in presets:
        try:
            config = model_config_of(model, {"preset": name}, channels)
        except (TypeError, ValueError):
            continue
        size = getattr(config, "image_size", None) or \
            (getattr(config, "backbone_config", None) or {}).get("image_size")
        if size:
            sizes.append(f"{name} {size} px")
    return ", ".join(sizes)


def sized_model_config(model: str, model_config: Mapping[str, Any], size: int,
                       channels: Sequence[str], where: str) -> dict[str, Any]:
    """``model_config`` with the model's input size set to ``size`` pixels, the size of the
    images (of ``channels``) in ``where``. ``size`` 0 (unknown) → unchanged.

    UsageError (one line) when ``model_config`` pins another size, or when ``model`` (with its
    preset) cannot be built at ``size``."""
    if not size or not _size_path(model):
        return copy.deepcopy(dict(model_config))
    pinned = pinned_image_size(model, model_config)
    if pinned is not None and pinned != int(size):
        raise UsageError(
            f"model {model} is configured for {pinned}-px images (model_config."
            f"{'.'.join(_size_path(model))}) but {where} holds {size}-px images: drop the pinned "
            f"size to train at the data's size, or ingest at --size {pinned}")
    out = with_image_size(model, model_config, size)
    try:
        model_config_of(model, out, channels)
    except (TypeError, ValueError) as err:
        raise UsageError(
            f"model {model} (preset {out.get('preset') or 'default'}) cannot take the {size}-px "
            f"images of {where}: {err}; its presets by size: "
            f"{_preset_sizes(model, channels) or 'none'}") from None
    return out


__all__ = ["model_config_of", "pinned_image_size", "sized_model_config", "with_image_size"]
