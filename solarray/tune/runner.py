"""Run a sweep: Ray Tune drives one Ray Train ``TorchTrainer`` run per trial (the generic loop).

Layout under ``storage_path/name`` (the Tune experiment; a fixed name, so ``resume=True`` picks it
up with ``Tuner.restore``)::

    tuner.pkl, experiment_state-*.json, <trial dirs>   Tune's own files
    sweep.json                                         the sweep + settings this experiment runs
    train/<trial_id>/checkpoint_*                      each trial's Ray Train run (resumable)
    results/                                           table, plot, best config (see results.py)

Each trial is a function trainable that builds a :class:`TrainConfig` from the sweep's base and the
trial's parameters and calls :func:`solarray.train.loop.fit` with Tune's ``TuneReportCallback``,
so every ``ray.train.report`` of the loop (with ``val_*`` metrics) reaches ASHA, which stops poor
trials at rungs of ``step``. A trial that was interrupted restarts with the same trial id, so its
Train run (same name and storage) resumes from its latest checkpoint.

The trial function itself holds no CPU (``DRIVER_RESOURCES``); the Train workers reserve
``trial_workers × cpus_per_worker`` CPUs (and a GPU each with ``use_gpu``) in their own placement
group. Keep at least one CPU free for Ray Data's read tasks (``max_concurrent`` × workers × CPUs <
cluster CPUs), or the data stream starves.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from solarray.tune.space import SCORES, Sweep, SweepError, param_space, train_values, validate_sweep

log_ = logging.getLogger(__name__)

# The trial's driver only waits on the trainer. Tune rejects an empty resource request, and a
# fractional CPU would leave the cluster a fraction short of the whole CPU that a Ray Data task
# needs (a deadlock on 2 CPUs), so it reserves a little logical memory instead.
DRIVER_RESOURCES = {"cpu": 0, "memory": 32 * 1024**2}
TRAIN_DIR = "train"
RESULTS_DIR = "results"
SWEEP_FILE = "sweep.json"
PG_FILE = ".placement_groups"
# Trials queue for CPUs behind each other: give Train's worker-group start a long timeout.
ENV_DEFAULTS = {
    "RAY_USAGE_STATS_ENABLED": "0",
    "RAY_TRAIN_HEALTH_CHECK_INTERVAL_S": "0.2",
    "RAY_TRAIN_ENABLE_PREEMPTION_WATCHER": "0",
    "RAY_TRAIN_WORKER_GROUP_START_TIMEOUT_S": "900",
}


def set_env_defaults() -> None:
    """Ray Train settings that matter on small machines (ENVIRONMENT.md); call before ray.init."""
    for k, v in ENV_DEFAULTS.items():
        os.environ.setdefault(k, v)


@dataclass
class TuneRun:
    """How to run a sweep (the command-line side; the sweep file says what to search)."""

    name: str | None = None  # experiment name; default the sweep's name
    storage_path: str = "ray_results"
    samples: int | None = None  # default: the sweep's samples
    steps: int | None = None  # default: the sweep's base steps (also ASHA's max_t)
    trial_workers: int | None = None
    cpus_per_worker: float | None = None
    use_gpu: bool | None = None
    max_concurrent: int = 1
    resume: bool = False
    score: str | None = None  # "metric" | "downstream"; default the sweep's
    verbose: int = 1

    def __post_init__(self) -> None:
        self.storage_path = os.path.abspath(os.path.expanduser(str(self.storage_path)))
        for name, low in (("samples", 1), ("steps", 1), ("trial_workers", 0),
                          ("max_concurrent", 1)):
            v = getattr(self, name)
            if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < low):
                raise ValueError(f"TuneRun.{name} must be an integer >= {low}, got {v!r}")
        if self.cpus_per_worker is not None and self.cpus_per_worker <= 0:
            raise ValueError(f"TuneRun.cpus_per_worker must be > 0, got {self.cpus_per_worker}")
        if self.score is not None and self.score not in SCORES:
            raise ValueError(f"TuneRun.score must be one of {', '.join(SCORES)}, got {self.score!r}")
        if self.name is not None and (not self.name or os.sep in self.name):
            raise ValueError(f"TuneRun.name must be a plain name, got {self.name!r}")


@dataclass
class Resolved:
    """A sweep with the command-line settings applied: what the experiment actually runs."""

    sweep: Sweep
    name: str
    experiment_dir: Path
    samples: int
    steps: int
    trial_workers: int
    cpus_per_worker: float
    use_gpu: bool
    max_concurrent: int
    score: str

    @property
    def train_root(self) -> Path:
        return self.experiment_dir / TRAIN_DIR

    @property
    def results_dir(self) -> Path:
        return self.experiment_dir / RESULTS_DIR

    def runner_overrides(self, channels: Sequence[str]) -> dict[str, Any]:
        """TrainConfig keys set by the runner for every trial (run name/storage come per trial)."""
        return {"steps": self.steps, "channels": tuple(channels),
                "num_workers": self.trial_workers, "cpus_per_worker": self.cpus_per_worker,
                "use_gpu": self.use_gpu}

    def signature(self) -> dict[str, Any]:
        """What must match for ``--resume`` to continue this experiment."""
        return {"sweep": self.sweep.to_dict(), "samples": self.samples, "steps": self.steps,
                "trial_workers": self.trial_workers, "cpus_per_worker": self.cpus_per_worker,
                "use_gpu": self.use_gpu}


def resolve(sweep: Sweep, run: TuneRun) -> Resolved:
    res = sweep.resources
    name = run.name or sweep.name
    return Resolved(
        sweep=sweep, name=name, experiment_dir=Path(run.storage_path) / name,
        samples=run.samples or sweep.samples, steps=run.steps or sweep.steps,
        trial_workers=res.trial_workers if run.trial_workers is None else run.trial_workers,
        cpus_per_worker=run.cpus_per_worker or res.cpus_per_worker,
        use_gpu=res.use_gpu if run.use_gpu is None else bool(run.use_gpu),
        max_concurrent=run.max_concurrent, score=run.score or sweep.score,
    )


# ------------------------------------------------------------------------------------------------
# Releasing Train placement groups of stopped trials
# ------------------------------------------------------------------------------------------------
# When ASHA stops a trial, Tune kills the trial's actor and with it the Train controller, before the
# controller can remove the workers' placement group. Ray Train's own PlacementGroupCleaner relies on
# the State API (the dashboard), which small/test clusters run without, so the group would keep its
# CPUs until the driver exits and the next trials would wait for ever. The controller-side callback
# below records each worker group's placement group in the trial's Train directory; the Tune-side
# callback removes whatever is still there when a trial ends.

def _worker_group_recorder(path: Path):
    """A Ray Train (V2, internal API) worker-group callback appending the placement-group id of
    every started worker group to ``path``; ``None`` if this Ray has no such hook."""
    try:
        from ray.train.v2._internal.execution.callback import WorkerGroupCallback
    except ImportError:  # pragma: no cover - depends on the Ray version
        return None

    class RecordPlacementGroup(WorkerGroupCallback):
        def __init__(self, target: str):
            self.target = target

        def after_worker_group_start(self, worker_group) -> None:
            try:
                state = worker_group._worker_group_state
                pg = state.placement_group_handle.placement_group
                os.makedirs(os.path.dirname(self.target), exist_ok=True)
                with open(self.target, "a") as fh:
                    fh.write(pg.id.hex() + "\n")
            except Exception as err:  # noqa: BLE001 - best effort, never break training
                log_.warning("could not record the worker placement group: %s", err)

    return RecordPlacementGroup(str(path))


def release_placement_groups(train_dir: Path) -> int:
    """Remove the recorded placement groups of one trial's Train run that are still alive."""
    from ray._raylet import PlacementGroupID
    from ray.util.placement_group import (
        PlacementGroup,
        placement_group_table,
        remove_placement_group,
    )

    path = Path(train_dir) / PG_FILE
    if not path.exists():
        return 0
    removed = 0
    for line in path.read_text().split():
        try:
            pg = PlacementGroup(PlacementGroupID(bytes.fromhex(line)))
            state = placement_group_table(pg).get("state")
            if state not in (None, "REMOVED"):
                remove_placement_group(pg)
                removed += 1
        except Exception as err:  # noqa: BLE001
            log_.warning("could not release placement group %s: %s", line, err)
    return removed


def _tune_callbacks(resolved: Resolved, metric: str):
    from ray import tune

    class ReleaseTrainResources(tune.Callback):
        """Free a finished/stopped/failed trial's Train placement group."""

        def _release(self, trial) -> None:
            release_placement_groups(resolved.train_root / trial.trial_id)

        def on_trial_complete(self, iteration, trials, trial, **info):
            self._release(trial)

        def on_trial_error(self, iteration, trials, trial, **info):
            self._release(trial)

    class CheckMetric(tune.Callback):
        """Fail fast, naming what was reported, when the sweep's metric never appears."""

        def on_trial_result(self, iteration, trials, trial, result, **info):
            if metric not in result:
                reported = sorted(k for k in result if not k.startswith(("time_", "config")))
                raise SweepError(
                    f"sweep {resolved.sweep.name!r}: trial {trial.trial_id} reported no "
                    f"{metric!r} (the sweep's metric); it reported {', '.join(reported)}. "
                    f"Fix 'metric' in {resolved.sweep.source} (val_* metrics need validation "
                    f"data)")

    return [ReleaseTrainResources(), CheckMetric()]


# ------------------------------------------------------------------------------------------------
# The trial
# ------------------------------------------------------------------------------------------------
def run_trial(config: dict[str, Any], train_ds=None, val_ds=None, setup: dict | None = None) -> None:
    """Tune function trainable: one Ray Train run of the generic loop with ``config``'s parameters.

    ``setup`` = ``{"sweep": Sweep mapping, "overrides": runner TrainConfig keys, "train_root"}``.
    """
    from ray import tune
    from ray.tune.integration.ray_train import TuneReportCallback

    from solarray.train.config import TrainConfig
    from solarray.train.loop import fit
    from solarray.tune.space import parse_sweep

    set_env_defaults()  # propagated from here to the Train controller and workers
    setup = setup or {}
    sweep = parse_sweep(setup["sweep"], source=setup.get("source", "sweep"))
    trial_id = tune.get_context().get_trial_id()
    train_root = Path(setup["train_root"])
    values = train_values(sweep, config, **setup["overrides"], run_name=trial_id,
                          storage_path=str(train_root))
    cfg = TrainConfig.from_dict(values, source=f"trial {trial_id}")
    callbacks = [TuneReportCallback()]
    recorder = _worker_group_recorder(train_root / trial_id / PG_FILE)
    if recorder is not None:
        callbacks.append(recorder)
    fit(cfg, train_ds, val_ds=val_ds, callbacks=callbacks, log=lambda *a: None)


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


def expected_trials(sweep: Sweep, samples: int) -> int:
    """Trials a complete sweep has: ``samples`` × the product of the grid sizes."""
    n = samples
    for p in sweep.space:
        if p.kind == "grid":
            n *= len(p.args)
    return n


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

    from solarray.tune import results as results_mod

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

    setup = {"sweep": sweep.to_dict(), "source": sweep.source,
             "overrides": resolved.runner_overrides(channels),
             "train_root": str(resolved.train_root)}
    trainable = tune.with_resources(
        tune.with_parameters(run_trial, train_ds=train_ds, val_ds=val_ds, setup=setup),
        DRIVER_RESOURCES)
    callbacks = [*_tune_callbacks(resolved, sweep.metric), *tune_callbacks]

    if restoring:
        log(f"Resuming sweep {resolved.name!r} from {exp}")
        tuner = tune.Tuner.restore(str(exp), trainable=trainable, resume_unfinished=True,
                                   resume_errored=True)
    else:
        exp.mkdir(parents=True, exist_ok=True)
        tmp = exp / f".{SWEEP_FILE}.tmp"
        tmp.write_text(json.dumps(resolved.signature(), indent=1))
        os.replace(tmp, exp / SWEEP_FILE)
        scheduler = ASHAScheduler(
            time_attr="step", metric=sweep.metric, mode=sweep.mode, max_t=resolved.steps,
            grace_period=sweep.asha.grace(resolved.steps),
            reduction_factor=sweep.asha.reduction_factor)
        tuner = tune.Tuner(
            trainable,
            param_space=param_space(sweep),
            tune_config=tune.TuneConfig(num_samples=resolved.samples, scheduler=scheduler,
                                        max_concurrent_trials=resolved.max_concurrent,
                                        reuse_actors=False),
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
        from solarray.tune.downstream import score_table

        table = score_table(table, probe, log=log)
    table = results_mod.rank(table, resolved)
    best = results_mod.best_config(table, resolved, channels)
    files = results_mod.write_results(table, resolved, best)
    return SweepOutcome(resolved=resolved, table=table, best_config=best, files=files,
                        resumed=restoring)


def datasets_from_dir(data_dir: str | os.PathLike, log: Callable[[str], None] = print,
                      probe_rows: int = 512):
    """Train/val Ray Datasets, channels and probe data from ingest's Parquet shards.

    Splits by time with :func:`solarray.data.dataset.split_by_time` (train / val months). The
    downstream probe fits on up to ``probe_rows`` labelled training samples and scores on the
    labelled validation samples (``None`` when either lacks both classes).
    """
    from solarray.data import dataset as data_api
    from solarray.tune.downstream import probe_from_datasets

    channels = tuple(data_api.channels_of(os.fspath(data_dir)))
    ds = data_api.read_shards(os.fspath(data_dir))
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
