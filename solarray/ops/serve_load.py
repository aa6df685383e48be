"""The forecaster's Serve application under load, for the operational scenarios (a node killed
under load in :mod:`solarray.ops.node_failures`, a burst in :mod:`solarray.ops.serve_autoscaling`):
deploy it small (untrained tiny models, explicitly allowed; one synthetic time step), send
forecasts continuously from client threads over HTTP, and read Serve's replicas per deployment.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from solarray.benchmarks.reliability import Reply, encode_multipart, reason, request, send
from solarray.data.synthetic import SynthConfig, generate
from solarray.serve.app import FPNET, IATOOLS, INGRESS, SPNET, build_app

APP = "forecaster"
CHANNELS = ("aia193", "aia304", "hmi_m")
MODEL_STAGES = (SPNET, IATOOLS, FPNET)


def time_step(out: Path, seed: int = 3) -> tuple[bytes, str]:
    """One synthetic time step (:data:`CHANNELS`, 128² level-1 FITS, with its GOES tables under
    ``out``) as a multipart forecast request ``(body, content type)``."""
    if not (out / "synth.json").exists():
        generate(SynthConfig(start="2024-01-01T00:00", hours=0, size=128, seed=seed,
                             channels=CHANNELS, preview=False), out)
    files = {c: sorted((out / "fits" / c).glob("*.fits"))[0] for c in CHANNELS}
    return encode_multipart([("files", f.name, f.read_bytes()) for f in files.values()])


def forecaster_options(work: Path, goes: Path, *, size: int = 64, cpus: float = 0.25,
                       per_deployment: Mapping[str, Mapping[str, Any]] | None = None,
                       request_timeout_s: float = 20.0) -> dict[str, dict[str, Any]]:
    """Per-deployment options: tiny untrained models (allowed: health 200), the synthetic GOES
    history ``goes``, a ``size``² grid, ``cpus`` per replica, short graceful shutdowns, the
    ingress' own timeout ``request_timeout_s`` (504 after); ``per_deployment`` adds options
    (``num_replicas``, ``autoscaling_config``, …)."""
    empty = work / "no-checkpoints"
    empty.mkdir(parents=True, exist_ok=True)
    models = {"checkpoint_dir": str(empty), "allow_untrained": True}
    common = {"ray_actor_options": {"num_cpus": cpus}, "graceful_shutdown_wait_loop_s": 0.1,
              "graceful_shutdown_timeout_s": 1}
    out = {SPNET: {**common, "user_config": {**models, "max_batch_size": 4}},
           IATOOLS: {**common, "user_config": {**models, "goes": {"xrs": str(goes)}}},
           FPNET: {**common, "user_config": dict(models)},
           INGRESS: {**common, "user_config": {"size": size, "max_request_mb": 8,
                                               "request_timeout_s": request_timeout_s}}}
    for name, extra in (per_deployment or {}).items():
        out[name] = {**out[name], **dict(extra)}
    return out


def deploy(options: Mapping[str, Mapping[str, Any]], port: int, *, proxy_location: str =
           "HeadOnly", http_timeout_s: float = 60.0) -> str:
    """Start Serve (its HTTP proxy on the head node only: nodes of a one-machine cluster share
    127.0.0.1, and the head is the node that is never killed) and run the forecaster; its base
    URL."""
    from ray import serve

    serve.start(proxy_location=proxy_location,
                http_options={"host": "127.0.0.1", "port": port,
                              "request_timeout_s": http_timeout_s})
    serve.run(build_app(options), name=APP, route_prefix="/")
    return f"http://127.0.0.1:{port}"


def replica_counts(app: str = APP) -> dict[str, dict[str, int]]:
    """Replica states per deployment (``{"IATools": {"RUNNING": 2, "STARTING": 1}, …}``)."""
    from ray import serve

    try:
        st = serve.status().applications[app]
    except KeyError:
        return {}
    return {name: {str(getattr(k, "value", k)): int(v) for k, v in d.replica_states.items()}
            for name, d in st.deployments.items()}


def running(counts: Mapping[str, Mapping[str, int]], deployment: str) -> int:
    return int((counts.get(deployment) or {}).get("RUNNING", 0))


def replica_nodes(app: str = APP) -> dict[str, list[str]]:
    """Node IDs of the alive replica actors per deployment."""
    from ray._private import state

    out: dict[str, list[str]] = {}
    for a in state.actors().values():
        cls = str(a.get("ActorClassName", ""))
        if a.get("State") == "ALIVE" and cls.startswith(f"ServeReplica:{app}:"):
            out.setdefault(cls.rsplit(":", 1)[1], []).append(a["Address"]["NodeID"])
    return out

#: The model stage each cycle timing measures.
_STAGE_TIMINGS = {SPNET: "perception_compute", IATOOLS: "analysis_compute",
                  FPNET: "forecast_compute"}


def busiest_stage(base: str, payload: tuple[bytes, str], n: int = 3) -> tuple[str, dict]:
    """The model deployment with the most compute per forecast (mean of ``n`` warm forecasts)."""
    seconds: dict[str, list[float]] = {d: [] for d in _STAGE_TIMINGS}
    for _ in range(n):
        status, _, body = request(base, "/v1/forecast", *payload, timeout=60)
        if status != 200:
            raise RuntimeError(f"warm-up forecast answered {status}: {reason(body) or body[:300]}")
        t = json.loads(body)["timings_s"]
        for d, key in _STAGE_TIMINGS.items():
            seconds[d].append(float(t[key]))
    mean = {d: round(float(np.mean(v)), 4) for d, v in seconds.items()}
    return max(mean, key=mean.get), mean


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Load:
    """``clients`` threads, each sending forecasts back to back until :meth:`stop` (or
    ``requests`` each); every reply kept (status 0: no HTTP answer within ``timeout_s``)."""

    def __init__(self, base: str, payload: tuple[bytes, str], clients: int = 2,
                 timeout_s: float = 60.0, requests: int | None = None) -> None:
        self.base, self.payload, self.timeout_s, self.requests = base, payload, timeout_s, requests
        self.replies: list[Reply] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, args=(i,), daemon=True)
                         for i in range(clients)]

    def _run(self, i: int) -> None:
        k = 0
        while not self._stop.is_set() and (self.requests is None or k < self.requests):
            r = send(self.base, self.payload, f"client{i}-{k}", timeout=self.timeout_s)
            with self._lock:
                self.replies.append(r)
            k += 1

    def start(self) -> Load:
        for t in self._threads:
            t.start()
        return self

    def stop(self, join_s: float | None = None) -> bool:
        """Stop sending; True when every client finished within ``join_s`` (default: the
        request timeout + 5 s)."""
        self._stop.set()
        deadline = time.perf_counter() + (join_s if join_s is not None else self.timeout_s + 5)
        for t in self._threads:
            t.join(max(deadline - time.perf_counter(), 0.0))
        return not any(t.is_alive() for t in self._threads)

    def wait(self, timeout_s: float) -> bool:
        """Wait until every client sent its ``requests``; True when they all finished."""
        deadline = time.perf_counter() + timeout_s
        for t in self._threads:
            t.join(max(deadline - time.perf_counter(), 0.0))
        return not any(t.is_alive() for t in self._threads)


def latency(replies: list[Reply]) -> dict[str, Any]:
    """Counts and latency percentiles (s) of the successful replies."""
    ok = np.array([r.seconds for r in replies if r.status == 200])
    return {"requests": len(replies), "ok": int(len(ok)),
            "failed": sum(r.status != 200 for r in replies),
            "p50_s": round(float(np.percentile(ok, 50)), 3) if len(ok) else None,
            "p95_s": round(float(np.percentile(ok, 95)), 3) if len(ok) else None,
            "max_s": round(float(ok.max()), 3) if len(ok) else None}


def reply_record(r: Reply, t0: float) -> dict[str, Any]:
    """A reply as JSON, its start relative to ``t0`` (s)."""
    d = asdict(r)
    d["started"] = round(r.started - t0, 3)
    d["seconds"] = round(r.seconds, 3)
    return d


__all__ = ["APP", "CHANNELS", "MODEL_STAGES", "Load", "busiest_stage", "deploy",
           "forecaster_options", "free_port", "latency", "replica_counts", "replica_nodes", "reply_record", "running", "time_step"]
