"""Node failures survived, on a multi-node cluster on one machine (``ray.cluster_utils.Cluster``:
each node a real raylet; ``remove_node(allow_graceful=False)`` SIGKILLs its processes).

The head has 0 CPUs, so the work runs on two 1-CPU worker nodes; one of them — the one holding
the work (the ingest actor, the Train worker, the watcher actor) — is killed at a random point,
and the case checks what survived:

* :func:`ingest_case`: every input's fate in the manifest, no sample lost or duplicated (the run
  completes, or a re-run resumes);
* :func:`training_case`: the run resumes from its last checkpoint on the surviving node and
  finishes its steps (with the default ``max_failures``; ``max_failures=0`` shows the run lost);
* :func:`watcher_case`: the watcher actor restarts on the surviving node, no observation skipped
  or forecast twice;
* :func:`serve_case`: the forecaster's Serve app (two replicas of every deployment, its HTTP
  proxy on the head) under continuous load loses the node of a replica of its busiest stage:
  which requests failed and how (status, reason), whether any hung, and when health, forecasts
  and the replica count came back.

Dead nodes are noticed in seconds: :data:`FAST_HEALTH_CHECKS` (GCS health checks every 1 s,
5 misses) instead of Ray's defaults (a failed node is declared dead after ~15 s+).
"""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from solarray.benchmarks.reliability import request
from solarray.data import preprocess as pp
from solarray.data.ingest import IngestConfig, run_ingest
from solarray.data.shards import MANIFEST, read_manifest
from solarray.live.actor import ACTOR_PREFIX, WatchActor, stop_actor
from solarray.live.replay import Replay
from solarray.live.store import ForecastStore
from solarray.live.watcher import WatchConfig
from solarray.ops import serve_load as sl
from solarray.ops.autoscaling_ingest import shard_sample_counts
from solarray.serve.app import DEPLOYMENTS
from solarray.train.config import TrainConfig
from solarray.train.pretraining import run_pretraining

#: GCS health checks: a node missing 5 checks 1 s apart is dead (~5 s, not ~15 s+ with Ray's
#: defaults). Tighter (0.5 s × 3) declared the busy head itself dead on 2 cores under training
#: load ("raylet has lagging heartbeats"), which ends the driver.
FAST_HEALTH_CHECKS = {"health_check_initial_delay_ms": 0, "health_check_period_ms": 1000,
                      "health_check_failure_threshold": 5}


@contextmanager
def two_worker_cluster(worker_cpus: float = 1, object_store_memory: int = 150 * 1024**2
                       ) -> Iterator[tuple[Any, list]]:
    """A head with 0 CPUs and two worker nodes; connected; shut down (only its own processes)
    on exit. Yields (cluster, [worker node, worker node])."""
    import ray
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={
        "num_cpus": 0, "include_dashboard": False, "object_store_memory": object_store_memory,
        "_system_config": FAST_HEALTH_CHECKS})
    try:
        workers = [cluster.add_node(num_cpus=worker_cpus, object_store_memory=object_store_memory)
                   for _ in range(2)]
        cluster.wait_for_nodes()
        ray.init(address=cluster.address, log_to_driver=False)
        yield cluster, workers
    finally:
        if ray.is_initialized():
            ray.shutdown()
        cluster.shutdown()


def alive_nodes() -> int:
    import ray

    return sum(1 for n in ray.nodes() if n.get("Alive"))


def node_of_actor(class_fragment: str) -> str | None:
    """The node ID of an alive actor whose class name contains ``class_fragment``."""
    from ray._private import state

    for a in state.actors().values():
        if class_fragment in str(a.get("ActorClassName", "")) and a.get("State") == "ALIVE":
            return a["Address"]["NodeID"]
    return None


def kill_node(cluster, workers: list, node_id: str | None) -> tuple[Any, float]:
    """SIGKILL the worker node with ``node_id`` (the first worker if None); (the node, seconds
    until the GCS marks it dead)."""
    import ray

    node = next((w for w in workers if w.node_id == node_id), workers[0])
    t = time.perf_counter()
    cluster.remove_node(node, allow_graceful=False)
    while any(n["NodeID"] == node.node_id and n["Alive"] for n in ray.nodes()):
        if time.perf_counter() - t > 60:
            break
        time.sleep(0.05)
    return node, time.perf_counter() - t


def _in_thread(fn: Callable[[], Any]) -> tuple[threading.Thread, dict]:
    box: dict = {}

    def run():
        try:
            box["value"] = fn()
        except BaseException as e:  # noqa: BLE001 — reported by the case
            import traceback

            box["error"] = f"{type(e).__name__}: {e}"
            box["traceback"] = traceback.format_exc()[-3000:]
    th = threading.Thread(target=run, daemon=True)
    th.start()
    return th, box


def _wait(predicate: Callable[[], bool], timeout: float) -> bool:
    t = time.perf_counter()
    while time.perf_counter() - t < timeout:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def ingest_case(synth_dir: str | Path, out_dir: str | Path, *, size: int = 64,
                channels: tuple[str, ...] = ("hmi_m", "aia193"), seed: int = 0,
                timeout_s: float = 90) -> dict[str, Any]:
    """Ingest with the node holding an ingest actor killed once the first shard is written
    (plus a random 0–1 s); a re-run resumes if the run did not complete."""
    rng = np.random.default_rng(seed)
    out_dir = Path(out_dir)
    cfg = IngestConfig(input=str(Path(synth_dir) / "fits"), out_dir=str(out_dir),
                       channels=channels, preprocess=pp.PreprocessConfig(size=size),
                       num_workers=2, shard_size=2)
    with two_worker_cluster() as (cluster, workers):
        t0 = time.perf_counter()
        th, box = _in_thread(lambda: run_ingest(cfg, log=lambda s: None))
        started = _wait(lambda: any(out_dir.glob("shard_*.parquet")), timeout_s)
        # the node holding an ingest actor now (on a fast machine the small run's actors may be
        # gone after the random wait), killed after it
        target = node_of_actor("MapWorker")
        time.sleep(float(rng.uniform(0, 1.0)))
        killed_at = round(time.perf_counter() - t0, 2)
        _, dead_after = kill_node(cluster, workers, target)
        th.join(timeout_s)
        first = {"completed": "value" in box, "error": box.get("error"),
                 "hung": th.is_alive()}
        rerun = None
        if not first["completed"] and not th.is_alive():
            summary = run_ingest(cfg, log=lambda s: None)  # resumes: done samples are skipped
            rerun = {"skipped": summary.skipped, "written": summary.written}
        wall = round(time.perf_counter() - t0, 2)
    counts = shard_sample_counts(out_dir)
    manifest = read_manifest(str(out_dir)) if (out_dir / MANIFEST).exists() else None
    files = sorted(str(p) for p in (Path(synth_dir) / "fits").rglob("*.fits*"))
    fates = set() if manifest is None else set(manifest["path"])
    return {"shard_before_kill": started, "killed_at_s": killed_at,
            "killed_node_held_the_actor": target is not None,
            "node_dead_after_s": round(dead_after, 2), "first_run": first, "rerun": rerun,
            "input_files": len(files), "files_with_fate": len(fates & set(files)),
            "distinct_in_shards": len(counts),
            "duplicated_in_shards": sum(1 for c in counts.values() if c > 1),
            "samples_used_in_manifest": 0 if manifest is None else int(
                manifest.loc[manifest["status"] == "used", "sample_id"].nunique()),
            "wall_s": wall}


def training_case(storage: str | Path, *, toy: int = 64, steps: int = 30,
                  checkpoint_every: int = 5, max_failures: int | None = None, seed: int = 0,
                  timeout_s: float = 100, log: Callable[[str], None] = print) -> dict[str, Any]:
    """`solarray pretrain` (1 Train worker, tiny ViT autoencoder) with the Train worker's node
    killed after the first checkpoint (plus a random 0–1 s); ``toy`` generated samples."""
    rng = np.random.default_rng(seed)
    kwargs = {} if max_failures is None else {"max_failures": max_failures}
    cfg = TrainConfig.from_dict({
        "model": "vit_ae", "model_config": {"preset": "tiny"}, "num_workers": 1, "steps": steps,
        "batch_size": 4, "checkpoint_every": checkpoint_every, "report_every": 1,
        "run_name": "node_failure", "storage_path": str(storage), "torch_threads": 1,
        **kwargs}, source="node_failures")
    run_dir = Path(storage) / "node_failure"
    # 2 CPUs per node: the surviving node must hold the restarted Train worker (1 CPU) beside
    # Ray Data's read tasks.
    with two_worker_cluster(worker_cpus=2) as (cluster, workers):
        budget = cfg.failure_budget(alive_nodes())
        t0 = time.perf_counter()
        th, box = _in_thread(lambda: run_pretraining(cfg, toy=toy, log=log))
        checkpointed = _wait(lambda: any(run_dir.glob("checkpoint_*")), timeout_s)
        time.sleep(float(rng.uniform(0, 1.0)))
        killed_at = round(time.perf_counter() - t0, 2)
        target = node_of_actor("RayTrainWorker")
        _, dead_after = kill_node(cluster, workers, target)
        th.join(timeout_s)
        wall = round(time.perf_counter() - t0, 2)
    result = box.get("value")
    return {"max_failures": budget, "checkpoint_before_kill": checkpointed,
            "killed_at_s": killed_at, "killed_node_held_the_worker": target is not None,
            "node_dead_after_s": round(dead_after, 2), "finished": result is not None,
            "error": box.get("error"), "traceback": box.get("traceback"), "hung": th.is_alive(),
            "resumed_from_step": None if result is None else result.start_step,
            "final_step": None if result is None else result.final_step,
            "steps": steps,
            "checkpoints": sorted(p.name for p in run_dir.glob("checkpoint_*")),
            "wall_s": wall}


def watcher_case(synth_dir: str | Path, work: str | Path, *, size: int = 64,
                 seed: int = 0, timeout_s: float = 90) -> dict[str, Any]:
    """The watcher actor (looping) on a worker node; that node killed after two forecasts (plus
    a random 0–1 s); every remaining time step released; each must be forecast exactly once."""
    import ray

    rng = np.random.default_rng(seed)
    work = Path(work)
    replay = Replay(Path(synth_dir), work / "live")
    spec = json.loads((Path(synth_dir) / "synth.json").read_text())["config"]
    cfg = WatchConfig(input=str(replay.input_dir), store=str(work / "store"),
                      goes=str(replay.goes_dir), every_s=0.3,
                      cadence_minutes=float(spec["cadence_minutes"]), settle_s=0.0, size=size,
                      checkpoint_dir=str(work / "no_checkpoints"))
    store = ForecastStore(cfg.store)
    n = len(replay.steps)
    with two_worker_cluster() as (cluster, workers):
        for k in range(2):
            replay.release(k)
        actor = WatchActor.options(name=ACTOR_PREFIX + "node_failure").remote(
            dataclasses.asdict(cfg), True)
        actor.run.remote()
        t0 = time.perf_counter()
        before = _wait(lambda: len(store.forecasts()) >= 2, timeout_s)
        node_before = node_of_actor("WatchActor")
        time.sleep(float(rng.uniform(0, 1.0)))
        _, dead_after = kill_node(cluster, workers, node_before)
        t_kill = time.perf_counter()
        for k in range(2, n):
            replay.release(k)
        done = _wait(lambda: len(store.forecasts()) >= n, timeout_s)
        recovered_s = round(time.perf_counter() - t_kill, 2)
        node_after = node_of_actor("WatchActor")
        resumed = bool(ray.get(actor.was_resumed.remote(), timeout=30))
        stop_actor("node_failure")
        wall = round(time.perf_counter() - t0, 2)
    fc = store.forecasts()
    return {"time_steps": n, "forecasts_before_kill": 2 if before else None,
            "node_dead_after_s": round(dead_after, 2), "all_forecast": done,
            "forecasts": len(fc), "duplicated": int(len(fc) - fc["observation_time"].nunique()),
            "lost": n - int(fc["observation_time"].nunique()),
            "killed_node_held_the_actor": node_before is not None,
            "restarted_on_other_node": node_after is not None and node_after != node_before,
            "resumed": resumed, "recovered_s": recovered_s, "wall_s": wall}


def serve_case(work: str | Path, *, size: int = 64, clients: int = 2, replicas: int = 2,
               port: int = 0, seed: int = 0, client_timeout_s: float = 30.0,
               recover_timeout_s: float = 60.0) -> dict[str, Any]:
    """The forecaster (``replicas`` of every deployment, spread over the two 2-CPU worker nodes;
    the HTTP proxy and the Serve controller on the head) answering ``clients`` back-to-back
    forecast loops; after 3 s (plus a random 0–1 s) the node of a replica of the busiest model
    stage is SIGKILLed. Every reply is kept (status 0: no answer within ``client_timeout_s``,
    a hang); /v1/health is polled from 0.5 s before the kill; the load runs until Serve runs
    ``replicas`` of every deployment again (or ``recover_timeout_s``) and 3 s more."""
    rng = np.random.default_rng(seed)
    work = Path(work)
    payload = sl.time_step(work / "synth")
    opts = sl.forecaster_options(work, work / "synth", size=size, per_deployment={
        d: {"num_replicas": replicas} for d in DEPLOYMENTS})
    port = port or sl.free_port()
    with two_worker_cluster(worker_cpus=2) as (cluster, workers):
        base = sl.deploy(opts, port)
        busiest, stage_s = sl.busiest_stage(base, payload)
        placement = sl.replica_nodes()
        target = placement[busiest][0]
        load = sl.Load(base, payload, clients=clients, timeout_s=client_timeout_s).start()
        time.sleep(2.5 + float(rng.uniform(0, 1.0)))
        probes: list[tuple[float, int]] = []  # (s after the kill, /v1/health status)
        stop_probing = threading.Event()
        t_kill = time.perf_counter() + 0.5

        def probe() -> None:  # from 0.5 s before the kill, ~4 a second
            while not stop_probing.is_set():
                st = request(base, "/v1/health", timeout=client_timeout_s)[0]
                probes.append((round(time.perf_counter() - t_kill, 2), st))
                stop_probing.wait(0.25)

        prober = threading.Thread(target=probe, daemon=True)
        prober.start()
        time.sleep(max(t_kill - time.perf_counter(), 0.0))
        t_kill = time.perf_counter()
        _, dead_after = kill_node(cluster, workers, target)

        def replaced() -> bool:
            counts, nodes = sl.replica_counts(), sl.replica_nodes()
            time.sleep(0.2)
            return all(sl.running(counts, d) >= replicas and target not in nodes.get(d, [])
                       for d in DEPLOYMENTS)

        ok = _wait(replaced, recover_timeout_s)
        replaced_s = round(time.perf_counter() - t_kill, 2) if ok else None
        time.sleep(3.0)
        finished = load.stop()
        stop_probing.set()
        prober.join(client_timeout_s + 5)
        health_end = request(base, "/v1/health", timeout=10)[0]
        placement_after = sl.replica_nodes()
    replies = sorted(load.replies, key=lambda r: r.started)
    failed = [r for r in replies if r.status != 200]
    in_flight = [r for r in replies if r.started < t_kill < r.started + r.seconds]
    after = [p for p in probes if p[0] >= 0]
    last_bad = max((p[0] for p in after if p[1] != 200), default=None)
    ok_after = [r.started + r.seconds - t_kill for r in replies
                if r.status == 200 and r.started > t_kill
                and all(f.started < r.started for f in failed)]
    return {
        "replicas": replicas, "clients": clients, "busiest_stage": busiest,
        "stage_compute_s": stage_s, "killed_node_held": sorted(
            d for d, nodes in placement.items() if target in nodes),
        "node_dead_after_s": round(dead_after, 2), "requests": len(replies),
        "ok": len(replies) - len(failed), "failed": len(failed),
        "failures": [{**sl.reply_record(r, t_kill), "in_flight_at_kill": r in in_flight}
                     for r in failed],
        "failed_statuses": sorted({r.status for r in failed}),
        "in_flight_at_kill": len(in_flight),
        "hung": (not finished) or any(r.status == 0 and "timed out" in r.error.lower()
                                       for r in replies),
        "failure_window_s": [round(min(r.started - t_kill for r in failed), 2),
                             round(max(r.started + r.seconds - t_kill for r in failed), 2)]
        if failed else None,
        "health_probes_after_kill": len(after),
        "health_non_200": [p for p in after if p[1] != 200],
        "health_200_again_s": next((p[0] for p in after if p[1] == 200
                                    and (last_bad is None or p[0] > last_bad)), None),
        "hung_health_probe": prober.is_alive(),
        "forecast_ok_again_s": round(min(ok_after), 2) if ok_after else None,
        "replaced_s": replaced_s, "health_at_end": health_end,
        "replicas_after": {d: len(v) for d, v in placement_after.items()},
        "latency_ok": sl.latency(replies)}


__all__ = ["FAST_HEALTH_CHECKS", "alive_nodes", "ingest_case", "kill_node", "node_of_actor",
           "serve_case", "training_case", "two_worker_cluster", "watcher_case"]
