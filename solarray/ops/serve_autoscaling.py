"""Serve autoscaling under a burst: the forecaster with the ``autoscaling_config`` of
``serve/config.yaml`` (delays shortened, :data:`FAST_DELAYS`) against the same app with a fixed
replica count (each deployment's ``min_replicas``), the same burst sent to each, arms interleaved.

An arm: deploy the app afresh, wait until every deployment runs its minimum, send
``clients`` × ``per_client`` forecasts (each client back to back), sample the RUNNING replicas
of every deployment every ``sample_s`` seconds, and — autoscaling on — keep sampling until every
deployment is back at ``min_replicas``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from solarray.ops import serve_load as sl
from solarray.serve.app import DEPLOYMENTS, build_app, options_from_config

#: Autoscaling timings for a run of minutes, replacing Serve's defaults (the config sets none):
#: upscale delay 30 s → 2 s (a burst of ~20 s would end before any scale-out), downscale delay
#: 600 s → 5 s (ten idle minutes before scaling in), look-back 30 s → 4 s (the averaging
#: window), and metrics_interval_s 10 s → 0.5 s: in Ray 2.60 handles push their queued and
#: ongoing requests to the controller every metrics_interval_s (deprecated, still in use; the
#: RAY_SERVE_*_AUTOSCALING_METRIC_PUSH_INTERVAL_S variables meant to replace it are not read
#: yet), and at 10 s a burst of ~20 s was seen once or twice, so the busiest stage scaled out in
#: some runs and not in others.
FAST_DELAYS = {"upscale_delay_s": 2.0, "downscale_delay_s": 5.0, "look_back_period_s": 4.0,
               "metrics_interval_s": 0.5}


def configured_autoscaling(config: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Each deployment's ``autoscaling_config`` in a parsed Serve config (``serve/config.yaml``)."""
    opts = options_from_config(config)
    missing = [d for d in DEPLOYMENTS if not (opts.get(d) or {}).get("autoscaling_config")]
    if missing:
        raise ValueError(f"no autoscaling_config for {missing} in the Serve config")
    return {d: dict(opts[d]["autoscaling_config"]) for d in DEPLOYMENTS}


def arm_deployments(autoscaling: Mapping[str, Mapping[str, Any]], arm: str,
                    delays: Mapping[str, float] = FAST_DELAYS) -> dict[str, dict[str, Any]]:
    """Per-deployment replica options of an arm: ``auto`` (the configured autoscaling with
    ``delays``) or ``fixed`` (``num_replicas`` = the configured ``min_replicas``)."""
    if arm == "auto":
        return {d: {"autoscaling_config": {**dict(a), **dict(delays)}}
                for d, a in autoscaling.items()}
    if arm == "fixed":
        return {d: {"num_replicas": int(a.get("min_replicas", 1))}
                for d, a in autoscaling.items()}
    raise ValueError(f"arm: expected 'auto' or 'fixed', got {arm!r}")


class Sampler:
    """RUNNING replicas per deployment every ``every_s`` seconds, in a thread:
    ``timeline`` = ``[[t, {deployment: running}, {deployment: starting}], …]`` (t: seconds
    since ``t0``; deployments with no replica starting left out)."""

    def __init__(self, t0: float, every_s: float = 0.5) -> None:
        self.t0, self.every_s = t0, every_s
        self.timeline: list[list] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self) -> None:
        counts = sl.replica_counts()
        starting = {d: int((counts.get(d) or {}).get("STARTING", 0)) for d in DEPLOYMENTS}
        self.timeline.append([round(time.perf_counter() - self.t0, 2),
                              {d: sl.running(counts, d) for d in DEPLOYMENTS},
                              {d: n for d, n in starting.items() if n}])

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.every_s)

    def start(self) -> Sampler:
        self._thread.start()
        return self

    def stop(self) -> list[list]:
        """Stop sampling; the timeline, ending with a sample taken now."""
        self._stop.set()
        self._thread.join(10)
        self.sample()
        return self.timeline


def at_minimum(autoscaling: Mapping[str, Mapping[str, Any]]) -> bool:
    """Every deployment runs exactly its ``min_replicas`` (and nothing is starting/stopping)."""
    counts = sl.replica_counts()
    return all(counts.get(d) == {"RUNNING": int(a.get("min_replicas", 1))}
               for d, a in autoscaling.items())


def _wait(predicate, timeout_s: float, poll_s: float = 0.25) -> bool:
    t = time.perf_counter()
    while time.perf_counter() - t < timeout_s:
        if predicate():
            return True
        time.sleep(poll_s)
    return False


def run_arm(base: str, payload: tuple[bytes, str], options: Mapping[str, Any],
            autoscaling: Mapping[str, Mapping[str, Any]], arm: str, *, clients: int = 8,
            per_client: int = 8, sample_s: float = 0.5, settle_timeout_s: float = 90.0,
            client_timeout_s: float = 120.0) -> dict[str, Any]:
    """One arm (see the module doc): latency of the burst's forecasts, the replica timeline,
    each deployment's peak, and (autoscaling) seconds after the burst until back at the
    minimum."""
    from ray import serve

    # A fresh app per arm, so that every arm starts alike (new replicas and handles).
    serve.delete(sl.APP)
    serve.run(build_app(options), name=sl.APP, route_prefix="/")
    if not _wait(lambda: at_minimum(autoscaling), settle_timeout_s):
        raise RuntimeError(f"{arm}: replicas not at the minimum before the burst: "
                           f"{sl.replica_counts()}")
    t0 = time.perf_counter()
    sampler = Sampler(t0, sample_s).start()
    load = sl.Load(base, payload, clients=clients, timeout_s=client_timeout_s,
                   requests=per_client).start()
    finished = load.wait(client_timeout_s * per_client)
    burst_s = time.perf_counter() - t0
    back = None
    if arm == "auto":
        if _wait(lambda: at_minimum(autoscaling), settle_timeout_s):
            back = round(time.perf_counter() - t0 - burst_s, 2)
    else:
        time.sleep(2 * sample_s)
    timeline = sampler.stop()
    peak = {d: max((c[d] for _, c, _ in timeline), default=0) for d in DEPLOYMENTS}
    return {"arm": arm, "finished": finished, "burst_s": round(burst_s, 2),
            **sl.latency(load.replies),
            "statuses": sorted({r.status for r in load.replies}),
            "peak_replicas": peak, "back_to_min_after_burst_s": back,
            "min_replicas": {d: int(a.get("min_replicas", 1)) for d, a in autoscaling.items()},
            "timeline": timeline}


def summarise_arms(runs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per arm: median and [min, max] over repeats of p50/p95 latency and of burst wall."""
    out: dict[str, dict[str, Any]] = {}
    for arm in sorted({r["arm"] for r in runs}):
        rs = [r for r in runs if r["arm"] == arm]
        row: dict[str, Any] = {"repeats": len(rs)}
        for k in ("p50_s", "p95_s", "burst_s"):
            v = [r[k] for r in rs if r[k] is not None]
            row[k] = {"median": round(float(np.median(v)), 3) if v else None,
                      "range": [round(min(v), 3), round(max(v), 3)] if v else None}
        row["peak_replicas_max"] = {d: max(r["peak_replicas"][d] for r in rs)
                                    for d in DEPLOYMENTS}
        row["failed"] = sum(r["failed"] for r in rs)
        out[arm] = row
    return out


def run(work: Path, autoscaling: Mapping[str, Mapping[str, Any]], *, arms: tuple[str, ...] =
        ("auto", "fixed"), repeats: int = 3, clients: int = 8, per_client: int = 8,
        size: int = 64, cpus: float = 0.1, port: int = 0,
        log=print) -> dict[str, Any]:
    """Deploy the forecaster on the connected Ray, find its busiest model stage, then run
    ``repeats`` × ``arms`` interleaved (auto, fixed, auto, fixed, …)."""
    payload = sl.time_step(work / "synth")
    port = port or sl.free_port()
    first = arm_deployments(autoscaling, arms[0])
    base = sl.deploy(sl.forecaster_options(work, work / "synth", size=size, cpus=cpus,
                                           per_deployment=first), port)
    busiest, stage_s = sl.busiest_stage(base, payload)
    log(f"busiest stage: {busiest} ({stage_s})")
    runs = []
    for k in range(repeats):
        for arm in arms:
            opts = sl.forecaster_options(work, work / "synth", size=size, cpus=cpus,
                                         per_deployment=arm_deployments(autoscaling, arm))
            r = run_arm(base, payload, opts, autoscaling, arm, clients=clients,
                        per_client=per_client)
            r["repeat"] = k
            log(f"{arm} #{k}: p50 {r['p50_s']} s, p95 {r['p95_s']} s, burst {r['burst_s']} s, "
                f"peak {r['peak_replicas']}, back to min after {r['back_to_min_after_burst_s']} s")
            runs.append(r)
    return {"busiest_stage": busiest, "stage_compute_s": stage_s, "runs": runs,
            "summary": summarise_arms(runs)}


__all__ = ["FAST_DELAYS", "Sampler", "arm_deployments", "at_minimum",
           "configured_autoscaling", "run", "run_arm", "summarise_arms"]
