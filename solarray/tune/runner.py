"""Run a sweep: Ray Tune runs the generic training loop once per trial.

The experiment lives under ``storage_path/name`` (a fixed name, so ``resume=True`` picks it up with
``Tuner.restore``; layout in :mod:`solarray.tune.experiment`).

Each trial is a function trainable that builds a :class:`TrainConfig` from the sweep's base and the
trial's parameters and trains with every report (with ``val_*`` metrics) reaching ASHA, which stops
poor trials at rungs of ``step``:

- **one worker per trial** (the default): the loop runs inside the trial's Tune actor
  (:func:`solarray.train.loop.fit_in_process`, reports through ``ray.tune.report``), which holds
  the worker's CPUs (and GPU); actors are reused, so a trial after the first starts without a new
  process, a Train controller or a worker group;
- **several workers**: a Ray Train ``TorchTrainer`` run per trial with Tune's
  ``TuneReportCallback``; the trial function holds no CPU (``DRIVER_RESOURCES``) and the Train
  workers reserve ``trial_workers × cpus_per_worker`` CPUs in their own placement group.

A trial that was interrupted restarts with the same trial id, so its run (same name and storage)
resumes from its latest checkpoint. Keep at least one CPU free for Ray Data's tasks
(``max_concurrent`` × workers × CPUs < cluster CPUs), or the data stream starves.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from solarray.core.atomic import write_json
from solarray.core.errors import UsageError
from solarray.core.ray_connect import set_env_defaults
from solarray.data import dataset as data_api
from solarray.train.config import TrainConfig
from solarray.train.data_size import sized_model_config
from solarray.train.loop import fit, fit_in_process
from solarray.tune import results as results_mod
from solarray.tune.callbacks import (
    PG_FILE,
    release_placement_groups,
    sweep_callbacks,
    worker_group_recorder,
)
from solarray.tune.downstream import probe_from_datasets, score_table
from solarray.tune.experiment import SWEEP_FILE, Resolved, TuneRun, expected_trials, resolve
from solarray.tune.space import Sweep, SweepError, param_space, parse_sweep
from solarray.tune.trials import train_values, trial_datasets, validate_sweep

# The trial's driver only waits on the trainer. Tune rejects an empty resource request, and a
# fractional CPU would leave the cluster a fraction short of the whole CPU that a Ray Data task
# needs (a deadlock on 2 CPUs), so it reserves a little logical memory instead.
DRIVER_RESOURCES = {"cpu": 0, "memory": 32 * 1024**2}


# ------------------------------------------------------------------------------------------------
# The trial
# ------------------------------------------------------------------------------------------------
def run_trial(config: dict[str, Any], train_ds=None, val_ds=None, setup: dict | None = None) -> None:
    """Tune function trainable: one Ray Train run of the generic loop with ``config``'s parameters.

    ``setup`` = ``{"sweep": Sweep mapping, "overrides": runner TrainConfig keys, "train_root"}``.
    """
    from ray import tune
    from ray.tune.integration.ray_train import TuneReportCallback

    set_env_defaults()  # propagated from here to the Train controller and workers
    setup = setup or {}
    sweep = parse_sweep(setup["sweep"], source=setup.get("source", "sweep"))
    trial_id = tune.get_context().get_trial_id()
    train_root = Path(setup["train_root"])
    values = train_values(sweep, config, **setup["overrides"], run_name=trial_id,
                          storage_path=str(train_root))
    cfg = TrainConfig.from_dict(values, source=f"trial {trial_id}")
    if runs_in_trial(cfg.num_workers):
        fit_in_process(cfg, train_ds, val_ds=val_ds, report=tune.report)
        return
    callbacks = [TuneReportCallback()]
    recorder = worker_group_recorder(train_root / trial_id / PG_FILE)
    if recorder is not None:
        callbacks.append(recorder)
    fit(cfg, train_ds, val_ds=val_ds, callbacks=callbacks, log=lambda *a: None)


def runs_in_trial(trial_workers: int) -> bool:
    """Whether a trial trains in its own Tune actor (one worker: no Train controller and worker
    group to start, and a reused actor keeps its imports) rather than in a Ray Train run."""
    return trial_workers == 1


def trial_resources(resolved: Resolved) -> dict[str, float]:
    """What each trial's Tune actor reserves: the one worker's CPUs (and GPU) when it trains
    in the trial, else only :data:`DRIVER_RESOURCES` (the Train workers reserve their own)."""
    if runs_in_trial(resolved.trial_workers):
        return {"cpu": resolved.cpus_per_worker, "gpu": 1 if resolved.use_gpu else 0}
    return dict(DRIVER_RESOURCES)


# ------------------------------------------------------------------------------------------------
# The experiment
# ------------------------------------------------------------------------------------------------
@dataclass
class SweepOutcome:
    """What a sweep produced (``table`` ranked best first; see :mod:`solarray.tune.results`)."""

    resolved: Resolved
    table: Any  # pandas.DataFrame
    best_config: dict[str, Any]
    files: dict[str, Path] = field(default_factory=dict)
    resumed: bool = False

    @property
    def experiment_dir(self) -> Path:
        return self.resolved.experiment_dir


class SweepInterrupted(RuntimeError):
    """The sweep stopped before every trial finished (Ctrl+C / SIGUSR1); its state is saved."""


def unfinished_trials(experiment_dir: Path, expected: int) -> int:
    """How many trials of the experiment saved in ``experiment_dir`` are not finished.

    Read from Tune's experiment state on disk, which Tune writes before it stops the trials of
    an interrupted run (in memory they are marked terminated then); trials never created count
    as unfinished too.
    """
    # One state file per Tune session, named by its start time; after Tuner.restore the older
    # files are rewritten too, so pick by name (the latest session), not by modification time.
    states = sorted(Path(experiment_dir).glob("experiment_state-*.json"),
                    key=lambda p: (p.name, p.stat().st_mtime))
    if not states:
        return expected
    data = json.loads(states[-1].read_text())
    done = 0
    for entry in data.get("trial_data", []):
        state = entry[0] if isinstance(entry, list) else entry
        state = json.loads(state) if isinstance(state, str) else state
        done += state.get("status") in ("TERMINATED", "ERROR")
    return max(0, expected - done)


def _check_resume(resolved: Resolved, resume: bool) -> bool:
    """True when an existing experiment is to be restored; errors on a mismatch."""
    from ray import tune

    exp = resolved.experiment_dir
    saved = exp / SWEEP_FILE
    if not tune.Tuner.can_restore(str(exp)):
        return False
    if not resume:
        raise SweepError(f"a sweep named {resolved.name!r} already exists in {exp.parent}; pass "
                         f"--resume to continue it, or choose another --name/--storage")
    if saved.exists():
        before = json.loads(saved.read_text())
        now = json.loads(json.dumps(resolved.signature()))
        if before != now:
            diff = sorted(k for k in set(before) | set(now) if before.get(k) != now.get(k))
            raise SweepError(f"--resume: the sweep in {exp} was started with different "
                             f"{', '.join(diff)}; resume it with the same sweep and settings")
    return True


def run_sweep(sweep: Sweep, run: TuneRun, train_ds, val_ds, channels: Sequence[str],
              probe=None, log: Callable[[str], None] = print,
              tune_callbacks: Sequence[Any] = ()) -> SweepOutcome:
    """Run (or resume) ``sweep`` on Ray Datasets ``train_ds``/``val_ds`` with the training columns.

    ``probe`` (a :class:`solarray.tune.downstream.ProbeData`) is needed for ``score
    "downstream"``. Writes the results (:func:`solarray.tune.results.write_results`) and returns
    them. Raises :class:`SweepUnavailable`/:class:`SweepError` before starting Ray work when the
    sweep cannot run.
    """
    from ray import tune
    from ray.tune.schedulers import ASHAScheduler

    sweep = sized_to_data(sweep, first_image_size(train_ds), channels)
    resolved = resolve(sweep, run)
    validate_sweep(sweep, channels)
    if resolved.score == "downstream" and probe is None:
        raise SweepError("score 'downstream' needs probe data (labelled train/test images)")
    if val_ds is None:
        raise SweepError("a sweep needs validation data: ASHA stops trials on a val_* metric")
    restoring = _check_resume(resolved, run.resume)
    exp = resolved.experiment_dir
    if run.resume and not restoring:
        log(f"No saved sweep at {exp}: starting it")

    train_ds, val_ds = trial_datasets(sweep, channels, train_ds, val_ds)
    setup = {"sweep": sweep.to_dict(), "source": sweep.source,
             "overrides": resolved.runner_overrides(channels),
             "train_root": str(resolved.train_root)}
    trainable = tune.with_resources(
        tune.with_parameters(run_trial, train_ds=train_ds, val_ds=val_ds, setup=setup),
        trial_resources(resolved))
    callbacks = [*sweep_callbacks(resolved, sweep.metric), *tune_callbacks]

    if restoring:
        log(f"Resuming sweep {resolved.name!r} from {exp}")
        tuner = tune.Tuner.restore(str(exp), trainable=trainable, resume_unfinished=True,
                                   resume_errored=True)
    else:
        write_json(exp / SWEEP_FILE, resolved.signature(), indent=1)
        scheduler = ASHAScheduler(
            time_attr="step", metric=sweep.metric, mode=sweep.mode, max_t=resolved.steps,
            grace_period=sweep.asha.grace(resolved.steps),
            reduction_factor=sweep.asha.reduction_factor)
        tuner = tune.Tuner(
            trainable,
            param_space=param_space(sweep),
            tune_config=tune.TuneConfig(num_samples=resolved.samples, scheduler=scheduler,
                                        max_concurrent_trials=resolved.max_concurrent,
                                        reuse_actors=runs_in_trial(resolved.trial_workers)),
            run_config=tune.RunConfig(name=resolved.name, storage_path=str(exp.parent),
                                      callbacks=callbacks, verbose=run.verbose,
                                      failure_config=tune.FailureConfig(max_failures=0)),
        )
        log(f"Sweep {sweep.name!r} → {exp}: {resolved.samples} sample(s) of "
            f"{', '.join(sweep.param_paths)}; ASHA on {sweep.metric} ({sweep.mode}), "
            f"{resolved.steps} steps max, {resolved.max_concurrent} trial(s) at a time × "
            f"{resolved.trial_workers} worker(s)")
    local = getattr(tuner, "_local_tuner", None)
    if restoring and local is not None:
        # Tuner.restore brings back the pickled RunConfig, callbacks included (an interrupting
        # or stale callback of the first run would come back too): use this run's.
        local._run_config = dataclasses.replace(local.get_run_config(), callbacks=callbacks,
                                                verbose=run.verbose)
    try:
        grid = tuner.fit()
    finally:
        for d in resolved.train_root.glob("*") if resolved.train_root.exists() else []:
            release_placement_groups(d)
    pending = unfinished_trials(exp, expected_trials(sweep, resolved.samples))
    if pending:
        raise SweepInterrupted(
            f"sweep {resolved.name!r} was interrupted with {pending} trial(s) unfinished; "
            f"its state is saved in {exp}: run the same command with --resume to continue")
    table = results_mod.trial_table(grid, resolved)
    if resolved.score == "downstream":
        table = score_table(table, probe, log=log)
    table = results_mod.rank(table, resolved)
    best = results_mod.best_config(table, resolved, channels)
    files = results_mod.write_results(table, resolved, best)
    return SweepOutcome(resolved=resolved, table=table, best_config=best, files=files,
                        resumed=restoring)


def first_image_size(ds) -> int:
    """Width (pixels) of the first ``image`` of the Ray Dataset ``ds`` (0: no image column)."""
    rows = ds.take(1)
    return int(np.asarray(rows[0]["image"]).shape[-1]) if rows and "image" in rows[0] else 0


def sized_to_data(sweep: Sweep, size: int, channels: Sequence[str]) -> Sweep:
    """``sweep`` with its model sized to the data's ``size``-px images
    (:func:`~solarray.train.data_size.sized_model_config`: SweepError when the sweep pins
    another size or the model cannot take it)."""
    try:
        mc = sized_model_config(sweep.model, sweep.base.get("model_config") or {}, size, channels,
                                "the sweep's training data")
    except UsageError as err:
        raise SweepError(f"{sweep.source}: {err}") from None
    return dataclasses.replace(sweep, base={**sweep.base, "model_config": mc})


def datasets_from_dir(data_dir: str | os.PathLike, log: Callable[[str], None] = print,
                      probe_rows: int = 512):
    """Train/val Ray Datasets, channels and probe data from ingest's Parquet shards.

    Splits by time with :func:`solarray.data.dataset.split_by_time` (train / val months). The
    downstream probe fits on up to ``probe_rows`` labelled training samples and scores on the
    labelled validation samples (``None`` when either lacks both classes).
    """
    shards = data_api.open_shards("--data", os.fspath(data_dir))  # checked and indexed once
    for split in ("train", "val"):  # trials train on one and are scored on the other
        data_api.require_split("--data", shards, split, "add data from other months (test = "
                               "January, validation = March)")
    channels = tuple(data_api.shard_channels("--data", shards) if shards.paths else
                     data_api.channels_of(os.fspath(data_dir)))
    ds = data_api.read_shards(shards)
    splits = data_api.split_by_time(ds)
    train = data_api.to_training(splits["train"]).materialize()
    val = data_api.to_training(splits["val"]).materialize()
    n_train, n_val = train.count(), val.count()
    log(f"Data {data_dir}: {n_train} training and {n_val} validation samples, channels "
        f"{', '.join(channels)}")
    if n_train == 0 or n_val == 0:
        raise SweepError(f"--data {data_dir}: need samples in both the training and the "
                         f"validation months (got {n_train} and {n_val})")
    probe = probe_from_datasets(train, val, max_rows=probe_rows)
    return train, val, channels, probe
