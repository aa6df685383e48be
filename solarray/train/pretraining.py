"""``solarray pretrain`` as one library call: check the data (the shards opened once), join or
start Ray, train; the command line, ``jobs/pretrain.py`` and the demo call :func:`run_pretraining`.
"""

from __future__ import annotations

from collections.abc import Callable

from solarray.core.errors import UsageError
from solarray.core.ray_connect import connect
from solarray.data.dataset import ShardSet
from solarray.data.synthetic.toy import toy_dataset
from solarray.train.config import TrainConfig
from solarray.train.loop import (
    FitResult,
    check_pretraining_data,
    fit,
    fit_config_to_shards,
    resolved_image_size,
)
from solarray.train.objectives import get_objective
from solarray.train.shard_input import local_pretraining_source, pretraining_dataset
from solarray.train.warm_worker import fit_warm_if_applies

#: Channels of the generated toy samples when the config names none.
TOY_CHANNELS = ("aia171", "aia193", "aia304", "hmi_m")


def toy_input(cfg: TrainConfig, n: int):
    """(config with toy channels, Ray Dataset of ``n`` toy samples at the model's image size)."""
    channels = cfg.channels or TOY_CHANNELS
    cfg = cfg.replace(channels=tuple(channels))
    return cfg, toy_dataset(n, channels, size=resolved_image_size(cfg), seed=cfg.seed)


def require_shard_columns(cfg: TrainConfig, shards: ShardSet) -> None:
    """UsageError (before Ray starts) when ``cfg``'s objective needs columns that rows of
    ingest's shards do not have (FPNet and the region classifier train on their own tables)."""
    if not shards.columns:
        return
    objective = get_objective(cfg.objective, cfg.model, **cfg.objective_config)
    missing = [c for c in objective.required if c not in shards.training_columns]
    if missing:
        source = getattr(objective, "data_source", "")
        raise UsageError(f"--model {cfg.model}: its objective {objective.objective_name!r} needs "
                         f"column(s) {', '.join(missing)} that the shards in {shards.path} do "
                         "not have" + (f"; it trains on {source}" if source else ""))


def run_pretraining(cfg: TrainConfig, data: str | None = None, toy: int | None = None,
                    split: bool = True, log: Callable[[str], None] = print) -> FitResult:
    """Train ``cfg`` on ingest's shards in ``data`` (its training split unless ``split`` is
    False) or on ``toy`` generated samples. A local ``data`` directory is checked before Ray
    starts (:func:`solarray.train.loop.check_pretraining_data`: UsageError naming ``--data``)
    and its shard index is read once, the model sized to its images; then Ray is joined or started
    (:func:`solarray.core.ray_connect.connect`: the job's cluster inside ``ray job submit`` or
    ``$RAY_ADDRESS``, else a local Ray)."""
    if (data is None) == (toy is None):
        raise UsageError("give either --data or --toy")
    if toy is not None and toy <= 0:
        raise UsageError(f"--toy must be a positive sample count, got {toy}")
    source = data if toy is None else None
    if data is not None and "://" not in data:
        source = check_pretraining_data(cfg, data, split)
        require_shard_columns(cfg, source)
        cfg = fit_config_to_shards(cfg, source)  # the model at the shards' size, before Ray
    connect(quiet=False, log_to_driver=True)  # the loop fits the workers to its CPUs
    log(f"Pretraining {cfg.model} on {data if toy is None else f'{toy} toy samples'} with "
        f"{cfg.num_workers} worker(s), {cfg.steps} steps")
    # One worker on a single-node cluster this command joined: the warm trainer a later command
    # reuses, reading local shards in its own process (solarray.train.local_shards).
    if toy is not None:
        cfg, ds = toy_input(cfg, toy)
        warm = fit_warm_if_applies(cfg, ds, log=log)
        return warm if warm is not None else fit(cfg, ds, log=log)
    if isinstance(source, ShardSet) and source.paths and source.columns:
        warm = fit_warm_if_applies(*local_pretraining_source(cfg, source, split), log=log)
        if warm is not None:
            return warm
    cfg, ds = pretraining_dataset(cfg, source, split)
    return fit(cfg, ds, log=log)


__all__ = ["TOY_CHANNELS", "require_shard_columns", "run_pretraining", "toy_input"]
