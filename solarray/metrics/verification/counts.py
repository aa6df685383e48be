"""Confusion counts at one threshold and the yes/no scores computed from them.

Definitions (REFERENCE.md / SA-AI 2025): precision = TP/(TP+FP), recall (POD) = TP/(TP+FN),
FAR (false alarm *ratio*) = FP/(TP+FP), POFD = FP/(FP+TN), accuracy = (TP+TN)/N,
F1 = 2TP/(2TP+FP+FN), CSI = TP/(TP+FP+FN), TSS = POD − POFD,
HSS = 2(TP·TN − FN·FP) / [(TP+FN)(FN+TN) + (TP+FP)(FP+TN)]. A score with a zero denominator is
``None``, never NaN, and :meth:`ConfusionCounts.undefined` says why.

:class:`ConfusionCounts` adds (``a + b``, ``sum(parts)``), so each Ray worker can count its shard
and the driver computes the scores from the summed counts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from solarray.metrics.verification.forecasts import check_forecasts, check_threshold

# Keys of the machine-readable report (``solarray verify --json``), in this order.
SCORE_KEYS: tuple[str, ...] = (
    "tp", "tn", "fp", "fn", "precision", "recall", "far", "accuracy", "f1", "csi", "tss", "hss",
    "bs", "bss", "roca",
)  # fmt: skip

#: The yes/no scores at a threshold (the :data:`SCORE_KEYS` between the counts and BS).
THRESHOLD_SCORES: tuple[str, ...] = SCORE_KEYS[4:12]

_COUNT_KEYS = ("tp", "tn", "fp", "fn")


def _ratio(num: float, den: float) -> float | None:
    return None if den == 0 else num / den


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
        return cls.from_binary(f.observed, f.probability >= check_threshold(threshold))

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
        """True skill statistic TSS = POD − POFD = TP/(TP+FN) − FP/(FP+TN), in [−1, 1].

        The one TSS of solarray. ``None`` (undefined) unless both classes are observed;
        :meth:`undefined` gives the reason. A caller that needs a number must convert explicitly.
        """
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


__all__ = ["SCORE_KEYS", "THRESHOLD_SCORES", "ConfusionCounts"]
