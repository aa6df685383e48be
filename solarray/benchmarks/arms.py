"""Timing the arms of a speed comparison honestly: interleaved, repeated, median ± spread.

Every speed ratio in BENCHMARKS.md comes from :func:`interleave`: the arms run in rounds, each
round in a rotated order (round ``r`` starts with arm ``r mod n``), so that drift in the
machine's load hits every arm alike and no arm always runs first (cold caches) or last.
:func:`summary` reports the median and the spread (min–max) of each arm, and :func:`ratio` the
ratio of medians together with the range of the per-round ratios.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Mapping
from typing import Any


def interleave(arms: Mapping[str, Callable[[], Any]], repeats: int = 3,
               warmup: int = 0, clock: Callable[[], float] = time.perf_counter,
               progress: Callable[[str], None] | None = None) -> dict[str, list[float]]:
    """Seconds per call of each arm, ``repeats`` rounds in rotated order (after ``warmup``
    untimed rounds). A round is one call of every arm."""
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    names = list(arms)
    if not names:
        raise ValueError("no arms to time")
    times: dict[str, list[float]] = {n: [] for n in names}
    for r in range(warmup + repeats):
        k = r % len(names)
        for name in names[k:] + names[:k]:
            t0 = clock()
            arms[name]()
            dt = clock() - t0
            if r >= warmup:
                times[name].append(dt)
                if progress is not None:
                    progress(f"round {r - warmup + 1}/{repeats} {name}: {dt:.3f} s")
    return times


def summary(values: list[float]) -> dict[str, float]:
    """Median, min, max and count of repeated measurements."""
    if not values:
        raise ValueError("no measurements")
    return {"median": statistics.median(values), "min": min(values), "max": max(values),
            "n": len(values)}


def ratio(numerator: list[float], denominator: list[float]) -> dict[str, float]:
    """Ratio of medians and the min–max of the per-round ratios (rounds paired by index)."""
    if len(numerator) != len(denominator) or not numerator:
        raise ValueError("ratio needs two equally long, non-empty series of rounds")
    per_round = [a / b for a, b in zip(numerator, denominator, strict=True)]
    return {"median": statistics.median(numerator) / statistics.median(denominator),
            "min": min(per_round), "max": max(per_round), "n": len(per_round)}


def format_spread(s: Mapping[str, float], unit: str = "s", digits: int = 3) -> str:
    """``"1.234 s [1.200–1.300, n=3]"``."""
    return (f"{s['median']:.{digits}f} {unit} [{s['min']:.{digits}f}–{s['max']:.{digits}f}, "
            f"n={int(s['n'])}]")


__all__ = ["format_spread", "interleave", "ratio", "summary"]
