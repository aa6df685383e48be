"""The compute floor of a model workload: its FLOPs over the machine's measured GEMM rate.

:func:`count_flops` runs a callable under :class:`torch.utils.flop_counter.FlopCounterMode`
(matrix multiplies, convolutions and attention: ``2·M·N·K`` per GEMM; elementwise ops, norms and
resampling count 0, so the floor is a lower bound). :func:`gemm_rate` measures what one
``torch.mm`` of a given size sustains on this machine (best of several, with torch's current
thread setting), and :func:`floor_seconds` divides the two: no implementation of the same
forwards can run faster than that on this machine, and ``measured / floor`` says how far a
stage is from it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import torch
from torch.utils.flop_counter import FlopCounterMode


def count_flops(fn: Callable[[], Any]) -> tuple[int, Any]:
    """``(FLOPs, fn())``: the floating-point operations of the torch ops ``fn`` runs
    (FlopCounterMode's count: 2 per multiply-add of GEMMs, convolutions and attention)."""
    counter = FlopCounterMode(display=False)
    with counter:
        out = fn()
    return int(counter.get_total_flops()), out


def gemm_rate(size: int = 1024, repeats: int = 7, k: int | None = None,
              n: int | None = None) -> float:
    """FLOP/s of ``torch.mm`` of float32 ``[size, k] @ [k, n]`` (default square), best of
    ``repeats`` timed calls after one warm-up call, with torch's current thread count."""
    k = size if k is None else k
    n = size if n is None else n
    g = torch.Generator().manual_seed(0)
    a = torch.randn(size, k, generator=g)
    b = torch.randn(k, n, generator=g)
    out = torch.empty(size, n)
    torch.mm(a, b, out=out)
    best = float("inf")
    for _ in range(max(int(repeats), 1)):
        t0 = time.perf_counter()
        torch.mm(a, b, out=out)
        best = min(best, time.perf_counter() - t0)
    return 2.0 * size * k * n / best


def floor_seconds(flops: float, rate: float) -> float:
    """Seconds the ``flops`` need at ``rate`` FLOP/s (the compute floor)."""
    if rate <= 0:
        raise ValueError(f"GEMM rate must be > 0 FLOP/s, got {rate}")
    return float(flops) / float(rate)


__all__ = ["count_flops", "floor_seconds", "gemm_rate"]
