"""What ``pretrain`` reads from ingest's shards: the channels, the model sized to the images,
and only the Parquet columns the objective's training columns come from.

:func:`pretraining_dataset` builds the Ray Dataset that :func:`solarray.train.loop.pretrain`
trains on; :func:`read_columns` is shared with the training-speed benchmark's single-process
floor (:mod:`solarray.benchmarks.train_overhead`), so both decode the same columns.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from solarray.data import dataset as data_api
from solarray.models import get_model_class
from solarray.train.config import TrainConfig
from solarray.train.data_size import sized_model_config
from solarray.train.local_shards import LocalShards
from solarray.train.objectives import get_objective

#: The shard columns each training column (``to_training``'s output) is computed from;
#: ``to_training`` always reads ``image``, ``present`` and ``t_obs``.
SHARD_SOURCES = {"image": "image", "present": "present", "t_unix": "t_obs", "masks": "masks",
                 "flare_m24": "flare_class_24h", "f107": "f107", "f30": "f30"}
ALWAYS_READ = ("t_obs", "image", "present")


def read_columns(training_columns: Iterable[str], available: Iterable[str] | None = None
                 ) -> list[str]:
    """The shard columns to read for ``training_columns`` (names ``to_training`` gives):
    ``t_obs``, ``image``, ``present`` and the sources of the others (those in ``available``,
    when given). Skipping the rest spares the Parquet read and decode of e.g. the masks."""
    out = list(ALWAYS_READ)
    for c in training_columns:
        src = SHARD_SOURCES.get(c)
        if src and src not in out and (available is None or src in set(available)):
            out.append(src)
    return out


def default_channels(model: str, available: tuple[str, ...]) -> tuple[str, ...]:
    """The channels a run trains on when none are given: the model's ``preferred_channels``
    (sigma_vae: Brown 2023's 12) when the shards hold all of them, else every channel of the
    shards (in the shards' order)."""
    preferred = tuple(getattr(get_model_class(model), "preferred_channels", ()))
    if preferred and set(preferred) <= set(available):
        return preferred
    return tuple(available)


def check_pretraining_data(cfg: TrainConfig, data_dir: str | os.PathLike, split: bool = True,
                           flag: str = "--data") -> data_api.ShardSet:
    """Open the shards once and check them before Ray starts (UsageError naming ``flag``): every
    shard readable, a training-split sample (with ``split``), ``cfg.channels`` in the shards."""
    path = os.fspath(data_dir)
    shards = data_api.open_shards(flag, path)
    if split:
        data_api.require_split(flag, shards, "train", "add data from other months or pass "
                               "--no-split to train on every sample")
    if cfg.channels:
        data_api.require_channels("--channels", cfg.channels, data_api.shard_channels(flag, shards),
                                  f"the shards in {path}", "choose among the shards' channels")
    return shards


def fit_config_to_shards(cfg: TrainConfig, shards: data_api.ShardSet) -> TrainConfig:
    """``cfg`` with the shards' channels (:func:`default_channels` when it names none) and the
    model sized to their images (:func:`~solarray.train.data_size.sized_model_config`:
    UsageError when a pinned size differs or the model cannot take it)."""
    available = tuple(data_api.shard_channels("--data", shards)) if shards.paths else ()
    channels = tuple(cfg.channels) or default_channels(cfg.model, available)
    if not channels:
        return cfg
    mc = sized_model_config(cfg.model, cfg.model_config, shards.image_size, channels,
                            f"the shards in {shards.path}")
    return cfg.replace(channels=channels, model_config=mc)


def pretraining_dataset(cfg: TrainConfig, data_dir: str | os.PathLike | data_api.ShardSet,
                        split: bool = True):
    """``(config, Ray Dataset)`` to train ``cfg`` on ingest's shards in ``data_dir`` (its
    training split unless ``split`` is False). ``cfg.channels`` empty: :func:`default_channels`;
    else that subset, in that order. The model takes the shards' image size
    (:func:`fit_config_to_shards`). Only the columns the objective reads are read
    (:func:`read_columns`; ingest's shards opened by
    :func:`check_pretraining_data`). A local directory is checked first (:func:`check_pretraining_data`);
    pass the :class:`~solarray.data.dataset.ShardSet` it returned to read the index only once."""
    shards = data_dir
    if not isinstance(shards, data_api.ShardSet) and "://" not in os.fspath(data_dir):
        shards = check_pretraining_data(cfg, data_dir, split)
    if isinstance(shards, data_api.ShardSet):
        cfg = fit_config_to_shards(cfg, shards)
    where = shards.path if isinstance(shards, data_api.ShardSet) else os.fspath(data_dir)
    available = tuple(data_api.shard_channels("--data", shards) if isinstance(
        shards, data_api.ShardSet) and shards.paths else data_api.channels_of(where))
    channels, index = _channel_selection(cfg, available, where)
    if isinstance(shards, data_api.ShardSet) and shards.paths and shards.columns:
        import ray.data

        # The projection goes to the Parquet read itself (a select_columns after the read is a
        # logical Project that Ray's optimizer fuses with later ones).
        ds = ray.data.read_parquet(list(shards.paths), columns=_objective_columns(cfg, shards))
    else:
        ds = data_api.read_shards(shards)
    if split:
        ds = data_api.split_by_time(ds)["train"]
    ds = data_api.to_training(ds) if index is None else data_api.to_training(ds, index)
    return cfg.replace(channels=channels), ds


def local_pretraining_source(cfg: TrainConfig, shards: data_api.ShardSet, split: bool = True):
    """``(config, LocalShards)``: what :func:`pretraining_dataset` gives for a local
    :class:`~solarray.data.dataset.ShardSet` (same channels, model size, columns and split), read
    in the training process instead of by Ray Data tasks (:mod:`solarray.train.local_shards`)."""
    cfg = fit_config_to_shards(cfg, shards)
    channels, index = _channel_selection(cfg, tuple(data_api.shard_channels("--data", shards)),
                                         shards.path)
    source = LocalShards(tuple(shards.paths), tuple(_objective_columns(cfg, shards)),
                         channel_index=None if index is None else tuple(index),
                         split="train" if split else None)
    return cfg.replace(channels=channels), source


def _channel_selection(cfg: TrainConfig, available: tuple[str, ...], where: str):
    """(the channels ``cfg`` trains on, their positions in ``available`` or None for all)."""
    channels = tuple(cfg.channels) or default_channels(cfg.model, available)
    index = None if channels == available else \
        data_api.channel_index(available, channels, f"the shards in {where}")
    return channels, index


def _objective_columns(cfg: TrainConfig, shards: data_api.ShardSet) -> list[str]:
    """The shard columns ``cfg``'s objective reads (:func:`read_columns`)."""
    objective = get_objective(cfg.objective, cfg.model, **cfg.objective_config)
    return read_columns({**objective.required, **objective.optional}, shards.columns)


__all__ = ["ALWAYS_READ", "SHARD_SOURCES", "check_pretraining_data", "default_channels",
           "fit_config_to_shards", "local_pretraining_source", "pretraining_dataset",
           "read_columns"]
