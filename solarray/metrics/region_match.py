"""Detected regions against the synthetic truth: matched, missed, false, area ratio (demo report and service check).

Matching is one-to-one by great-circle distance between centres (Stonyhurst degrees): the
assignment (:func:`scipy.optimize.linear_sum_assignment`) makes as many pairs within
``max_distance_deg`` as possible, and among those the smallest total distance; a pair farther
than ``max_distance_deg`` is no match.

**Small truth regions** (``area_msh < min_truth_area_msh``) are "don't care", as crowd regions are
in detection benchmarks: they are outside recall (never missed, never counted) and a detection
matched to one is neither a match nor a false positive (it goes to ``ignored`` and out of the
precision denominator). Counted truth is matched first, so a small region next to a large one
never takes the detection the large one needs; only the detections left over are then matched to
small regions. So recall = matched / counted truth, precision = matched / (matched + false).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

from solarray.core.geometry import great_circle_deg

FIELDS = ("hgs_lon", "hgs_lat", "area_msh")


@dataclass(frozen=True)
class MatchedPair:
    """One detection paired with one truth region (positional indices into the inputs)."""

    detected: int
    truth: int
    distance_deg: float
    area_ratio: float | None  # detected / truth area; None when undefined (truth area 0 or NaN)

    def to_dict(self) -> dict[str, Any]:
        return {"detected": self.detected, "truth": self.truth,
                "distance_deg": _sig(self.distance_deg), "area_ratio": _sig(self.area_ratio)}


@dataclass(frozen=True)
class RegionMatch:
    """Outcome of :func:`match_regions`. Counts: ``n_matched + n_missed == n_truth`` (counted
    truth only) and ``n_matched + n_false + len(ignored) == n_detected``. ``recall`` is None
    without counted truth, ``precision`` None without counted detections, the medians None
    without a match."""

    pairs: tuple[MatchedPair, ...]
    ignored: tuple[MatchedPair, ...]  # detections matched to truth below min_truth_area_msh
    missed: tuple[int, ...]  # counted truth indices left unmatched
    false: tuple[int, ...]  # detection indices matched to nothing
    n_truth: int
    n_detected: int
    recall: float | None
    precision: float | None
    median_area_ratio: float | None
    median_distance_deg: float | None
    max_distance_deg: float
    min_truth_area_msh: float

    @property
    def n_matched(self) -> int:
        return len(self.pairs)

    @property
    def n_missed(self) -> int:
        return len(self.missed)

    @property
    def n_false(self) -> int:
        return len(self.false)

    def to_dict(self) -> dict[str, Any]:
        """Counts as ints, every other number rounded to 3 significant digits (for people)."""
        return {
            "n_truth": self.n_truth, "n_detected": self.n_detected, "n_matched": self.n_matched,
            "n_missed": self.n_missed, "n_false": self.n_false, "n_ignored": len(self.ignored),
            "recall": _sig(self.recall), "precision": _sig(self.precision),
            "median_area_ratio": _sig(self.median_area_ratio),
            "median_distance_deg": _sig(self.median_distance_deg),
            "max_distance_deg": _sig(self.max_distance_deg),
            "min_truth_area_msh": _sig(self.min_truth_area_msh),
            "pairs": [p.to_dict() for p in self.pairs],
            "missed": list(self.missed), "false": list(self.false),
        }


def _sig(x: float | None, digits: int = 3) -> float | None:
    if x is None or not math.isfinite(x):
        return None
    if x == 0:
        return 0.0
    return round(float(x), digits - 1 - math.floor(math.log10(abs(x))))


def _columns(regions: Any, which: str) -> dict[str, np.ndarray]:
    """``hgs_lon``, ``hgs_lat``, ``area_msh`` as float arrays from a DataFrame or dicts."""
    if hasattr(regions, "columns"):  # a DataFrame
        missing = [f for f in FIELDS if f not in regions.columns]
        if missing:
            raise ValueError(f"match_regions: {which} lacks column(s) {missing}; needs {FIELDS}")
        return {f: regions[f].to_numpy(dtype=float) for f in FIELDS}
    rows = list(regions)
    for i, r in enumerate(rows):
        if not isinstance(r, Mapping) or any(f not in r for f in FIELDS):
            raise ValueError(f"match_regions: {which}[{i}] must be a mapping with keys {FIELDS}, "
                             f"got {r!r}")
    return {f: np.array([r[f] for r in rows], dtype=float).reshape(-1) for f in FIELDS}


def _assign(dist: np.ndarray, max_distance: float) -> list[tuple[int, int]]:
    """Max-cardinality, then min-distance one-to-one pairs with ``dist <= max_distance``."""
    if dist.size == 0:
        return []
    ok = np.isfinite(dist) & (dist <= max_distance)
    # Each feasible pair costs ≤ max_distance, so a penalty above every feasible total makes
    # the assignment take as many feasible pairs as possible before it looks at distance.
    penalty = max_distance * (min(dist.shape) + 1) + 1.0
    rows, cols = linear_sum_assignment(np.where(ok, dist, penalty))
    return [(int(r), int(c)) for r, c in zip(rows, cols, strict=True) if ok[r, c]]


def match_regions(
    detected: Sequence[Mapping[str, float]] | Any,
    truth: Sequence[Mapping[str, float]] | Any,
    max_distance_deg: float = 5.0,
    min_truth_area_msh: float = 0.0,
) -> RegionMatch:
    """Match detected regions to truth regions (each a DataFrame or a sequence of dicts with
    ``hgs_lon``, ``hgs_lat`` in Stonyhurst degrees and ``area_msh`` in MSH); see the module
    docstring for the rule. Indices in the result are positions in the inputs (not DataFrame
    labels). A region with a NaN centre matches nothing."""
    if not max_distance_deg > 0:
        raise ValueError(f"match_regions: max_distance_deg must be > 0, got {max_distance_deg}")
    det, tru = _columns(detected, "detected"), _columns(truth, "truth")
    n_det, n_tru = det["hgs_lon"].size, tru["hgs_lon"].size
    dist = great_circle_deg(det["hgs_lon"][:, None], det["hgs_lat"][:, None],
                            tru["hgs_lon"][None, :], tru["hgs_lat"][None, :]).reshape(n_det, n_tru)
    counted = np.flatnonzero(~(tru["area_msh"] < min_truth_area_msh))  # NaN area: counted
    small = np.setdiff1d(np.arange(n_tru), counted)

    def pair(d: int, t: int) -> MatchedPair:
        a_t = tru["area_msh"][t]
        ratio = float(det["area_msh"][d] / a_t) if a_t > 0 else math.nan
        return MatchedPair(d, t, float(dist[d, t]), ratio if math.isfinite(ratio) else None)

    pairs = [pair(d, int(counted[c])) for d, c in _assign(dist[:, counted], max_distance_deg)]
    left = np.setdiff1d(np.arange(n_det), np.array([p.detected for p in pairs], dtype=int))
    ignored = [pair(int(left[d]), int(small[s]))
               for d, s in _assign(dist[np.ix_(left, small)], max_distance_deg)]
    pairs.sort(key=lambda p: p.truth)
    ignored.sort(key=lambda p: p.truth)
    matched_truth = {p.truth for p in pairs}
    used = {p.detected for p in pairs} | {p.detected for p in ignored}
    missed = tuple(int(t) for t in counted if t not in matched_truth)
    false = tuple(d for d in range(n_det) if d not in used)
    n_counted_det = len(pairs) + len(false)
    ratios = [p.area_ratio for p in pairs if p.area_ratio is not None]
    return RegionMatch(
        pairs=tuple(pairs), ignored=tuple(ignored), missed=missed, false=false,
        n_truth=int(counted.size), n_detected=int(n_det),
        recall=len(pairs) / counted.size if counted.size else None,
        precision=len(pairs) / n_counted_det if n_counted_det else None,
        median_area_ratio=float(np.median(ratios)) if ratios else None,
        median_distance_deg=float(np.median([p.distance_deg for p in pairs])) if pairs else None,
        max_distance_deg=float(max_distance_deg), min_truth_area_msh=float(min_truth_area_msh),
    )


__all__ = ["FIELDS", "MatchedPair", "RegionMatch", "match_regions"]
