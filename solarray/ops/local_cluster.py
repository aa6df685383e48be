"""``cluster.yaml`` run for real on one machine: Ray's autoscaler (v1) with the ``fake_multinode``
provider, each worker node a real raylet started by the autoscaler's monitor.

:func:`local_node_types` derives the worker node types from ``cluster.yaml`` (its CPU node types:
their resources, ``min_workers`` and ``max_workers``), scaled to fit the cores this machine has;
the head keeps ``cluster.yaml``'s resources (0 CPUs: nothing runs on it, so work that needs CPUs
is demand the autoscaler must meet with worker nodes). :class:`LocalAutoscalingCluster` starts the
head with ``ray start --head --autoscaling-config`` on a free GCS port and a private temp dir, and
stops only the processes of that temp dir — never ``ray stop`` (which stops every Ray process of
the user, other sessions included). Ray 2.60's wheel lacks the provider's ``example.yaml`` that
``ray.cluster_utils.AutoscalingCluster`` reads, so the config is written here.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

HEAD_TYPE = "ray.head.default"


def local_node_types(cluster: Mapping[str, Any], cores: int = 2,
                     include: tuple[str, ...] | None = None) -> dict[str, dict]:
    """Worker node types for a local autoscaling cluster from ``cluster``'s CPU node types
    (``include``: their names; default every type without a GPU, the head excluded), scaled to
    ``cores``: a node gets 1 CPU (and a 200 MiB object store), ``max_workers`` shrinks so that a
    type's nodes together hold at most ``cores`` CPUs, ``min_workers`` is kept (capped at that)
    — e.g. ``cpu_ingest`` (16 CPUs, 0–8 nodes) → 1 CPU, 0–2 nodes on 2 cores. The original
    figures are kept under ``scaled_from``."""
    types = cluster.get("available_node_types") or {}
    head = cluster.get("head_node_type")
    out = {}
    for name, spec in types.items():
        res = dict(spec.get("resources") or {})
        if name == head or (include is not None and name not in include):
            continue
        if include is None and float(res.get("GPU", 0) or 0) > 0:
            continue
        cpu = float(res.get("CPU", 0) or 0)
        if cpu <= 0:
            raise ValueError(f"cluster config: available_node_types.{name}.resources.CPU: "
                             f"expected > 0 for a worker node type, got {res.get('CPU')}")
        max_workers = max(1, min(int(spec.get("max_workers", 1)), cores))
        min_workers = min(int(spec.get("min_workers", 0)), max_workers)
        out[name] = {"resources": {"CPU": 1,
                                   "object_store_memory": 200 * 1024**2},
                     "node_config": {}, "min_workers": min_workers,
                     "max_workers": max_workers,
                     "scaled_from": {"CPU": cpu, "max_workers": spec.get("max_workers")}}
    if not out:
        raise ValueError("cluster config: no CPU worker node type in available_node_types")
    return out


def autoscaler_config(node_types: Mapping[str, dict], head_resources: Mapping[str, float],
                      gcs_address: str, idle_timeout_minutes: float = 0.1,
                      upscaling_speed: float = 1.0) -> dict:
    """The autoscaler config for the ``fake_multinode`` provider (what Ray's missing
    ``example.yaml`` would hold), the workers joining the GCS at ``gcs_address``."""
    types = {name: {k: v for k, v in spec.items() if k != "scaled_from"}
             for name, spec in node_types.items()}
    types[HEAD_TYPE] = {"resources": dict(head_resources), "node_config": {}, "max_workers": 0}
    return {
        "cluster_name": "solarray-local",
        "max_workers": sum(int(t["max_workers"]) for t in node_types.values()),
        "provider": {"type": "fake_multinode", "use_node_id_as_ip": True,
                     "disable_node_updaters": True, "disable_launch_config_check": True,
                     "gcs_address": gcs_address},
        "available_node_types": types, "head_node_type": HEAD_TYPE, "auth": {},
        "upscaling_speed": upscaling_speed, "idle_timeout_minutes": idle_timeout_minutes,
        "docker": {}, "initialization_commands": [], "setup_commands": [],
        "head_setup_commands": [], "worker_setup_commands": [], "head_start_ray_commands": [],
        "worker_start_ray_commands": [], "file_mounts": {}, "cluster_synced_files": [],
        "file_mounts_sync_continuously": False, "rsync_exclude": [], "rsync_filter": [],
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def processes_under(temp_dir: str | os.PathLike) -> list[int]:
    """PIDs whose command line names ``temp_dir`` (every process of a Ray session started
    there: GCS, raylets, monitor, dashboard, workers) that are still running, this process
    excluded."""
    needle = str(temp_dir).encode()
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            cmd = Path(f"/proc/{entry}/cmdline").read_bytes()
            state = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if needle in cmd and state != "Z":  # a zombie has exited (its parent has not reaped it)
            pids.append(int(entry))
    return pids


def stop_processes_under(temp_dir: str | os.PathLike, grace_s: float = 5.0) -> int:
    """SIGTERM every process of :func:`processes_under`, SIGKILL those still running after
    ``grace_s``; returns how many there were."""
    found = processes_under(temp_dir)
    pids = found
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + (grace_s if sig == signal.SIGTERM else 0)
        while True:
            pids = [p for p in processes_under(temp_dir) if p in found]
            if not pids or time.monotonic() >= deadline:
                break
            time.sleep(0.1)
    return len(found)


def ensure_auth_token() -> None:
    """Token authentication for the cluster about to start and for this process (its driver):
    unless the user chose ``RAY_AUTH_MODE``, make sure ``~/.ray/auth_token`` exists and switch
    this process (and the ``ray start`` it spawns) to token mode, as Ray 2.60 does for a cluster
    ``ray.init`` starts. Without it a driver connecting to a ``ray start`` cluster stays in
    "disabled" mode and is refused ("InvalidAuthToken")."""
    from ray._private.authentication.authentication_token_setup import (
        _enable_token_auth,
        _get_default_token_path,
        generate_and_save_token,
    )

    if os.environ.get("RAY_AUTH_MODE") is not None:
        return
    if not os.environ.get("RAY_AUTH_TOKEN") and not _get_default_token_path().exists():
        generate_and_save_token()
    _enable_token_auth()


class LocalAutoscalingCluster:
    """An autoscaling Ray cluster on this machine (module docstring). Use as a context manager;
    ``address`` is the GCS address for ``ray.init``."""

    def __init__(self, node_types: Mapping[str, dict], head_cpus: float = 0,
                 idle_timeout_minutes: float = 0.1, object_store_memory: int = 200 * 1024**2,
                 system_config: Mapping[str, Any] | None = None) -> None:
        self.node_types = dict(node_types)
        self.head_cpus = head_cpus
        self.idle_timeout_minutes = idle_timeout_minutes
        self.object_store_memory = object_store_memory
        self.system_config = dict(system_config or {})
        self.temp_dir: str | None = None
        self.address: str | None = None

    def start(self) -> LocalAutoscalingCluster:
        import ray._private.services as services

        ensure_auth_token()

        # Short path: Ray's Unix socket paths must stay under ~107 bytes.
        self.temp_dir = tempfile.mkdtemp(prefix="sray", dir="/tmp")
        port = free_port()
        self.address = f"{services.get_node_ip_address()}:{port}"
        cfg = autoscaler_config(self.node_types, {"CPU": self.head_cpus}, self.address,
                                self.idle_timeout_minutes)
        cfg_path = Path(self.temp_dir) / "autoscaler.json"
        cfg_path.write_text(json.dumps(cfg))
        cmd = [sys.executable, "-m", "ray.scripts.scripts", "start", "--head",
               f"--port={port}", f"--temp-dir={self.temp_dir}",
               f"--autoscaling-config={cfg_path}", f"--num-cpus={self.head_cpus:g}",
               f"--object-store-memory={self.object_store_memory}",
               "--include-dashboard=false", "--disable-usage-stats"]
        if self.system_config:
            cmd.append("--system-config=" + json.dumps(self.system_config, separators=(",", ":")))
        env = {**os.environ, "RAY_FAKE_CLUSTER": "1", "AUTOSCALER_UPDATE_INTERVAL_S": "1",
               "RAY_USAGE_STATS_ENABLED": "0"}
        env.pop("RAY_ADDRESS", None)
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            self.shutdown()
            raise RuntimeError(f"ray start --head failed ({done.returncode}): "
                               f"{(done.stderr or done.stdout)[-2000:]}")
        services.find_gcs_addresses.cache_clear()
        return self

    def shutdown(self) -> None:
        if self.temp_dir:
            stop_processes_under(self.temp_dir)

    def __enter__(self) -> LocalAutoscalingCluster:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.shutdown()


__all__ = ["HEAD_TYPE", "LocalAutoscalingCluster", "autoscaler_config", "ensure_auth_token",
           "free_port",
           "local_node_types", "processes_under", "stop_processes_under"]
