"""Starting or joining Ray, the same way for the CLI, jobs, sweeps, the demo and the service."""

from __future__ import annotations

import json
import logging
import os
from typing import Any

#: Ray settings that matter on small machines (ENVIRONMENT.md); applied before ``ray.init``.
ENV_DEFAULTS: dict[str, str] = {
    "RAY_USAGE_STATS_ENABLED": "0",
    "RAY_TRAIN_HEALTH_CHECK_INTERVAL_S": "0.2",
    "RAY_TRAIN_ENABLE_PREEMPTION_WATCHER": "0",
    "RAY_TRAIN_WORKER_GROUP_START_TIMEOUT_S": "900",
}

# Set by Ray's job supervisor in the environment of every job's entrypoint process.
JOB_ENV = "RAY_JOB_CONFIG_JSON_ENV_VAR"


def set_env_defaults() -> None:
    """Apply :data:`ENV_DEFAULTS` where the environment does not already say otherwise."""
    for k, v in ENV_DEFAULTS.items():
        os.environ.setdefault(k, v)


def in_ray_job() -> bool:
    """True when this process is the entrypoint of a ``ray job submit`` job."""
    return JOB_ENV in os.environ


def submission_id() -> str | None:
    """The Ray job submission id (``raysubmit_…`` or the ``--submission-id`` given), if any."""
    try:
        meta = json.loads(os.environ[JOB_ENV]).get("metadata") or {}
    except (KeyError, ValueError):
        return None
    return meta.get("job_submission_id") or meta.get("job_name")


def connect(address: str | None = None, *, num_cpus: int | None = None, quiet: bool = True,
            log_to_driver: bool = False, **local_kwargs: Any):
    """Start or join Ray once and return the ``ray`` module.

    Already initialised: nothing changes. Inside a Ray job, or with ``address`` / ``$RAY_ADDRESS``:
    join that cluster. Otherwise start a local instance with ``num_cpus`` and no dashboard
    (``address="local"``: never attach to another ``ray start`` cluster on this machine).
    ``quiet`` turns off Ray Data progress bars and Ray's info logging.
    """
    set_env_defaults()
    import ray

    if not ray.is_initialized():
        address = address or os.environ.get("RAY_ADDRESS") or ("auto" if in_ray_job() else None)
        if address:
            ray.init(address=address, log_to_driver=log_to_driver)
        else:
            local_kwargs.setdefault("include_dashboard", False)
            ray.init(address="local", num_cpus=num_cpus, log_to_driver=log_to_driver,
                     **local_kwargs)
    if quiet:
        ray.data.DataContext.get_current().enable_progress_bars = False
        for name in ("ray.data", "ray"):
            logging.getLogger(name).setLevel(logging.WARNING)
    return ray


def joined_running_cluster() -> bool:
    """True when this process is connected to a Ray cluster it did not start (``$RAY_ADDRESS``,
    ``ray job submit``, ``ray.init(address=...)``): what outlives the process, such as a detached
    actor, outlives it there too. False before ``ray.init`` and when this process started its own
    instance (that instance ends with the process)."""
    import ray

    if not ray.is_initialized():
        return False
    node = getattr(ray._private.worker, "_global_node", None)  # no public accessor in Ray 2.x
    return node is not None and not node.is_head()


__all__ = ["ENV_DEFAULTS", "JOB_ENV", "connect", "in_ray_job", "joined_running_cluster",
           "set_env_defaults", "submission_id"]
