"""Confusion counts at many thresholds at once (forecast "yes" when ``probability >= t``), and the
threshold that maximises a score."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from solarray.metrics.verification.counts import THRESHOLD_SCORES, ConfusionCounts
from solarray.metrics.verification.forecasts import check_forecasts


@dataclass(frozen=True)
class ThresholdSweep:
    """Confusion counts at many thresholds (forecast "yes" when ``p >= threshold``).

    ``thresholds``, ``tp``, ``tn``, ``fp``, ``fn``: arrays [T].
    """

    thresholds: np.ndarray
    tp: np.ndarray
    tn: np.ndarray
    fp: np.ndarray
    fn: np.ndarray

    def __len__(self) -> int:
        return int(self.thresholds.size)

    def counts(self, i: int) -> ConfusionCounts:
        return ConfusionCounts(int(self.tp[i]), int(self.tn[i]), int(self.fp[i]), int(self.fn[i]))

    def score(self, name: str) -> list[float | None]:
        """One threshold score (e.g. ``"tss"``) per threshold; ``None`` where undefined."""
        if name not in THRESHOLD_SCORES:
            raise ValueError(f"unknown threshold score {name!r}; known: {THRESHOLD_SCORES}")
        return [getattr(self.counts(i), name) for i in range(len(self))]

    def best(self, name: str = "tss") -> tuple[float, ConfusionCounts]:
        """The threshold maximising ``name`` (lowest threshold on ties) and its counts."""
        values = self.score(name)
        defined = [i for i, v in enumerate(values) if v is not None]
        if not defined:
            raise ValueError(f"{name} is undefined at every threshold")
        i = max(defined, key=lambda j: (values[j], -self.thresholds[j]))
        return float(self.thresholds[i]), self.counts(i)

    def rows(self) -> list[dict[str, Any]]:
        """One dict per threshold: threshold and :meth:`ConfusionCounts.scores`."""
        return [
            {"threshold": float(t), **self.counts(i).scores()}
            for i, t in enumerate(self.thresholds)
        ]


def threshold_sweep(
    observed: Sequence[float] | np.ndarray,
    probability: Sequence[float] | np.ndarray,
    thresholds: Sequence[float] | np.ndarray | None = None,
) -> ThresholdSweep:
    """Counts at each threshold (default 0, 0.01, ..., 1) in O((N + T) log N)."""
    f = check_forecasts(observed, probability)
    t = np.linspace(0.0, 1.0, 101) if thresholds is None else np.asarray(thresholds, float)
    if t.ndim != 1 or t.size == 0 or np.any(~((t >= 0) & (t <= 1))):
        raise ValueError("thresholds must be a non-empty 1-D sequence of values in [0, 1]")
    pos = np.sort(f.probability[f.observed == 1])
    neg = np.sort(f.probability[f.observed == 0])
    tp = pos.size - np.searchsorted(pos, t, side="left")  # number of p >= t
    fp = neg.size - np.searchsorted(neg, t, side="left")
    return ThresholdSweep(t, tp, neg.size - fp, fp, pos.size - tp)


__all__ = ["ThresholdSweep", "threshold_sweep"]
