"""Training workers fitted to the cluster: workers that would take every CPU leave Ray Data none,
and the data stream never starts (a silent hang). Every Ray Train run of the generic loop
(:func:`solarray.train.loop.fit`) goes through :func:`fit_workers_to_cluster`."""

from __future__ import annotations

from collections.abc import Callable

from solarray.core.errors import UsageError
from solarray.train.config import TrainConfig

#: CPUs left free for Ray Data's read and preprocessing tasks: each asks for one whole CPU by
#: default, so half a CPU left free schedules none of them and the stream stays backpressured.
RAY_DATA_CPUS = 1.0


def fit_workers_to_cluster(cfg: TrainConfig, cluster_cpus: float,
                           log: Callable[[str], None] = print) -> TrainConfig:
    """``cfg`` with ``cpus_per_worker`` shrunk so that ``RAY_DATA_CPUS`` stay free (said in
    ``log``; 2 workers on 2 CPUs get 0.5 CPU each), unchanged when there is room;
    :class:`UsageError` when even 0.1 CPU per worker does not fit."""
    want = cfg.num_workers * cfg.cpus_per_worker
    if cfg.num_workers < 1 or cluster_cpus <= 0 or want <= cluster_cpus - RAY_DATA_CPUS:
        return cfg
    fitted = (cluster_cpus - RAY_DATA_CPUS) / cfg.num_workers
    if fitted < 0.1:
        raise UsageError(f"--workers {cfg.num_workers}: the cluster has {cluster_cpus:g} CPUs, "
                         "too few for that many training workers plus Ray Data; use fewer workers")
    fitted = float(int(fitted * 20) / 20)  # multiples of 0.05 CPU
    log(f"training: {cfg.num_workers} worker(s) × {cfg.cpus_per_worker:g} CPU would take all "
        f"{cluster_cpus:g} CPUs of this cluster and leave Ray Data none; using {fitted:g} CPU "
        f"per worker (--cpus-per-worker {fitted:g})")
    return cfg.replace(cpus_per_worker=fitted)


__all__ = ["RAY_DATA_CPUS", "fit_workers_to_cluster"]
