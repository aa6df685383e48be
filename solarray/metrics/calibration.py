"""Probability calibration fitted on a validation set (SA-AI 2025: "calibrated ... so that the binary
classification uses a threshold of 0.5").

Two goals that a rare-event forecaster has to choose between:

* **Reliable probabilities** (best BS/BSS, reliability diagram on the diagonal): Platt scaling
  (a logistic fit on the logit of the raw probability) or isotonic regression (pool-adjacent-
  violators). A reliable forecast says "yes at 0.5" only when the event is more likely than not,
  which for ≥M flares (base rate ~5–30 %) is a conservative operating point.
* **0.5 as the TSS-optimal operating point**: :class:`ThresholdMap` sends the threshold that
  maximises a score on validation (TSS by default) to 0.5 with a monotone piecewise-linear map;
  ranking (ROC, ROCA) is unchanged, reliability is traded away.

``fit_calibration(observed, probability, method, operating_point)`` combines them. Every
calibrator is a small frozen dataclass: call it on probabilities [N] → calibrated [N] in [0, 1];
``to_dict`` / :func:`calibrator_from_dict` round-trip through JSON so a checkpoint can store it.
Fitting needs both classes in the validation labels (``ValueError`` otherwise).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from solarray.metrics.verification import (
    ConfusionCounts,
    check_forecasts,
    threshold_sweep,
    verify,
)

METHODS = ("platt", "isotonic", "none")
OPERATING_POINTS = ("reliable", "tss", "hss", "f1", "csi")

# Platt works on logit(p); clip so that p = 0 or 1 from a saturated sigmoid stays finite.
_EPS = 1e-7


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, _EPS, 1.0 - _EPS)
    return np.log(p) - np.log1p(-p)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # overflow-free


def _probabilities(probability: Sequence[float] | np.ndarray) -> np.ndarray:
    p = np.asarray(probability, dtype=np.float64)
    return check_forecasts(np.zeros(p.shape[0] if p.ndim else 0), p).probability


def _fit_data(observed, probability) -> tuple[np.ndarray, np.ndarray]:
    f = check_forecasts(observed, probability)
    n_pos = int(f.observed.sum())
    if n_pos == 0 or n_pos == len(f):
        raise ValueError(
            "calibration needs observed events and non-events in the validation set "
            f"(got {n_pos} events in {len(f)} forecasts)"
        )
    return f.observed.astype(np.float64), f.probability


# --------------------------------------------------------------------------------------------
# Calibrators
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class IdentityCalibrator:
    """No-op calibration."""

    def __call__(self, probability: Sequence[float] | np.ndarray) -> np.ndarray:
        return _probabilities(probability)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "identity"}


@dataclass(frozen=True)
class PlattCalibrator:
    """p' = sigmoid(a · logit(p) + b)."""

    a: float
    b: float

    def __call__(self, probability: Sequence[float] | np.ndarray) -> np.ndarray:
        return _sigmoid(self.a * _logit(_probabilities(probability)) + self.b)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "platt", "a": self.a, "b": self.b}


@dataclass(frozen=True)
class IsotonicCalibrator:
    """Monotone (non-decreasing) map: linear interpolation through (``x``, ``y``) knots, constant
    beyond the end knots (as ``sklearn.isotonic.IsotonicRegression(out_of_bounds="clip")``)."""

    x: tuple[float, ...]
    y: tuple[float, ...]

    def __call__(self, probability: Sequence[float] | np.ndarray) -> np.ndarray:
        return np.interp(_probabilities(probability), self.x, self.y)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "isotonic", "x": list(self.x), "y": list(self.y)}


@dataclass(frozen=True)
class ThresholdMap:
    """Monotone piecewise-linear map of [0, t] onto [0, 0.5] and [t, 1] onto [0.5, 1], so
    "p' >= 0.5" is exactly "p >= t"; ranking (ROC) is unchanged."""

    threshold: float

    def __post_init__(self) -> None:
        if not (0.0 < self.threshold < 1.0):
            raise ValueError(f"ThresholdMap threshold must lie in (0, 1), got {self.threshold!r}")

    def __call__(self, probability: Sequence[float] | np.ndarray) -> np.ndarray:
        p = _probabilities(probability)
        t = self.threshold
        out = np.where(p < t, 0.5 * p / t, 0.5 + 0.5 * (p - t) / (1.0 - t))
        # p == t must land on exactly 0.5 (>= comparisons downstream).
        return np.where(p == t, 0.5, out)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "threshold_map", "threshold": self.threshold}


@dataclass(frozen=True)
class ChainCalibrator:
    """Apply ``steps`` in order."""

    steps: tuple[Any, ...]

    def __call__(self, probability: Sequence[float] | np.ndarray) -> np.ndarray:
        p = _probabilities(probability)
        for step in self.steps:
            p = step(p)
        return p

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "chain", "steps": [s.to_dict() for s in self.steps]}


def calibrator_from_dict(d: dict[str, Any]):
    """Rebuild a calibrator from its ``to_dict()`` (e.g. stored in a checkpoint)."""
    kind = d.get("kind")
    if kind == "identity":
        return IdentityCalibrator()
    if kind == "platt":
        return PlattCalibrator(float(d["a"]), float(d["b"]))
    if kind == "isotonic":
        return IsotonicCalibrator(tuple(map(float, d["x"])), tuple(map(float, d["y"])))
    if kind == "threshold_map":
        return ThresholdMap(float(d["threshold"]))
    if kind == "chain":
        return ChainCalibrator(tuple(calibrator_from_dict(s) for s in d["steps"]))
    raise ValueError(
        f"unknown calibrator kind {kind!r}; known: identity platt isotonic threshold_map chain"
    )


# --------------------------------------------------------------------------------------------
# Fitting
# --------------------------------------------------------------------------------------------
def fit_platt(
    observed: Sequence[float] | np.ndarray,
    probability: Sequence[float] | np.ndarray,
    *,
    smooth_targets: bool = True,
    max_iter: int = 100,
    tol: float = 1e-10,
) -> PlattCalibrator:
    """Fit Platt scaling by Newton's method with backtracking (Lin, Lin & Weng 2007), with the
    slope constrained to ≥ 0 (a monotone map: no calibration inverts the model's ranking).

    ``smooth_targets``: Platt's (1999) targets (N₊+1)/(N₊+2) and 1/(N₋+2) instead of 1 and 0,
    which keep the fit finite when the validation set is perfectly separated.
    """
    o, p = _fit_data(observed, probability)
    z = _logit(p)
    if smooth_targets:
        n_pos = o.sum()
        n_neg = o.size - n_pos
        t = np.where(o == 1, (n_pos + 1) / (n_pos + 2), 1.0 / (n_neg + 2))
    else:
        t = o

    def nll(a: float, b: float) -> float:
        s = a * z + b
        # −[t log σ(s) + (1−t) log(1−σ(s))] = log(1+e^s) − t·s, computed stably
        return float(np.sum(np.logaddexp(0.0, s) - t * s))

    a, b = 1.0, 0.0
    f = nll(a, b)
    for _ in range(max_iter):
        q = _sigmoid(a * z + b)
        g = np.array([np.sum((q - t) * z), np.sum(q - t)])
        w = q * (1.0 - q)
        h = np.array([[np.sum(w * z * z), np.sum(w * z)], [np.sum(w * z), np.sum(w)]])
        h += 1e-12 * np.eye(2)  # separable data: keep the system solvable
        step = np.linalg.solve(h, g)
        lam = 1.0
        while lam > 1e-10:
            a_new, b_new = a - lam * step[0], b - lam * step[1]
            f_new = nll(a_new, b_new)
            if f_new <= f - 1e-4 * lam * float(g @ step):
                break
            lam *= 0.5
        else:
            break
        done = abs(f - f_new) <= tol * max(1.0, abs(f))
        a, b, f = a_new, b_new, f_new
        if done:
            break
    if not (math.isfinite(a) and math.isfinite(b)):
        raise ValueError("Platt fit diverged (validation set perfectly separated?)")
    if a < 0:
        # A calibration maps scores to probabilities and never re-ranks them: validation
        # forecasts that rank backwards leave only the (smoothed) validation base rate, the
        # constrained optimum on a = 0.
        a, b = 0.0, float(_logit(np.array([t.mean()]))[0])
    return PlattCalibrator(float(a), float(b))


def fit_isotonic(
    observed: Sequence[float] | np.ndarray, probability: Sequence[float] | np.ndarray
) -> IsotonicCalibrator:
    """Isotonic regression of ``observed`` on ``probability`` (pool-adjacent-violators, ties in
    ``probability`` pooled first), minimising the validation Brier score among monotone maps."""
    o, p = _fit_data(observed, probability)
    xs, inverse, counts = np.unique(p, return_inverse=True, return_counts=True)
    sums = np.bincount(inverse, weights=o)
    # PAVA over the tie-pooled points: blocks of (weight, mean, first index).
    weights: list[float] = []
    means: list[float] = []
    starts: list[int] = []
    for i, (wi, si) in enumerate(zip(counts.astype(float), sums, strict=True)):
        weights.append(wi)
        means.append(si / wi)
        starts.append(i)
        while len(means) > 1 and means[-2] >= means[-1]:
            w2, m2 = weights.pop(), means.pop()
            starts.pop()
            w1, m1 = weights[-1], means[-1]
            weights[-1] = w1 + w2
            means[-1] = (w1 * m1 + w2 * m2) / (w1 + w2)
    ys = np.empty(xs.size)
    bounds = [*starts, xs.size]
    for k, m in enumerate(means):
        ys[bounds[k] : bounds[k + 1]] = m
    return IsotonicCalibrator(tuple(map(float, xs)), tuple(map(float, ys)))


def fit_threshold_map(
    observed: Sequence[float] | np.ndarray,
    probability: Sequence[float] | np.ndarray,
    score: str = "tss",
    thresholds: Sequence[float] | np.ndarray | None = None,
) -> ThresholdMap:
    """The :class:`ThresholdMap` sending the validation-optimal threshold for ``score`` to 0.5.

    Candidate thresholds default to 0.01 … 0.99; the lowest of tied optima is used.
    """
    _fit_data(observed, probability)
    cand = np.linspace(0.01, 0.99, 99) if thresholds is None else np.asarray(thresholds, float)
    best, _ = threshold_sweep(observed, probability, cand).best(score)
    return ThresholdMap(best)


def fit_calibration(
    observed: Sequence[float] | np.ndarray,
    probability: Sequence[float] | np.ndarray,
    method: str = "isotonic",
    operating_point: str = "reliable",
):
    """Fit ``method`` (``platt`` | ``isotonic`` | ``none``) on validation forecasts, then, unless
    ``operating_point == "reliable"``, a :class:`ThresholdMap` putting the validation optimum of
    that score (``tss`` | ``hss`` | ``f1`` | ``csi``) at 0.5."""
    if method not in METHODS:
        raise ValueError(f"calibration method must be one of {METHODS}, got {method!r}")
    if operating_point not in OPERATING_POINTS:
        raise ValueError(
            f"operating_point must be one of {OPERATING_POINTS}, got {operating_point!r}"
        )
    o, p = _fit_data(observed, probability)
    if method == "platt":
        first = fit_platt(o, p)
    elif method == "isotonic":
        first = fit_isotonic(o, p)
    else:
        first = IdentityCalibrator()
    if operating_point == "reliable":
        return first
    shift = fit_threshold_map(o, first(p), operating_point)
    return ChainCalibrator((first, shift))


# --------------------------------------------------------------------------------------------
# SA-AI 2025 Table 4: the two operating points
# --------------------------------------------------------------------------------------------
def threshold_score(name: str, threshold: float = 0.5):
    """A bootstrap score ``(observed, probability) → float | None``: the threshold score ``name``
    (``f1``, ``tss``, ``hss``, ``csi``, …) of "yes when ``probability >= threshold``"."""

    def score(observed: np.ndarray, probability: np.ndarray) -> float | None:
        f = check_forecasts(observed, probability)
        return getattr(ConfusionCounts.from_binary(f.observed, f.probability >= threshold), name)

    score.__name__ = f"{name}_at_{threshold:g}"
    return score


def operating_points(
    val_observed: Sequence[float] | np.ndarray,
    val_probability: Sequence[float] | np.ndarray,
    test_observed: Sequence[float] | np.ndarray,
    test_probability: Sequence[float] | np.ndarray,
    method: str = "platt",
    score: str = "tss",
) -> dict[str, dict[str, Any]]:
    """Every SA-AI 2025 Table 4 column of one forecaster at its two operating points.

    ``method`` calibrates the raw probabilities on the validation forecasts (``reliable``
    operating point: the probabilities themselves are calibrated, not shifted); then
    ``"th_0.5"``: yes when the calibrated test probability ≥ 0.5 (the seed's binary forecast);
    ``"th_val"``: yes when it is ≥ the threshold maximising ``score`` on the calibrated
    validation forecasts (candidates 0.01 … 0.99, lowest on ties; the seed's "TSS-optimised
    threshold"). BS, BSS and ROCA (threshold-free) are those of the calibrated test
    probabilities in both rows, as the seed repeats them. Each row: the
    :data:`~solarray.metrics.verification.SCORE_KEYS` scores plus ``threshold``.
    """
    cal = fit_calibration(val_observed, val_probability, method, "reliable")
    vf = check_forecasts(val_observed, val_probability)
    tf = check_forecasts(test_observed, test_probability)
    p_val, p_test = cal(vf.probability), cal(tf.probability)
    best, _ = threshold_sweep(vf.observed, p_val, np.linspace(0.01, 0.99, 99)).best(score)
    return {key: {**verify(tf.observed, p_test, thr).scores(), "threshold": float(thr)}
            for key, thr in (("th_0.5", 0.5), ("th_val", best))}
