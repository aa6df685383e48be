"""The one generic training loop, run by Ray Train's ``TorchTrainer``.

:func:`train_loop_per_worker` knows nothing about any model: an objective (see
:mod:`solarray.train.objectives`) builds the model and computes one step's loss. The loop streams
batches from ``ray.train.get_dataset_shard("train").iter_torch_batches``, runs AdamW with a linear
warm-up + cosine schedule, clips gradients, uses mixed precision on GPU, reports metrics every
``report_every`` steps (objectives with several optimisers, e.g. a GAN's discriminator and
generator, run one phase per optimiser: :mod:`solarray.train.optim`) and writes a checkpoint (model + optimiser + scheduler + step + config)
every ``checkpoint_every`` steps (rank 0 writes; every rank reports). On start it resumes from
``ray.train.get_checkpoint()``, which Ray Train fills after a worker failure
(``FailureConfig(max_failures)``) and when a run with the same name and storage is started again.

The run directory and checkpoint layout are in :mod:`solarray.train.checkpoints`; validation
metrics in :mod:`solarray.train.validation`. Data order is not restored on resume: the data
stream restarts from a fresh epoch. While :func:`fit` waits, a driver-side watchdog
(:mod:`solarray.train.watchdog`) logs which resource is missing when no step is reported.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from solarray.data import dataset as data_api
from solarray.train.checkpoints import (
    CHECKPOINT_PREFIX,
    METRICS_FILE,
    checkpoint_name,
    latest_checkpoint,
    load_training_checkpoint,
    save_run_checkpoint,
    save_training_checkpoint,
    truncate_metrics,
)
from solarray.train.config import TrainConfig
from solarray.train.data_size import model_config_of
from solarray.train.epoch_cache import EpochCache
from solarray.train.objectives import get_objective
from solarray.train.optim import build_optimizers, prepare_kwargs, train_step
from solarray.train.resources import fit_workers_to_cluster
from solarray.train.session import InProcessSession, RayTrainSession
from solarray.train.shard_input import (  # noqa: F401  (re-exported: solarray.train.loop API)
    check_pretraining_data,
    default_channels,
    fit_config_to_shards,
    pretraining_dataset,
    read_columns,
)
from solarray.train.validation import mean_across_workers, read_val_batches, validate
from solarray.train.watchdog import training_watchdog


def warmup_cosine(step: int, warmup_steps: int, total_steps: int, min_ratio: float = 0.0) -> float:
    """Learning-rate multiplier at optimiser step ``step`` (0-based).

    Linear warm-up from ``1/warmup_steps`` to 1 over ``warmup_steps`` steps, then cosine decay
    from 1 to ``min_ratio`` at ``total_steps``.
    """
    if warmup_steps > 0 and step < warmup_steps:
        return (step + 1) / warmup_steps
    span = max(1, total_steps - warmup_steps)
    progress = min(1.0, (step - warmup_steps) / span)
    return min_ratio + (1.0 - min_ratio) * 0.5 * (1.0 + math.cos(math.pi * progress))


def train_loop_per_worker(loop_config: dict[str, Any]) -> dict[str, Any]:
    """Ray Train entry point. ``loop_config`` = ``{"train": TrainConfig dict, "columns": [...],
    "local": bool, "val": bool}`` as built by :func:`fit`. Returns (rank 0) ``{"start_step",
    "final_step", "resumed_from", "world_size", "metrics"}``."""
    return run_training_loop(loop_config, RayTrainSession())


def run_training_loop(loop_config: dict[str, Any], session) -> dict[str, Any]:
    """The loop itself, with data and reports from ``session`` (:mod:`solarray.train.session`:
    a Ray Train worker, or this process for a one-worker Tune trial)."""
    import ray.train.torch

    cfg = TrainConfig.from_dict(loop_config["train"], source="train_loop_config")
    local = bool(loop_config.get("local", False)) or session.local
    columns = list(loop_config["columns"])
    rank, world = session.rank, session.world
    run_dir = cfg.run_dir

    if cfg.torch_threads:
        torch.set_num_threads(cfg.torch_threads)
    torch.manual_seed(cfg.seed)  # same initial weights on every rank
    objective = get_objective(cfg.objective, cfg.model, **cfg.objective_config)
    model = objective.build_model(cfg.model, cfg.model_config, cfg.channels)
    device = ray.train.torch.get_device() if not local else torch.device(
        "cuda" if cfg.use_gpu and torch.cuda.is_available() else "cpu")
    model.to(device)
    use_amp = bool(cfg.amp and device.type == "cuda")
    optimizer, scheduler = build_optimizers(
        objective, model, cfg,
        lambda s: warmup_cosine(s, cfg.warmup_steps, cfg.steps, cfg.min_lr_ratio))
    scaler = torch.amp.GradScaler(device.type, enabled=use_amp)

    # Resume: Ray Train hands back the latest reported checkpoint (after a failure or when the
    # run name is reused); local mode has no checkpoint manager, so read the run directory.
    start_step, resumed_from = 0, None
    if local:
        latest = latest_checkpoint(run_dir)
        if latest is not None:
            resumed_from = str(latest[1])
            start_step = load_training_checkpoint(latest[1], model, optimizer, scheduler, scaler)
    else:
        ckpt = session.checkpoint()
        if ckpt is not None:
            with ckpt.as_directory() as d:
                resumed_from = ckpt.path
                start_step = load_training_checkpoint(d, model, optimizer, scheduler, scaler)

    if not local:
        model = ray.train.torch.prepare_model(model, **prepare_kwargs(objective))  # DDP if > 1

    dtypes = {c: dt for c, dt in {**objective.required, **objective.optional}.items()
              if c in columns}
    shard = session.shard("train")
    val_batches = (read_val_batches(cfg, session.shard("val"), dtypes, device, rank)
                   if loop_config.get("val") else None)
    if local and not cfg.local_storage:
        raise ValueError("num_workers=0 (local mode) needs a filesystem storage_path, "
                         f"got {cfg.storage_path}")
    # The metrics log and the fault-injection marker live next to the checkpoints when storage
    # is a filesystem path (URIs: metrics go to Ray Train's checkpoint records only).
    metrics_path = run_dir / METRICS_FILE if cfg.local_storage else None
    if rank == 0 and metrics_path is not None:
        run_dir.mkdir(parents=True, exist_ok=True)
        truncate_metrics(metrics_path, start_step)

    step, epoch = start_step, 0
    first_step_time = None  # unix time the first step of this attempt finished (start-up cost)
    sums: dict[str, Any] = {}
    n_since, t_since, cpu_since = 0, time.perf_counter(), time.process_time()
    wait = 0.0  # seconds this worker spent waiting for the next batch since the last report
    reporting = 0.0  # seconds the last report (metrics all-reduce + ray.train.report) took
    last_metrics: dict[str, Any] = {}
    cache = EpochCache(cfg.epoch_cache_mb * 2**20, cfg.batch_size, cfg.shuffle_buffer > 0,
                       cfg.seed + rank)  # later epochs from memory when the first one fits
    while step < cfg.steps:
        n_batches = 0
        batches = cache.replay(epoch, device) if cache.complete else cache.record(
            shard.iter_torch_batches(
                batch_size=cfg.batch_size, dtypes=dtypes, device=device, drop_last=True,
                local_shuffle_buffer_size=cfg.shuffle_buffer or None,
                local_shuffle_seed=(cfg.seed + 1000 * epoch + rank) if cfg.shuffle_buffer
                else None))
        t_fetch = time.perf_counter()
        for batch in batches:
            wait += time.perf_counter() - t_fetch
            n_batches += 1
            model.train()
            loss, parts, grad_norm = train_step(objective, model, batch, optimizer, scaler,
                                                cfg.grad_clip, use_amp, device.type,
                                                f"rank {rank} at step {step}")
            scheduler.step()
            step += 1
            if first_step_time is None:
                first_step_time = time.time()

            # Accumulate on the device; converting to floats only at report time avoids a
            # host sync per step on GPU.
            for k, v in {"loss": loss, "grad_norm": grad_norm, **parts}.items():
                sums[k] = sums.get(k, 0.0) + v.detach().float()
            n_since += 1

            if (cfg.fail_at_step and step == cfg.fail_at_step and rank == world - 1
                    and cfg.local_storage):
                marker = run_dir / f".injected_failure_step_{step}"
                if not marker.exists():
                    marker.parent.mkdir(parents=True, exist_ok=True)
                    marker.touch()
                    raise RuntimeError(f"injected worker failure at step {step} (rank {rank})")

            do_ckpt = step % cfg.checkpoint_every == 0 or step == cfg.steps
            if do_ckpt or step % cfg.report_every == 0:
                elapsed = max(time.perf_counter() - t_since, 1e-9)
                cpu = max(time.process_time() - cpu_since, 1e-9)
                t_report = time.perf_counter()
                metrics = mean_across_workers(
                    {k: float(v) / n_since for k, v in sums.items()}, device)
                metrics.update(step=step, epoch=epoch, lr=scheduler.get_last_lr()[0],
                               samples_per_s=world * cfg.batch_size * n_since / elapsed,
                               # per worker: samples per CPU-second of this process, and the
                               # fraction of wall time spent waiting for data
                               samples_per_cpu_s=cfg.batch_size * n_since / cpu,
                               data_wait_frac=wait / elapsed,
                               # the previous report's seconds over this window's
                               report_frac=reporting / elapsed,
                               epoch_replayed=float(cache.complete),
                               first_step_time=first_step_time)
                if val_batches is not None:
                    metrics.update(mean_across_workers(
                        validate(objective, model, val_batches, use_amp, device), device))
                last_metrics = metrics
                if rank == 0 and metrics_path is not None:
                    with open(metrics_path, "a") as fh:
                        fh.write(json.dumps(metrics) + "\n")
                if do_ckpt:
                    _checkpoint_and_report(cfg, session, local, rank, metrics, model,
                                           optimizer, scheduler, scaler, step)
                else:
                    session.report(metrics)
                sums, n_since, wait = {}, 0, 0.0
                t_since, cpu_since = time.perf_counter(), time.process_time()
                reporting = t_since - t_report
            if step >= cfg.steps:
                break
            t_fetch = time.perf_counter()
        if n_batches == 0:
            raise ValueError(
                f"rank {rank}: the training data shard yielded no full batch of {cfg.batch_size} "
                f"rows; use more data or a smaller batch_size"
            )
        epoch += 1
    return {"start_step": start_step, "final_step": step, "resumed_from": resumed_from,
            "world_size": world, "metrics": last_metrics}


def _checkpoint_and_report(cfg: TrainConfig, session, local: bool, rank: int,
                           metrics: dict[str, Any], model, optimizer, scheduler, scaler,
                           step: int) -> None:
    import ray.train

    name = checkpoint_name(step)
    if local:
        # No Ray checkpoint manager in local mode: write the run directory ourselves, atomically.
        save_run_checkpoint(cfg.run_dir, cfg.num_to_keep, model, optimizer, scheduler, scaler,
                            step, cfg.to_dict())
        session.report(metrics)
        return
    with tempfile.TemporaryDirectory() as tmp:
        checkpoint = None
        if rank == 0:
            save_training_checkpoint(tmp, model, optimizer, scheduler, scaler, step,
                                     cfg.to_dict())
            checkpoint = ray.train.Checkpoint.from_directory(tmp)
        session.report(metrics, checkpoint=checkpoint,
                       checkpoint_dir_name=name if checkpoint is not None else None)


@dataclass
class FitResult:
    """What a training run produced."""

    run_dir: Path
    checkpoint: Path | str | None  # latest complete checkpoint directory (a URI on remote storage)
    start_step: int  # step the final attempt started from (0 = from scratch)
    final_step: int
    resumed_from: str | None  # checkpoint the run resumed from, if any
    metrics: dict[str, Any] = field(default_factory=dict)

    @property
    def metrics_file(self) -> Path:
        return self.run_dir / METRICS_FILE


def validate_model_config(cfg: TrainConfig):
    """Build the model's config on the driver (no weights) so config errors surface before Ray."""
    return model_config_of(cfg.model, cfg.model_config, cfg.channels)


def resolved_image_size(cfg: TrainConfig) -> int:
    """The input image size (pixels) of ``cfg.model`` as configured (preset + overrides)."""
    mc = validate_model_config(cfg)
    size = getattr(mc, "image_size", None) or getattr(mc, "backbone_config", {}).get("image_size")
    if not size:
        raise ValueError(f"cannot tell the image size of model {cfg.model!r} from its config")
    return int(size)


def training_datasets(cfg: TrainConfig, train_ds, val_ds=None) -> tuple[list[str], dict]:
    """The columns ``cfg``'s objective reads and ``{"train": ds, "val": ds}`` with only those;
    ValueError naming what is missing."""
    if not cfg.channels:
        raise ValueError("TrainConfig.channels is empty: set it from the data "
                         "(solarray.data.dataset.channels_of)")
    objective = get_objective(cfg.objective, cfg.model, **cfg.objective_config)
    validate_model_config(cfg)
    names = list(train_ds.schema().names)
    missing = [c for c in objective.required if c not in names]
    if missing:
        raise ValueError(f"training data lacks column(s) {', '.join(missing)} needed by objective "
                         f"{objective.objective_name!r}; it has {', '.join(names)}")
    columns = [c for c in {**objective.required, **objective.optional} if c in names]
    # no projection (a Ray Data task per pass) when the data has exactly these columns already
    datasets = {"train": train_ds if names == columns else train_ds.select_columns(columns)}
    if val_ds is not None:
        val_names = list(val_ds.schema().names)
        missing = [c for c in columns if c not in val_names]
        if missing:
            raise ValueError(f"validation data lacks column(s) {', '.join(missing)} that the "
                             f"training data has; it has {', '.join(val_names)}")
        datasets["val"] = val_ds if val_names == columns else val_ds.select_columns(columns)
    return columns, datasets


def fit_in_process(cfg: TrainConfig, train_ds, val_ds=None,
                   report=lambda metrics: None) -> FitResult:
    """One-worker training in this process (no Train controller or worker group): the loop of
    :func:`fit` with the Ray Datasets iterated here and every report passed to ``report`` (a Tune
    trial passes ``ray.tune.report``). Checkpoints go to the run directory, which must be a
    filesystem path; a run with the same name and storage resumes from its latest checkpoint."""
    if not cfg.local_storage:
        raise ValueError(f"in-process training needs a filesystem storage_path, got "
                         f"{cfg.storage_path}")
    columns, datasets = training_datasets(cfg, train_ds, val_ds)
    ret = run_training_loop(
        {"train": cfg.to_dict(), "columns": columns, "local": True, "val": val_ds is not None},
        InProcessSession(datasets, report))
    latest = latest_checkpoint(cfg.run_dir)
    return FitResult(run_dir=cfg.run_dir, checkpoint=latest[1] if latest else None,
                     start_step=int(ret["start_step"]), final_step=int(ret["final_step"]),
                     resumed_from=ret["resumed_from"], metrics=dict(ret["metrics"]))


def fit(cfg: TrainConfig, train_ds, log=print, val_ds=None, callbacks=()) -> FitResult:
    """Train ``cfg.model`` on the Ray Dataset ``train_ds`` with Ray Train's ``TorchTrainer``.

    ``train_ds`` needs the objective's columns (SolarCHIP: ``image`` ``[C, H, W]`` float32, optional
    ``present`` ``[C]``); other columns are dropped. Reusing ``run_name`` + ``storage_path``
    resumes from the run's latest checkpoint. ``log`` receives human-readable progress lines.
    ``val_ds`` (same columns) adds ``val_*`` metrics (:func:`validate`) to every report;
    ``callbacks`` go to the trainer's ``RunConfig`` (e.g. Tune's ``TuneReportCallback``).
    """
    import ray
    from ray.train import CheckpointConfig, FailureConfig, RunConfig, ScalingConfig
    from ray.train.torch import TorchTrainer

    columns, datasets = training_datasets(cfg, train_ds, val_ds)
    if cfg.num_workers >= 1 and ray.is_initialized():
        cfg = fit_workers_to_cluster(cfg, float(ray.cluster_resources().get("CPU", 0.0)), log)
    previous = latest_checkpoint(cfg.run_dir) if cfg.local_storage else None
    if previous is not None:
        log(f"Resuming run {cfg.run_name!r} from checkpoint {previous[1]} (step {previous[0]})")
    else:
        log(f"Starting run {cfg.run_name!r} in {cfg.run_dir}")
    trainer = TorchTrainer(
        train_loop_per_worker,
        train_loop_config={"train": cfg.to_dict(), "columns": columns,
                           "local": cfg.num_workers == 0, "val": val_ds is not None},
        datasets=datasets,
        scaling_config=ScalingConfig(num_workers=cfg.num_workers, use_gpu=cfg.use_gpu,
                                     resources_per_worker={"CPU": cfg.cpus_per_worker}),
        run_config=RunConfig(
            name=cfg.run_name,
            storage_path=cfg.storage_path,
            checkpoint_config=CheckpointConfig(num_to_keep=cfg.num_to_keep),
            failure_config=FailureConfig(max_failures=cfg.failure_budget(
                sum(1 for n in ray.nodes() if n.get("Alive")) if ray.is_initialized() else 1)),
            callbacks=list(callbacks) or None,
        ),
    )
    with training_watchdog(cfg, log):  # no step for a while: log which resource is missing
        result = trainer.fit()
    if getattr(result, "error", None) is not None:
        raise result.error
    ret = result.return_value or {}
    latest = latest_checkpoint(cfg.run_dir) if cfg.local_storage else None
    out = FitResult(
        run_dir=cfg.run_dir,
        checkpoint=latest[1] if latest else (result.checkpoint.path if result.checkpoint else None),
        start_step=int(ret.get("start_step", 0)),
        final_step=int(ret.get("final_step", latest[0] if latest else 0)),
        resumed_from=ret.get("resumed_from"),
        metrics=dict(ret.get("metrics") or result.metrics or {}),
    )
    log_finished(cfg, out, log)
    return out


def log_finished(cfg: TrainConfig, out: FitResult, log=print) -> None:
    """The lines every finished run prints: final step, checkpoints, metrics file."""
    log(f"Finished run {cfg.run_name!r} at step {out.final_step}"
        + (f" (resumed from step {out.start_step})" if out.start_step else ""))
    log(f"Checkpoints: {cfg.run_dir}/{CHECKPOINT_PREFIX}*  (latest: {out.checkpoint})")
    log(f"Metrics: {out.metrics_file}")


def pretrain(cfg: TrainConfig, data_dir: str | os.PathLike | data_api.ShardSet, split: bool = True,
             log=print, callbacks=()) -> FitResult:
    """Train from ingest's Parquet shards in ``data_dir`` (:func:`pretraining_dataset`: channels
    and the model's size from the shards, only the columns the objective reads);
    ``callbacks`` go to :func:`fit`."""
    cfg, ds = pretraining_dataset(cfg, data_dir, split)
    return fit(cfg, ds, log=log, callbacks=callbacks)
