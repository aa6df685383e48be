"""Where the generic training loop gets its data and sends its reports.

The loop (:func:`solarray.train.loop.run_training_loop`) runs in one of two places:

- a **Ray Train worker** (:class:`RayTrainSession`): rank and world size from the Train context,
  data from ``ray.train.get_dataset_shard``, reports (and checkpoints after a failure) through
  ``ray.train``: the path of every multi-worker run and of ``solarray pretrain``;
- **in the calling process** (:class:`InProcessSession`): one worker, the Ray Datasets iterated
  directly, reports handed to a function (a Tune trial passes ``ray.tune.report``). A one-worker
  Tune trial runs here, inside its Tune actor, so a reused actor starts the next trial without a
  Train controller, a worker group and their imports (see :mod:`solarray.tune.runner`).
  Checkpoints are then the run directory's own (``local`` mode of the loop).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any


class RayTrainSession:
    """The loop inside a Ray Train worker."""

    local = False

    def __init__(self) -> None:
        import ray.train

        ctx = ray.train.get_context()
        self.rank, self.world = ctx.get_world_rank(), ctx.get_world_size()

    def shard(self, name: str):
        """This worker's shard of the dataset ``name`` (``iter_torch_batches`` like a Dataset)."""
        import ray.train

        return ray.train.get_dataset_shard(name)

    def checkpoint(self):
        """The checkpoint Ray Train hands back on a restart, or ``None``."""
        import ray.train

        return ray.train.get_checkpoint()

    def report(self, metrics: dict[str, Any], checkpoint=None,
               checkpoint_dir_name: str | None = None) -> None:
        import ray.train

        if checkpoint is None and checkpoint_dir_name is None:
            ray.train.report(metrics)
        else:
            ray.train.report(metrics, checkpoint=checkpoint,
                             checkpoint_dir_name=checkpoint_dir_name)


class InProcessSession:
    """The loop in this process: one worker, ``datasets`` iterated directly, ``report(metrics)``
    called with every report (checkpoints are written to the run directory by the loop)."""

    local = True
    rank, world = 0, 1

    def __init__(self, datasets: Mapping[str, Any],
                 report: Callable[[dict[str, Any]], None] = lambda metrics: None) -> None:
        self._datasets = dict(datasets)
        self._report = report

    def shard(self, name: str):
        if name not in self._datasets:
            raise KeyError(f"no dataset {name!r} given to the in-process training loop "
                           f"(has {', '.join(sorted(self._datasets)) or 'none'})")
        return self._datasets[name]

    def checkpoint(self):
        return None  # local mode resumes from the run directory

    def report(self, metrics: dict[str, Any], checkpoint=None,
               checkpoint_dir_name: str | None = None) -> None:
        self._report(metrics)


__all__ = ["InProcessSession", "RayTrainSession"]
