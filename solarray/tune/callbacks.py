"""Callbacks of a sweep: releasing the Train placement groups of stopped trials, and failing fast
when the sweep's metric is never reported.

When ASHA stops a trial, Tune kills the trial's actor and with it the Train controller, before the
controller can remove the workers' placement group. Ray Train's own PlacementGroupCleaner relies on
the State API (the dashboard), which small/test clusters run without, so the group would keep its
CPUs until the driver exits and the next trials would wait for ever. The controller-side callback
(:func:`worker_group_recorder`) records each worker group's placement group in the trial's Train
directory; the Tune-side callback (:func:`sweep_callbacks`) removes whatever is still there when a
trial ends.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from solarray.tune.experiment import Resolved
from solarray.tune.space import SweepError

log_ = logging.getLogger(__name__)

#: Placement-group ids of a trial's Train worker groups, one per line, in its Train directory.
PG_FILE = ".placement_groups"


def worker_group_recorder(path: Path):
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


def release_callback(train_root: Path):
    """A Tune callback freeing each finished/stopped/failed trial's Train placement group (the
    trial's Train run lives in ``train_root/<trial id>``)."""
    from ray import tune

    class ReleaseTrainResources(tune.Callback):
        def _release(self, trial) -> None:
            release_placement_groups(Path(train_root) / trial.trial_id)

        def on_trial_complete(self, iteration, trials, trial, **info):
            self._release(trial)

        def on_trial_error(self, iteration, trials, trial, **info):
            self._release(trial)

    return ReleaseTrainResources()


def sweep_callbacks(resolved: Resolved, metric: str) -> list:
    """Tune callbacks: release each ended trial's Train placement group; fail fast, naming what
    was reported, when a result lacks ``metric``."""
    from ray import tune

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

    return [release_callback(resolved.train_root), CheckMetric()]


__all__ = ["PG_FILE", "release_callback", "release_placement_groups", "sweep_callbacks",
           "worker_group_recorder"]
