"""Probabilistic verification: Brier score and skill score, ROC curve and area, reliability diagram.

BS = mean (p − o)², BSS = 1 − BS/BS_clim (climatology = the base rate of the evaluated labels, or a
given base rate); ROCA is ``None`` when only one class is observed, BSS when BS_clim = 0.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from solarray.metrics.verification.forecasts import check_base_rate, check_forecasts


def brier_score(
    observed: Sequence[float] | np.ndarray, probability: Sequence[float] | np.ndarray
) -> float:
    """Brier score mean((p − o)²) over N forecasts; 0 is perfect, 1 the worst."""
    f = check_forecasts(observed, probability)
    return float(np.mean((f.probability - f.observed) ** 2))


def climatology_brier_score(
    observed: Sequence[float] | np.ndarray, base_rate: float | None = None
) -> float:
    """Brier score of the constant forecast ``base_rate`` (default: the mean of ``observed``).

    With the sample base rate ō this is ō(1 − ō).
    """
    o = check_forecasts(observed, np.zeros(len(np.asarray(observed)))).observed
    c = float(np.mean(o)) if base_rate is None else check_base_rate(base_rate)
    return float(np.mean((c - o) ** 2))


def brier_skill_score(
    observed: Sequence[float] | np.ndarray,
    probability: Sequence[float] | np.ndarray,
    base_rate: float | None = None,
) -> float | None:
    """BSS = 1 − BS / BS_clim against the climatological forecast ``base_rate``.

    ``base_rate`` defaults to the event frequency of ``observed``; pass the training-set rate to
    score against an operational climatology. ``None`` (undefined) when BS_clim = 0, i.e. the
    reference forecast is perfect (all labels equal and equal to the base rate).
    """
    bs = brier_score(observed, probability)
    ref = climatology_brier_score(observed, base_rate)
    return None if ref == 0 else 1.0 - bs / ref


@dataclass(frozen=True)
class RocCurve:
    """ROC points sorted by decreasing threshold, starting at (0, 0).

    ``fpr`` = POFD = FP/(FP+TN) and ``tpr`` = POD at "yes when p >= thresholds[i]";
    ``thresholds[0]`` is +inf (nothing forecast "yes"). Ties in probability form one point, so a
    constant forecast gives the diagonal and AUC 0.5. When only one class is observed the curve
    is undefined: arrays are empty, ``auc`` is ``None`` and ``undefined_reason`` says why.
    """

    fpr: np.ndarray
    tpr: np.ndarray
    thresholds: np.ndarray
    auc: float | None
    undefined_reason: str | None = None


def roc_curve(
    observed: Sequence[float] | np.ndarray, probability: Sequence[float] | np.ndarray
) -> RocCurve:
    """ROC curve and area (trapezoidal, ties counted half, as ``sklearn.metrics.roc_auc_score``)."""
    f = check_forecasts(observed, probability)
    n_pos = int(f.observed.sum())
    n_neg = len(f) - n_pos
    if n_pos == 0 or n_neg == 0:
        reason = "no observed events" if n_pos == 0 else "no observed non-events"
        empty = np.empty(0)
        return RocCurve(empty, empty, empty, None, f"ROC undefined: {reason}")
    order = np.argsort(-f.probability, kind="mergesort")
    p = f.probability[order]
    o = f.observed[order].astype(np.int64)
    # Last index of each run of equal probabilities: one ROC point per distinct threshold.
    last = np.r_[np.flatnonzero(np.diff(p) != 0), len(p) - 1]
    tps = np.cumsum(o)[last]
    fps = (last + 1) - tps
    tpr = np.r_[0.0, tps / n_pos]
    fpr = np.r_[0.0, fps / n_neg]
    thresholds = np.r_[np.inf, p[last]]
    auc = float(np.trapezoid(tpr, fpr))
    return RocCurve(fpr, tpr, thresholds, auc)


def roc_auc(
    observed: Sequence[float] | np.ndarray, probability: Sequence[float] | np.ndarray
) -> float | None:
    """Area under the ROC curve (ROCA); ``None`` when only one class is observed."""
    return roc_curve(observed, probability).auc


@dataclass(frozen=True)
class ReliabilityDiagram:
    """Forecast probability binned against observed event frequency.

    ``edges`` [n_bins+1] (bin i is [edges[i], edges[i+1]), the last bin includes 1), ``counts``
    [n_bins], ``mean_probability`` and ``observed_frequency`` [n_bins] — NaN in arrays exactly
    where ``counts == 0`` (``to_dict`` turns those into ``None``). ``base_rate`` is ō.
    ``reliability``, ``resolution`` and ``uncertainty`` are the binned Murphy (1973)
    decomposition terms (BS ≈ REL − RES + UNC; exact when forecasts take one value per bin).
    """

    edges: np.ndarray
    counts: np.ndarray
    mean_probability: np.ndarray
    observed_frequency: np.ndarray
    base_rate: float

    @property
    def n(self) -> int:
        return int(self.counts.sum())

    def _filled(self) -> np.ndarray:
        return self.counts > 0

    @property
    def reliability(self) -> float:
        k = self._filled()
        w = self.counts[k] / self.n
        return float(np.sum(w * (self.mean_probability[k] - self.observed_frequency[k]) ** 2))

    @property
    def resolution(self) -> float:
        k = self._filled()
        w = self.counts[k] / self.n
        return float(np.sum(w * (self.observed_frequency[k] - self.base_rate) ** 2))

    @property
    def uncertainty(self) -> float:
        return self.base_rate * (1.0 - self.base_rate)

    def to_dict(self) -> dict[str, Any]:
        def clean(a: np.ndarray) -> list[float | None]:
            return [None if math.isnan(v) else float(v) for v in a]

        return {
            "edges": [float(e) for e in self.edges],
            "counts": [int(c) for c in self.counts],
            "mean_probability": clean(self.mean_probability),
            "observed_frequency": clean(self.observed_frequency),
            "base_rate": self.base_rate,
        }


def reliability_diagram(
    observed: Sequence[float] | np.ndarray,
    probability: Sequence[float] | np.ndarray,
    bins: int | Sequence[float] = 10,
) -> ReliabilityDiagram:
    """Bin forecasts by probability: ``bins`` equal-width bins on [0, 1], or explicit edges
    (increasing, from 0 to 1)."""
    f = check_forecasts(observed, probability)
    if isinstance(bins, (int, np.integer)):
        if bins < 1:
            raise ValueError(f"bins must be >= 1, got {bins}")
        edges = np.linspace(0.0, 1.0, int(bins) + 1)
    else:
        edges = np.asarray(bins, dtype=np.float64)
        if edges.ndim != 1 or edges.size < 2 or np.any(np.diff(edges) <= 0):
            raise ValueError("bin edges must be a strictly increasing 1-D sequence of >= 2 values")
        if edges[0] != 0.0 or edges[-1] != 1.0:
            raise ValueError(f"bin edges must span [0, 1], got [{edges[0]}, {edges[-1]}]")
    nb = edges.size - 1
    idx = np.digitize(f.probability, edges[1:-1])  # 0..nb-1; p = 1 lands in the last bin
    counts = np.bincount(idx, minlength=nb)
    sum_p = np.bincount(idx, weights=f.probability, minlength=nb)
    sum_o = np.bincount(idx, weights=f.observed.astype(np.float64), minlength=nb)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_p = np.where(counts > 0, sum_p / np.maximum(counts, 1), np.nan)
        freq = np.where(counts > 0, sum_o / np.maximum(counts, 1), np.nan)
    return ReliabilityDiagram(edges, counts, mean_p, freq, float(np.mean(f.observed)))


__all__ = ["ReliabilityDiagram", "RocCurve", "brier_score", "brier_skill_score",
           "climatology_brier_score", "reliability_diagram", "roc_auc", "roc_curve"]
