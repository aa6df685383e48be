"""Autoscaling for real on one machine: `solarray ingest` (the library path `jobs.ingest` runs) on
a local autoscaling cluster derived from ``cluster.yaml`` (:mod:`solarray.ops.local_cluster`).

The head has ``cluster.yaml``'s 0 CPUs, so every ingest actor is demand beyond the head: the
autoscaler must launch ``cpu_ingest`` nodes (the actor pool starts at its full size,
``IngestConfig.min_workers``: Ray Data grows a pool only from the resources the cluster has now),
and remove them once idle. A sampler thread records
the alive nodes every ``interval_s`` (the timeline); the checks read the shards and the manifest:
every input time step written exactly once.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import yaml

from solarray.data import preprocess as pp
from solarray.data.ingest import IngestConfig, run_ingest
from solarray.data.shards import MANIFEST, read_manifest
from solarray.ops.local_cluster import LocalAutoscalingCluster, local_node_types, processes_under


def node_counts(nodes: list[dict]) -> dict[str, int]:
    """Alive ``head`` and ``workers`` among ``ray.nodes()`` rows."""
    alive = [n for n in nodes if n.get("Alive")]
    head = sum(1 for n in alive if "node:__internal_head__" in (n.get("Resources") or {}))
    return {"head": head, "workers": len(alive) - head}


class NodeTimeline:
    """Alive nodes over time, sampled in a thread: ``rows`` of (seconds since start, head,
    workers)."""

    def __init__(self, interval_s: float = 0.5) -> None:
        self.interval_s = interval_s
        self.rows: list[tuple[float, int, int]] = []
        self._stop = threading.Event()
        self._t0 = time.perf_counter()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import ray

        while not self._stop.is_set():
            c = node_counts(ray.nodes())
            self.rows.append((round(time.perf_counter() - self._t0, 2), c["head"], c["workers"]))
            self._stop.wait(self.interval_s)

    def now(self) -> float:
        return time.perf_counter() - self._t0

    def __enter__(self) -> NodeTimeline:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(10)

    def workers_now(self) -> int:
        return self.rows[-1][2] if self.rows else 0


def shard_sample_counts(shard_dir: str | Path) -> Counter:
    """How many times each ``sample_id`` occurs over the shards of ``shard_dir``."""
    counts: Counter = Counter()
    for p in sorted(Path(shard_dir).glob("shard_*.parquet")):
        counts.update(pq.read_table(p, columns=["sample_id"])["sample_id"].to_pylist())
    return counts


def run(synth_dir: str | Path, out_dir: str | Path, *, cluster_yaml: str | Path = "cluster.yaml",
        cores: int = 2, channels: tuple[str, ...] = ("hmi_m", "aia193"), size: int = 64,
        idle_timeout_minutes: float = 0.1, scale_down_timeout_s: float = 60.0,
        log=print) -> dict[str, Any]:
    """Start the cluster, ingest ``synth_dir/fits`` into ``out_dir``, wait for the idle worker
    nodes to go, shut the cluster down; the timeline and the checks."""
    import ray

    types = local_node_types(yaml.safe_load(Path(cluster_yaml).read_text()), cores=cores,
                             include=("cpu_ingest",))
    out_dir = Path(out_dir)
    t_start = time.perf_counter()
    cluster = LocalAutoscalingCluster(types, head_cpus=0,
                                      idle_timeout_minutes=idle_timeout_minutes)
    events: dict[str, float] = {}
    try:
        cluster.start()
        events["cluster_started_s"] = round(time.perf_counter() - t_start, 2)
        ray.init(address=cluster.address, log_to_driver=False)
        with NodeTimeline() as timeline:
            cfg = IngestConfig(input=str(Path(synth_dir) / "fits"), out_dir=str(out_dir),
                               channels=channels, preprocess=pp.PreprocessConfig(size=size),
                               num_workers=types["cpu_ingest"]["max_workers"],
                               min_workers=types["cpu_ingest"]["max_workers"], shard_size=8)
            t0 = timeline.now()
            summary = run_ingest(cfg, log=log)
            events["ingest_start_s"], events["ingest_end_s"] = round(t0, 2), round(timeline.now(), 2)
            deadline = time.perf_counter() + scale_down_timeout_s
            while time.perf_counter() < deadline and timeline.workers_now() > 0:
                time.sleep(0.5)
            events["scaled_down_s"] = round(timeline.now(), 2) if timeline.workers_now() == 0 \
                else None
        ray.shutdown()
    finally:
        if ray.is_initialized():
            ray.shutdown()
        cluster.shutdown()
    left = len(processes_under(cluster.temp_dir)) if cluster.temp_dir else 0
    counts = shard_sample_counts(out_dir)
    manifest = read_manifest(str(out_dir)) if (out_dir / MANIFEST).exists() else None
    used = set() if manifest is None else set(
        manifest.loc[manifest["status"] == "used", "sample_id"])
    files_without_fate = None if manifest is None else int((manifest["status"] == "").sum())
    rows = timeline.rows
    return {
        "node_types": types,
        "timeline": [{"t_s": t, "head": h, "workers": w} for t, h, w in rows],
        "events": events,
        "max_workers_seen": max((w for _, _, w in rows), default=0),
        "workers_at_end": rows[-1][2] if rows else None,
        "samples": summary.samples, "written": summary.written,
        "distinct_in_shards": len(counts),
        "duplicated_in_shards": sum(1 for c in counts.values() if c > 1),
        "manifest_used_samples": len(used), "manifest_rows": None if manifest is None
        else len(manifest), "files_without_fate": files_without_fate,
        "leftover_processes": left,
        "wall_s": round(time.perf_counter() - t_start, 1),
    }


__all__ = ["NodeTimeline", "node_counts", "run", "shard_sample_counts"]
