"""A driver-side watchdog for training runs: when no step is reported for a stated time, say which
resource is missing instead of waiting in silence.

A Ray Train run that cannot start waits without a word: workers whose CPU/GPU request the cluster
cannot place stay pending, and workers that take every CPU leave Ray Data none, so the data stream
never starts (``solarray pretrain --workers 2`` on a 2-core machine). :class:`Watchdog` polls a
progress token (the run's metrics file grows at every report) and, after ``timeout_s`` seconds
without a change, logs :func:`stall_reason` — and again every ``timeout_s`` while the stall lasts.
It only reports; stopping the run stays the user's decision.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from solarray.train.checkpoints import METRICS_FILE
from solarray.train.config import TrainConfig

#: Seconds without a reported step before the watchdog speaks (0 turns it off).
STALL_ENV = "SOLARRAY_STALL_WARN_S"
DEFAULT_STALL_S = 300.0
#: CPU below which Ray Data cannot schedule its read and map tasks (one CPU each by default).
_MIN_DATA_CPU = 1.0


def stall_reason(num_workers: int, cpus_per_worker: float, use_gpu: bool,
                 total: Mapping[str, float], available: Mapping[str, float]) -> str:
    """Why a run of ``num_workers`` × ``cpus_per_worker`` CPUs (0 workers: one in-process worker)
    may make no progress on a cluster with ``total``/``available`` resources
    (``ray.cluster_resources()``/``ray.available_resources()``)."""
    workers = max(1, num_workers)
    cpus = cpus_per_worker if num_workers > 0 else 1.0
    need = workers * cpus
    cpu_total, cpu_free = float(total.get("CPU", 0.0)), float(available.get("CPU", 0.0))
    gpu_total = float(total.get("GPU", 0.0))
    if use_gpu and gpu_total < workers:
        return (f"training workers pending placement: {workers} worker(s) need one GPU each and "
                f"the cluster has {gpu_total:g} GPU(s); drop --gpu or use fewer workers")
    if need > cpu_total:
        return (f"training workers pending placement: {workers} worker(s) × {cpus:g} CPU = "
                f"{need:g} CPUs, the cluster has {cpu_total:g}; use fewer --workers or a smaller "
                "--cpus-per-worker")
    if cpu_free < _MIN_DATA_CPU:
        return (f"the data stream is backpressured: Ray Data's read and map tasks need 1 CPU each "
                f"and the training workers ({workers} × {cpus:g} CPU) and other tasks leave "
                f"{cpu_free:g} of {cpu_total:g} CPUs free; use a smaller --cpus-per-worker (e.g. "
                f"{max(0.1, (cpu_total - 1.0) / workers):.2g}) or fewer --workers")
    return (f"resources look sufficient ({cpu_free:g} of {cpu_total:g} CPUs free): reading the "
            "data or the first steps may be slow; wait, or lower --batch-size/--report-every to "
            "see progress sooner")


def ray_stall_reason(num_workers: int, cpus_per_worker: float, use_gpu: bool) -> str:
    """:func:`stall_reason` for the Ray cluster this driver is connected to."""
    import ray

    try:
        total, available = ray.cluster_resources(), ray.available_resources()
    except Exception as err:  # the GCS may be unreachable: that is the reason then
        return f"cannot read the cluster's resources ({err})"
    return stall_reason(num_workers, cpus_per_worker, use_gpu, total, available)


class Watchdog:
    """Calls ``log`` with ``diagnose()`` when ``progress()`` (any comparable token) has not
    changed for ``timeout_s`` seconds; a context manager running one daemon thread."""

    def __init__(self, progress: Callable[[], Any], diagnose: Callable[[], str], timeout_s: float,
                 log: Callable[[str], None] = print, poll_s: float | None = None):
        self.progress, self.diagnose, self.timeout_s, self.log = progress, diagnose, timeout_s, log
        self.poll_s = poll_s if poll_s is not None else min(5.0, max(timeout_s / 10, 0.01))
        self.warnings = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="solarray-watchdog", daemon=True)

    def _watch(self) -> None:
        token, since = self.progress(), time.monotonic()
        while not self._stop.wait(self.poll_s):
            now_token = self.progress()
            if now_token != token:
                token, since = now_token, time.monotonic()
            elif time.monotonic() - since >= self.timeout_s:
                self.warnings += 1
                self.log(f"[watchdog] no training step reported for {self.timeout_s:g} s: "
                         f"{self.diagnose()}")
                since = time.monotonic()  # again after another timeout_s

    def __enter__(self) -> Watchdog:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def file_progress(path: str | os.PathLike) -> Callable[[], int]:
    """A progress token: the size of ``path`` (a metrics file appended at every report)."""
    path = Path(path)

    def token() -> int:
        try:
            return path.stat().st_size
        except OSError:
            return -1
    return token


def stall_timeout() -> float:
    """Seconds from ``$SOLARRAY_STALL_WARN_S`` (default :data:`DEFAULT_STALL_S`; 0 = off)."""
    try:
        return float(os.environ.get(STALL_ENV, DEFAULT_STALL_S))
    except ValueError:
        return DEFAULT_STALL_S


def training_watchdog(cfg: TrainConfig, log: Callable[[str], None] = print,
                      timeout_s: float | None = None):
    """The watchdog of one run of :func:`solarray.train.loop.fit` (progress: its metrics file),
    or a no-op context when the timeout is 0 or the storage is a URI (no file to watch)."""
    timeout = stall_timeout() if timeout_s is None else timeout_s
    if timeout <= 0 or not cfg.local_storage:
        return contextlib.nullcontext()
    return Watchdog(file_progress(cfg.run_dir / METRICS_FILE),
                    lambda: ray_stall_reason(cfg.num_workers, cfg.cpus_per_worker, cfg.use_gpu),
                    timeout, log)


__all__ = ["DEFAULT_STALL_S", "STALL_ENV", "Watchdog", "file_progress", "ray_stall_reason",
           "stall_reason", "stall_timeout", "training_watchdog"]
