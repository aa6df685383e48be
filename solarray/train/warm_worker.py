"""One-worker training in a warm actor that outlives the command, so the next command starts fast.

Why: a one-worker Ray Train run starts a Train controller, a worker group and a Ray Data stream
for every command (new processes importing torch, Ray Train and the data code: 49 s to the first
step on 2 busy cores, BENCHMARKS.md "Start-up of `solarray pretrain`"), and Ray Train keeps no
worker group between runs. A one-worker run on a single node therefore goes to a **warm
trainer**: a detached, named actor on the command's node that runs the same loop in-process
(:func:`solarray.train.loop.fit_in_process`) and reads local shards itself
(:mod:`solarray.train.local_shards`). A later command with the same resources, code and runtime
environment finds it by name and skips the process starts and the imports (3.3 s to the first
step).

Resources: while a run trains, a placement group on that node reserves what the Ray Train worker
would (``cpus_per_worker`` CPUs) and is removed when the run ends, so an idle trainer holds no CPU
that another run could use (on 2 cores a trainer holding its CPU left the next Ray Train run
waiting). With ``use_gpu`` the trainer holds its GPU while it lives (Ray gives an actor its GPU
only at creation). It exits after ``warm_idle_s`` seconds without a run
(:class:`~solarray.train.config.TrainConfig`, 300 s by default).

It is used only where it loses nothing (:func:`warm_worker_applies`): one worker, one node, no
worker restarts (``max_failures`` 0, the single-node default), and a cluster this command joined
(``$RAY_ADDRESS`` or ``ray job submit``; a Ray the command started ends with it, so there is
nothing to reuse). ``reuse_worker: false`` (``--no-reuse-worker``) turns it off. Checkpoints and
``metrics.jsonl`` go to the run directory as with ``--workers 0``; a run resumes by name as before.

The command stays in charge: it prints every report as progress, a Ctrl-C stops the run at its
next report, and when the command is gone (no heartbeat for :data:`HEARTBEAT_TIMEOUT_S`) the run
stops at its next report instead of training for nobody.
"""

from __future__ import annotations

import hashlib
import json
import os
import queue
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ray
from ray.util.placement_group import placement_group, remove_placement_group
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from solarray.core.ray_connect import joined_running_cluster
from solarray.train.config import TrainConfig
from solarray.train.loop import FitResult, fit_in_process, log_finished
from solarray.train.resources import fit_workers_to_cluster

NAMESPACE = "solarray"
ACTOR_PREFIX = "solarray-trainer-"
#: The command sends a heartbeat this often while it waits for reports ...
HEARTBEAT_S = 5.0
#: ... and a run whose command has sent none for this long stops at its next report.
HEARTBEAT_TIMEOUT_S = 60.0

_PACKAGE = Path(__file__).resolve().parents[1]


class RunStopped(RuntimeError):
    """Raised inside the warm trainer's loop to end a run its command no longer waits for."""


def code_fingerprint(package: Path = _PACKAGE, runtime_env: dict | None = None) -> str:
    """A short hash of the solarray sources (path, size, mtime) and of the Ray runtime
    environment: a warm trainer holds the code and packages it started with, so a changed
    checkout or another job environment gets a new trainer instead of stale code."""
    h = hashlib.sha1(json.dumps(runtime_env or {}, sort_keys=True, default=str).encode())
    for path in sorted(package.rglob("*.py")):
        st = path.stat()
        h.update(f"{path.relative_to(package)}:{st.st_size}:{st.st_mtime_ns};".encode())
    return h.hexdigest()[:10]


def actor_name(cfg: TrainConfig, node_id: str, fingerprint: str) -> str:
    """The warm trainer for ``cfg``'s resources on node ``node_id`` running code ``fingerprint``."""
    return (f"{ACTOR_PREFIX}{fingerprint}-{node_id[:12]}-{cfg.cpus_per_worker:g}cpu-"
            f"{1 if cfg.use_gpu else 0}gpu")


def warm_worker_applies(cfg: TrainConfig, alive_nodes: int,
                        joined_cluster: bool) -> tuple[bool, str]:
    """(whether a run of ``cfg`` goes to a warm trainer, why not) on a cluster of ``alive_nodes``
    that this process joined (``joined_cluster``) or started."""
    if not cfg.reuse_worker:
        return False, "reuse_worker is off"
    if cfg.num_workers != 1:
        return False, f"{cfg.num_workers} workers (the warm trainer is one worker)"
    if alive_nodes != 1:
        return False, f"{alive_nodes} nodes (Ray Train places and restarts workers across nodes)"
    if cfg.failure_budget(alive_nodes) > 0:
        return False, "max_failures > 0 (Ray Train restarts the worker group)"
    if not cfg.local_storage:
        return False, f"storage {cfg.storage_path} is not a filesystem path"
    if not joined_cluster:
        return False, "this command started its own Ray, which ends with it"
    return True, ""


class WarmTrainer:
    """The actor: one run at a time (``fit``, a generator of reports), heartbeats and stop
    requests answered while it trains (``max_concurrency=2``)."""

    def __init__(self, idle_s: float) -> None:
        self._run_lock = threading.Lock()
        self._stop = threading.Event()
        self._beat = time.monotonic()
        self._last_used = time.monotonic()
        self._idle_s = float(idle_s)
        threading.Thread(target=self._exit_when_idle, name="warm-trainer-idle",
                         daemon=True).start()

    def _exit_when_idle(self) -> None:
        while True:
            time.sleep(min(30.0, self._idle_s / 4))
            if (not self._run_lock.locked()
                    and time.monotonic() - self._last_used > self._idle_s):
                ray.kill(ray.get_runtime_context().current_actor, no_restart=True)
                return

    def pid(self) -> int:
        return os.getpid()

    def heartbeat(self) -> None:
        self._beat = time.monotonic()

    def stop(self) -> None:
        self._stop.set()

    def fit(self, cfg_dict: dict[str, Any], train_ds, val_ds=None):
        """Train; yields ``("busy", None)`` alone when another run holds this trainer, else
        ``("report", metrics)`` for every report and finally ``("result", FitResult)``."""
        if not self._run_lock.acquire(blocking=False):
            yield "busy", None
            return
        try:
            self._stop.clear()
            self._beat = time.monotonic()
            reports: queue.Queue = queue.Queue()
            outcome: dict[str, Any] = {}

            def report(metrics: dict[str, Any]) -> None:
                if self._stop.is_set():
                    raise RunStopped("the run was stopped by its command")
                if time.monotonic() - self._beat > HEARTBEAT_TIMEOUT_S:
                    raise RunStopped(f"no heartbeat from the command for "
                                     f"{HEARTBEAT_TIMEOUT_S:g} s: it is gone")
                reports.put(dict(metrics))

            def train() -> None:
                try:
                    cfg = TrainConfig.from_dict(cfg_dict, source="warm trainer")
                    if not cfg.torch_threads:  # what a Ray Train worker with these CPUs gets
                        cfg = cfg.replace(torch_threads=max(1, int(cfg.cpus_per_worker)))
                    outcome["result"] = fit_in_process(cfg, train_ds, val_ds, report)
                except BaseException as err:  # handed to the command below
                    outcome["error"] = err
                finally:
                    reports.put(None)

            thread = threading.Thread(target=train, name="warm-trainer-run", daemon=True)
            thread.start()
            while (item := reports.get()) is not None:
                yield "report", item
            thread.join()
            if "error" in outcome:
                raise outcome["error"]
            yield "result", outcome["result"]
        finally:
            self._last_used = time.monotonic()
            self._run_lock.release()


def warm_trainer(cfg: TrainConfig) -> tuple[Any, bool]:
    """(this node's warm trainer for ``cfg``, whether it was already running): found by name or
    started — detached, pinned to this node so that the run directory is the command's."""
    ctx = ray.get_runtime_context()
    node_id = ctx.get_node_id()
    name = actor_name(cfg, node_id, code_fingerprint(runtime_env=dict(ctx.runtime_env or {})))
    try:
        ray.get_actor(name, namespace=NAMESPACE)
        reused = True
    except ValueError:
        reused = False
    actor = ray.remote(WarmTrainer).options(
        name=name, namespace=NAMESPACE, get_if_exists=True, lifetime="detached",
        max_concurrency=2, num_cpus=0, num_gpus=1 if cfg.use_gpu else 0,
        scheduling_strategy=NodeAffinitySchedulingStrategy(node_id, soft=False),
    ).remote(cfg.warm_idle_s)
    return actor, reused


def fit_warm_if_applies(cfg: TrainConfig, train_ds, val_ds=None,
                        log: Callable[[str], None] = print) -> FitResult | None:
    """Train ``cfg`` in this node's warm trainer when :func:`warm_worker_applies` (CPUs per
    worker fitted to the cluster as for Ray Train); ``None`` when it does not apply or the
    trainer is busy — the caller then runs Ray Train (:func:`solarray.train.loop.fit`)."""
    if not ray.is_initialized():
        return None
    alive = sum(1 for n in ray.nodes() if n.get("Alive"))
    if not warm_worker_applies(cfg, alive, joined_running_cluster())[0]:
        return None
    cfg = fit_workers_to_cluster(cfg, float(ray.cluster_resources().get("CPU", 0.0)), log)
    out = fit_warm(cfg, train_ds, val_ds, log)
    if out is not None:
        log_finished(cfg, out, log)
    return out


def fit_warm(cfg: TrainConfig, train_ds, val_ds=None,
             log: Callable[[str], None] = print) -> FitResult | None:
    """Run ``cfg`` in this node's warm trainer; ``None`` when that trainer is busy with another
    run. Reports are logged as progress lines."""
    reservation = reserve_cpus(cfg, log)
    try:
        return _fit_reserved(cfg, train_ds, val_ds, log)
    finally:
        remove_placement_group(reservation)


def reserve_cpus(cfg: TrainConfig, log: Callable[[str], None] = print,
                 wait_log_s: float = 10.0):
    """A placement group of ``cpus_per_worker`` CPUs on this node, once the node has them (said
    in ``log`` every ``wait_log_s`` while it waits, as Ray Train's watchdog does)."""
    node = f"node:{ray.util.get_node_ip_address()}"
    pg = placement_group([{"CPU": cfg.cpus_per_worker, node: 0.001}], strategy="STRICT_PACK")
    waited = 0.0
    while not ray.wait([pg.ready()], timeout=wait_log_s)[0]:
        waited += wait_log_s
        log(f"waiting {waited:.0f} s for {cfg.cpus_per_worker:g} free CPU on this node for the "
            f"warm trainer (cluster free: {ray.available_resources().get('CPU', 0):g} CPU); "
            "other runs hold them")
    return pg


def _fit_reserved(cfg: TrainConfig, train_ds, val_ds, log: Callable[[str], None]
                  ) -> FitResult | None:
    actor, reused = warm_trainer(cfg)
    pid = ray.get(actor.pid.remote())
    log(f"Run {cfg.run_name!r} in {cfg.run_dir}: one worker in this node's warm trainer (pid "
        f"{pid}, {'reused' if reused else 'started'}; {cfg.cpus_per_worker:g} CPU reserved "
        f"for the run; kept {cfg.warm_idle_s:g} s for the next command"
        f"{' with its GPU' if cfg.use_gpu else ''}; --no-reuse-worker for a Ray Train run)")
    done = threading.Event()

    def beat() -> None:
        while not done.wait(HEARTBEAT_S):
            actor.heartbeat.remote()

    threading.Thread(target=beat, name="warm-trainer-heartbeat", daemon=True).start()
    try:
        for ref in actor.fit.remote(cfg.to_dict(), train_ds, val_ds):
            kind, payload = ray.get(ref)
            if kind == "busy":
                log("the warm trainer on this node is busy with another run; starting Ray Train")
                return None
            if kind == "result":
                return payload
            log(progress_line(payload, cfg.steps))
    except BaseException:
        actor.stop.remote()  # Ctrl-C or a lost connection: end the run at its next report
        raise
    finally:
        done.set()
    raise RuntimeError("the warm trainer ended without a result")


def progress_line(metrics: dict[str, Any], steps: int) -> str:
    """``step 40/400: loss 0.8123, loss_rec 0.1021, …`` from one report."""
    shown = ", ".join(f"{k} {v:.4g}" for k, v in sorted(metrics.items())
                      if k.startswith(("loss", "val_")) and isinstance(v, float))
    return f"step {metrics.get('step', '?')}/{steps}: {shown}"


__all__ = ["ACTOR_PREFIX", "HEARTBEAT_S", "HEARTBEAT_TIMEOUT_S", "NAMESPACE", "RunStopped",
           "WarmTrainer", "actor_name", "code_fingerprint", "fit_warm", "fit_warm_if_applies",
           "progress_line", "reserve_cpus", "warm_trainer", "warm_worker_applies"]
