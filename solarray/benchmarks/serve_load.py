"""A bounded concurrent load on a service and what it measured (no Ray, no HTTP here).

:func:`closed_loop` sends ``n`` calls with at most ``concurrency`` in flight (a new one starts when
one returns) and times each; :func:`load_summary` turns one such burst into throughput, latency
percentiles and the mean batch size the service reported; :func:`arm_series` collects one
number per round across repeated bursts, for :func:`solarray.benchmarks.arms.ratio`.
"""

from __future__ import annotations

import concurrent.futures as cf
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class Call:
    """One call: success, seconds from send to answer, and what the service reported."""

    ok: bool
    seconds: float
    info: dict[str, Any] = field(default_factory=dict)


def closed_loop(call: Callable[[], tuple[bool, dict]], n: int, concurrency: int
                ) -> tuple[list[Call], float]:
    """``n`` calls of ``call`` (returning ``(ok, info)``) with ``concurrency`` in flight;
    returns the calls and the wall seconds of the whole burst."""
    if n < 1 or concurrency < 1:
        raise ValueError(f"need n >= 1 and concurrency >= 1, got {n} and {concurrency}")

    def timed(_):
        t0 = time.perf_counter()
        try:
            ok, info = call()
        except Exception as err:  # noqa: BLE001 — a failed request is a measurement too
            ok, info = False, {"error": f"{type(err).__name__}: {err}"[:200]}
        return Call(ok, time.perf_counter() - t0, info)

    t0 = time.perf_counter()
    with cf.ThreadPoolExecutor(concurrency) as pool:
        calls = list(pool.map(timed, range(n)))
    return calls, time.perf_counter() - t0


def pct(values: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q)) if len(values) else float("nan")


def load_summary(calls: Sequence[Call], wall: float, batch_key: str = "batch",
                 stage_keys: Sequence[str] = ()) -> dict[str, Any]:
    """Throughput (successful calls per second of the burst), p50/p95 latency of the
    successful calls, errors, mean reported batch size and each stage's median seconds."""
    ok = [c for c in calls if c.ok]
    lat = [c.seconds for c in ok]
    batches = [float(c.info[batch_key]) for c in ok if batch_key in c.info]
    errors = [c.info.get("error", c.info.get("status", "failed")) for c in calls if not c.ok]
    return {"n": len(calls), "errors": len(errors), "first_error": errors[0] if errors else "",
            "rps": len(ok) / wall,
            "p50": pct(lat, 50), "p95": pct(lat, 95),
            "mean_batch": float(np.mean(batches)) if batches else float("nan"),
            "max_batch": max(batches) if batches else float("nan"),
            "stage_p50": {k: pct([c.info[k] for c in ok if k in c.info], 50)
                          for k in stage_keys}}


def arm_series(bursts: Sequence[Mapping[str, Any]], key: str) -> list[float]:
    """One value per round (``key`` of each burst's :func:`load_summary`)."""
    return [float(b[key]) for b in bursts]


__all__ = ["Call", "arm_series", "closed_loop", "load_summary", "pct"]
