"""Forecast verification for binary events (e.g. "≥M flare in the next 24 h").

Pure numpy functions over ``observed`` (0/1 per forecast) and ``probability`` (forecast probability
in [0, 1] per forecast), with the standard definitions of REFERENCE.md / seed 004:

* at a threshold (forecast "yes" when ``probability >= threshold``): TP, TN, FP, FN and
  precision = TP/(TP+FP), recall (POD) = TP/(TP+FN), FAR (false alarm *ratio*) = FP/(TP+FP),
  accuracy = (TP+TN)/N, F1, CSI = TP/(TP+FP+FN), TSS = TP/(TP+FN) − FP/(FP+TN),
  HSS = 2(TP·TN − FN·FP) / [(TP+FN)(FN+TN) + (TP+FP)(FP+TN)];
* probabilistic: BS = mean (p − o)², BSS = 1 − BS/BS_clim (climatology = the base rate of the
  evaluated labels, or a given base rate), ROC curve and its area (ROCA), reliability diagram.

Undefined values. A score whose denominator is zero (precision with no "yes" forecasts, recall
and TSS with no observed events, BSS when every label is the same, ROCA with one class only, ...)
is returned as ``None`` — never NaN — and :meth:`ConfusionCounts.undefined` /
:attr:`VerificationReport.undefined` say why. F1 is computed as 2TP/(2TP+FP+FN), equal to the
harmonic mean of precision and recall wherever both are defined, and 0 (not undefined) when there
are events or "yes" forecasts but no hits. Bad inputs (length mismatch, empty, labels other than
0/1, probabilities outside [0, 1], NaN unless ``nan_policy="omit"``) raise ``ValueError`` naming
the problem.

:class:`ConfusionCounts` adds (``a + b``, ``sum(parts)``), so each Ray worker can count its shard
and the driver computes the scores from the summed counts.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

# Keys of the machine-readable report (``solarray verify --json``), in this order.
SCORE_KEYS: tuple[str, ...] = (
    "tp", "tn", "fp", "fn", "precision", "recall", "far", "accuracy", "f1", "csi", "tss", "hss",
    "bs", "bss", "roca",
)  # fmt: skip

# Column headings of seed 004, Table 4, and the score key each one shows.
TABLE4_COLUMNS: tuple[tuple[str, str], ...] = (
    ("F1", "f1"), ("TSS", "tss"), ("HSS", "hss"), ("Precision", "precision"),
    ("Recall", "recall"), ("FAR", "far"), ("Accuracy", "accuracy"), ("CSI", "csi"),
    ("TP", "tp"), ("TN", "tn"), ("FP", "fp"), ("FN", "fn"), ("BS", "bs"), ("BSS", "bss"),
    ("ROCA", "roca"),
)  # fmt: skip

_COUNT_KEYS = ("tp", "tn", "fp", "fn")
_NAN_POLICIES = ("raise", "omit")


# --------------------------------------------------------------------------------------------
# Input checking
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Forecasts:
    """Checked forecasts: ``observed`` int8 [N] in {0, 1}, ``probability`` float64 [N] in [0, 1].

    ``dropped`` counts pairs removed because the probability was NaN (``nan_policy="omit"``).
    """

    observed: np.ndarray
    probability: np.ndarray
    dropped: int = 0

    def __len__(self) -> int:
        return int(self.observed.shape[0])


def check_forecasts(
    observed: Sequence[float] | np.ndarray,
    probability: Sequence[float] | np.ndarray,
    *,
    nan_policy: str = "raise",
) -> Forecasts:
    """Validate and convert a pair of forecast arrays.

    ``observed``: 0/1 (or bool) per forecast, shape [N]. ``probability``: forecast probability of
    the event, shape [N], each in [0, 1]. With ``nan_policy="raise"`` (default) a NaN probability
    is an error; with ``"omit"`` those pairs are dropped and counted in ``Forecasts.dropped``.
    Raises ``ValueError`` for mismatched lengths, empty input (after omission), NaN/non-0/1
    labels, and probabilities that are infinite or outside [0, 1].
    """
    if nan_policy not in _NAN_POLICIES:
        raise ValueError(f"nan_policy must be one of {_NAN_POLICIES}, got {nan_policy!r}")
    o = np.asarray(observed)
    p = np.asarray(probability)
    if o.ndim != 1 or p.ndim != 1:
        raise ValueError(
            f"observed and probability must be 1-D, got shapes {o.shape} and {p.shape}"
        )
    if o.shape[0] != p.shape[0]:
        raise ValueError(f"observed and probability differ in length: {o.shape[0]} vs {p.shape[0]}")
    try:
        o = o.astype(np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(f"observed must be numeric 0/1 labels: {err}") from None
    try:
        p = p.astype(np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(f"probability must be numeric: {err}") from None

    bad_o = ~((o == 0.0) | (o == 1.0))
    if bad_o.any():
        i = int(np.flatnonzero(bad_o)[0])
        raise ValueError(
            f"observed must be 0 or 1: {int(bad_o.sum())} value(s) are not "
            f"(first at index {i}: {float(o[i])!r})"
        )
    nan_p = np.isnan(p)
    dropped = 0
    if nan_p.any():
        if nan_policy == "raise":
            i = int(np.flatnonzero(nan_p)[0])
            raise ValueError(
                f"probability contains {int(nan_p.sum())} NaN value(s) (first at index {i}); "
                "pass nan_policy='omit' to drop them"
            )
        dropped = int(nan_p.sum())
        o, p = o[~nan_p], p[~nan_p]
    bad_p = ~((p >= 0.0) & (p <= 1.0))
    if bad_p.any():
        i = int(np.flatnonzero(bad_p)[0])
        raise ValueError(
            f"probability must lie in [0, 1]: {int(bad_p.sum())} value(s) do not "
            f"(first at index {i}: {float(p[i])!r})"
        )
    if o.shape[0] == 0:
        extra = f" (all {dropped} probabilities were NaN)" if dropped else ""
        raise ValueError(f"no forecasts to verify{extra}")
    return Forecasts(o.astype(np.int8), p, dropped)


def _check_threshold(threshold: float) -> float:
    t = float(threshold)
    if not (0.0 <= t <= 1.0):
        raise ValueError(f"threshold must lie in [0, 1], got {threshold!r}")
    return t


def _ratio(num: float, den: float) -> float | None:
    return None if den == 0 else num / den


# --------------------------------------------------------------------------------------------
# Confusion counts and the scores at a threshold
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ConfusionCounts:
    """TP, TN, FP, FN for one threshold. Adds with ``+`` and ``sum()`` (e.g. across Ray workers).

    Every score is a property returning ``float`` or ``None`` when undefined (zero denominator);
    :meth:`undefined` gives the reasons. The empty ``ConfusionCounts()`` is the identity of ``+``.
    """

    tp: int = 0
    tn: int = 0
    fp: int = 0
    fn: int = 0

    def __post_init__(self) -> None:
        for key in _COUNT_KEYS:
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                if isinstance(value, (float, np.floating)) and float(value).is_integer():
                    value = int(value)
                else:
                    raise TypeError(f"ConfusionCounts.{key} must be an integer, got {value!r}")
            if value < 0:
                raise ValueError(f"ConfusionCounts.{key} must be >= 0, got {value}")
            # Python ints: HSS products of large counts must not overflow int64.
            object.__setattr__(self, key, int(value))

    # ---- construction ------------------------------------------------------------------
    @classmethod
    def from_binary(
        cls, observed: Sequence[float] | np.ndarray, predicted: Sequence[float] | np.ndarray
    ) -> ConfusionCounts:
        """Counts from 0/1 observations and 0/1 (or bool) yes/no forecasts, both shape [N]."""
        o = np.asarray(observed)
        y = np.asarray(predicted)
        if o.shape != y.shape or o.ndim != 1:
            raise ValueError(
                f"observed and predicted must be 1-D of equal length, got {o.shape} and {y.shape}"
            )
        for name, arr in (("observed", o), ("predicted", y)):
            arr = arr.astype(np.float64)
            if not np.all((arr == 0.0) | (arr == 1.0)):
                raise ValueError(f"{name} must contain only 0/1 values")
        o = o.astype(bool)
        y = y.astype(bool)
        return cls(
            tp=int(np.count_nonzero(o & y)),
            tn=int(np.count_nonzero(~o & ~y)),
            fp=int(np.count_nonzero(~o & y)),
            fn=int(np.count_nonzero(o & ~y)),
        )

    @classmethod
    def from_forecasts(
        cls,
        observed: Sequence[float] | np.ndarray,
        probability: Sequence[float] | np.ndarray,
        threshold: float = 0.5,
        *,
        nan_policy: str = "raise",
    ) -> ConfusionCounts:
        """Counts with the forecast "yes" when ``probability >= threshold``."""
        f = check_forecasts(observed, probability, nan_policy=nan_policy)
        return cls.from_binary(f.observed, f.probability >= _check_threshold(threshold))

    # ---- arithmetic -----------------------------------------------------------------------
    def __add__(self, other: object) -> ConfusionCounts:
        if isinstance(other, int) and not isinstance(other, bool) and other == 0:
            return self  # sum() starts from 0
        if not isinstance(other, ConfusionCounts):
            return NotImplemented
        return ConfusionCounts(
            self.tp + other.tp, self.tn + other.tn, self.fp + other.fp, self.fn + other.fn
        )

    __radd__ = __add__

    @classmethod
    def total(cls, parts: Iterable[ConfusionCounts]) -> ConfusionCounts:
        """Sum of many counts (empty iterable → all zero)."""
        return sum(parts, cls())

    # ---- totals ------------------------------------------------------------------------------
    @property
    def n(self) -> int:
        return self.tp + self.tn + self.fp + self.fn

    @property
    def observed_yes(self) -> int:
        return self.tp + self.fn

    @property
    def observed_no(self) -> int:
        return self.fp + self.tn

    @property
    def forecast_yes(self) -> int:
        return self.tp + self.fp

    # ---- scores ------------------------------------------------------------------------------
    @property
    def precision(self) -> float | None:
        """TP/(TP+FP); undefined without "yes" forecasts."""
        return _ratio(self.tp, self.tp + self.fp)

    @property
    def recall(self) -> float | None:
        """Probability of detection TP/(TP+FN); undefined without observed events."""
        return _ratio(self.tp, self.tp + self.fn)

    pod = recall

    @property
    def far(self) -> float | None:
        """False alarm *ratio* FP/(TP+FP) (= 1 − precision); undefined without "yes" forecasts."""
        return _ratio(self.fp, self.tp + self.fp)

    @property
    def pofd(self) -> float | None:
        """False alarm *rate* (probability of false detection) FP/(FP+TN)."""
        return _ratio(self.fp, self.fp + self.tn)

    @property
    def accuracy(self) -> float | None:
        return _ratio(self.tp + self.tn, self.n)

    @property
    def f1(self) -> float | None:
        """2TP/(2TP+FP+FN); undefined only when there are neither events nor "yes" forecasts."""
        return _ratio(2 * self.tp, 2 * self.tp + self.fp + self.fn)

    @property
    def csi(self) -> float | None:
        """Critical success index TP/(TP+FP+FN)."""
        return _ratio(self.tp, self.tp + self.fp + self.fn)

    @property
    def tss(self) -> float | None:
        """True skill statistic POD − POFD; undefined unless both classes are observed."""
        pod, pofd = self.recall, self.pofd
        return None if pod is None or pofd is None else pod - pofd

    @property
    def hss(self) -> float | None:
        """Heidke skill score 2(TP·TN − FN·FP) / [(TP+FN)(FN+TN) + (TP+FP)(FP+TN)]."""
        tp, tn, fp, fn = self.tp, self.tn, self.fp, self.fn
        den = (tp + fn) * (fn + tn) + (tp + fp) * (fp + tn)
        return _ratio(2 * (tp * tn - fn * fp), den)

    def undefined(self) -> dict[str, str]:
        """``{score: reason}`` for every score that is ``None`` for these counts."""
        reasons: dict[str, str] = {}
        no_yes = "no 'yes' forecasts (TP+FP = 0)"
        no_events = "no observed events (TP+FN = 0)"
        no_non_events = "no observed non-events (FP+TN = 0)"
        if self.n == 0:
            return {k: "no forecasts (N = 0)" for k in
                    ("precision", "recall", "far", "accuracy", "f1", "csi", "tss", "hss")}  # fmt: skip
        if self.forecast_yes == 0:
            reasons["precision"] = no_yes
            reasons["far"] = no_yes
        if self.observed_yes == 0:
            reasons["recall"] = no_events
            reasons["tss"] = no_events
        elif self.observed_no == 0:
            reasons["tss"] = no_non_events
        if self.f1 is None:
            reasons["f1"] = "no observed events and no 'yes' forecasts (2TP+FP+FN = 0)"
        if self.csi is None:
            reasons["csi"] = "no observed events and no 'yes' forecasts (TP+FP+FN = 0)"
        if self.hss is None:
            reasons["hss"] = "every forecast and observation is the same class (HSS denominator 0)"
        return reasons

    def scores(self) -> dict[str, int | float | None]:
        """Counts and threshold scores (``None`` = undefined), keys in :data:`SCORE_KEYS` order."""
        return {
            "tp": self.tp, "tn": self.tn, "fp": self.fp, "fn": self.fn,
            "precision": self.precision, "recall": self.recall, "far": self.far,
            "accuracy": self.accuracy, "f1": self.f1, "csi": self.csi, "tss": self.tss,
            "hss": self.hss,
        }  # fmt: skip


# --------------------------------------------------------------------------------------------
# Probabilistic scores
# --------------------------------------------------------------------------------------------
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
    c = float(np.mean(o)) if base_rate is None else _check_base_rate(base_rate)
    return float(np.mean((c - o) ** 2))


def _check_base_rate(base_rate: float) -> float:
    c = float(base_rate)
    if not (0.0 <= c <= 1.0):
        raise ValueError(f"base_rate must lie in [0, 1], got {base_rate!r}")
    return c


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


# --------------------------------------------------------------------------------------------
# Threshold sweep
# --------------------------------------------------------------------------------------------
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
        if name not in SCORE_KEYS[4:12]:
            raise ValueError(f"unknown threshold score {name!r}; known: {SCORE_KEYS[4:12]}")
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


# --------------------------------------------------------------------------------------------
# The report
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class VerificationReport:
    """All verification scores of one forecast set at one threshold.

    ``base_rate``: event frequency of the evaluated labels; ``reference_base_rate``: the
    climatological forecast BSS was computed against. ``undefined`` maps each ``None`` score to
    its reason; ``dropped`` counts pairs removed for NaN probabilities (``nan_policy="omit"``).
    """

    threshold: float
    counts: ConfusionCounts
    bs: float
    bss: float | None
    roc: RocCurve
    reliability: ReliabilityDiagram
    base_rate: float
    reference_base_rate: float
    undefined: dict[str, str] = field(default_factory=dict)
    dropped: int = 0

    @property
    def n(self) -> int:
        return self.counts.n

    @property
    def roca(self) -> float | None:
        return self.roc.auc

    def scores(self) -> dict[str, int | float | None]:
        """The :data:`SCORE_KEYS` scores (``None`` = undefined, never NaN)."""
        out = self.counts.scores()
        out.update(bs=self.bs, bss=self.bss, roca=self.roca)
        return {k: out[k] for k in SCORE_KEYS}

    def to_json(self) -> str:
        """One JSON object with exactly :data:`SCORE_KEYS` (undefined → null)."""
        return json.dumps(self.scores(), allow_nan=False)

    def table(self, label: str = "forecast", *, markdown: bool = False) -> str:
        """Seed 004 Table 4 layout (one row) followed by a note per undefined score."""
        text = format_table({label: self.scores()}, markdown=markdown)
        notes = [f"{k}: undefined — {why}" for k, why in self.undefined.items()]
        if self.dropped:
            notes.append(f"{self.dropped} forecast(s) with NaN probability were omitted")
        return text + ("\n" + "\n".join(notes) if notes else "")


def verify(
    observed: Sequence[float] | np.ndarray,
    probability: Sequence[float] | np.ndarray,
    threshold: float = 0.5,
    *,
    base_rate: float | None = None,
    bins: int | Sequence[float] = 10,
    nan_policy: str = "raise",
) -> VerificationReport:
    """Verify probabilistic forecasts of a binary event.

    ``observed`` [N] 0/1, ``probability`` [N] in [0, 1]; yes/no scores use "yes when
    ``probability >= threshold``". ``base_rate`` is the climatology for BSS (default: the event
    frequency of ``observed``). ``bins``: reliability-diagram bins.
    """
    f = check_forecasts(observed, probability, nan_policy=nan_policy)
    thr = _check_threshold(threshold)
    counts = ConfusionCounts.from_binary(f.observed, f.probability >= thr)
    ref_rate = float(np.mean(f.observed)) if base_rate is None else _check_base_rate(base_rate)
    bs = brier_score(f.observed, f.probability)
    bss = brier_skill_score(f.observed, f.probability, ref_rate)
    roc = roc_curve(f.observed, f.probability)
    rel = reliability_diagram(f.observed, f.probability, bins)
    undefined = counts.undefined()
    if bss is None:
        undefined["bss"] = (
            f"climatology forecast ({ref_rate:g}) is perfect on these labels (BS_clim = 0)"
        )
    if roc.auc is None:
        undefined["roca"] = roc.undefined_reason or "ROC undefined"
    undefined = {k: undefined[k] for k in SCORE_KEYS if k in undefined}
    return VerificationReport(
        thr, counts, bs, bss, roc, rel, float(np.mean(f.observed)), ref_rate, undefined, f.dropped
    )


def _fmt(key: str, value: int | float | None) -> str:
    if value is None:
        return "undefined"
    if key in _COUNT_KEYS:
        return str(int(value))
    return f"{value:.4f}"


def format_table(rows: Mapping[str, Mapping[str, Any]], *, markdown: bool = False) -> str:
    """Rows of scores (label → :data:`SCORE_KEYS` dict) in the column order of seed 004 Table 4.

    Missing keys show as "–" (not computed), ``None`` values as "undefined".
    """
    heads = ["Models"] + [h for h, _ in TABLE4_COLUMNS]
    body = [
        [label] + [_fmt(k, r[k]) if k in r else "–" for _, k in TABLE4_COLUMNS]
        for label, r in rows.items()
    ]
    if markdown:
        lines = ["| " + " | ".join(heads) + " |", "|" + "---|" * len(heads)]
        lines += ["| " + " | ".join(row) + " |" for row in body]
        return "\n".join(lines)
    widths = [max(len(r[i]) for r in [heads, *body]) for i in range(len(heads))]
    fmt = [(lambda s, w=w: s.ljust(w)) if i == 0 else (lambda s, w=w: s.rjust(w))
           for i, w in enumerate(widths)]  # fmt: skip
    return "\n".join("  ".join(fmt[i](c) for i, c in enumerate(r)) for r in [heads, *body])


# --------------------------------------------------------------------------------------------
# Figures (matplotlib Agg via Figure + FigureCanvasAgg: no global backend state)
# --------------------------------------------------------------------------------------------
def _save_figure(fig: Any, path: str | os.PathLike[str]) -> Path:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    FigureCanvasAgg(fig)
    fig.savefig(tmp, format="png", dpi=100)
    os.replace(tmp, path)
    return path


def save_roc_png(
    report: VerificationReport, path: str | os.PathLike[str], label: str = "forecast"
) -> Path:
    """ROC curve (POD vs POFD) with the operating point at the report's threshold."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4.5, 4.5))
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1], color="0.6", lw=1, ls="--", label="no skill")
    roc, c = report.roc, report.counts
    if roc.auc is not None:
        ax.plot(roc.fpr, roc.tpr, lw=1.5, label=f"{label} (ROCA {roc.auc:.3f})")
        ax.plot([c.pofd], [c.recall], "o", color="C3",
                label=f"threshold {report.threshold:g}")  # fmt: skip
    else:
        ax.text(0.5, 0.5, roc.undefined_reason or "ROC undefined", ha="center", va="center")
    ax.set(xlim=(0, 1), ylim=(0, 1), xlabel="false alarm rate (POFD)",
           ylabel="probability of detection (POD)", title=f"ROC, N = {report.n}")  # fmt: skip
    ax.set_aspect("equal")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    return _save_figure(fig, path)


def save_reliability_png(
    report: VerificationReport, path: str | os.PathLike[str], label: str = "forecast"
) -> Path:
    """Reliability diagram (observed frequency vs forecast probability) with the climatology
    line, the no-skill line and a histogram of forecast counts."""
    from matplotlib.figure import Figure

    rel = report.reliability
    fig = Figure(figsize=(4.5, 5.5))
    ax, hx = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    ax.plot([0, 1], [0, 1], color="0.6", lw=1, ls="--", label="perfect reliability")
    c = report.reference_base_rate
    ax.axhline(c, color="0.6", lw=1, ls=":", label=f"climatology {c:.3g}")
    ax.plot([0, 1], [c / 2, (1 + c) / 2], color="0.8", lw=1, label="no skill")
    k = rel.counts > 0
    ax.plot(rel.mean_probability[k], rel.observed_frequency[k], "o-", color="C0", label=label)
    ax.set(xlim=(0, 1), ylim=(0, 1), ylabel="observed frequency",
           title=f"Reliability, BS {report.bs:.4f}")  # fmt: skip
    ax.legend(loc="upper left", fontsize=8)
    widths = np.diff(rel.edges)
    hx.bar(rel.edges[:-1], rel.counts, width=widths, align="edge", color="C0", alpha=0.6)
    hx.set_yscale("log" if rel.counts.max() > 0 else "linear")
    hx.set(xlabel="forecast probability", ylabel="count")
    fig.tight_layout()
    return _save_figure(fig, path)
