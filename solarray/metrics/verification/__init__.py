"""Forecast verification for binary events (e.g. "≥M flare in the next 24 h").

Pure numpy functions over ``observed`` (0/1 per forecast) and ``probability`` (forecast probability
in [0, 1] per forecast), with the standard definitions of REFERENCE.md / SA-AI 2025:

* at a threshold (forecast "yes" when ``probability >= threshold``): TP, TN, FP, FN and
  precision = TP/(TP+FP), recall (POD) = TP/(TP+FN), FAR (false alarm *ratio*) = FP/(TP+FP),
  accuracy = (TP+TN)/N, F1, CSI = TP/(TP+FP+FN), TSS = TP/(TP+FN) − FP/(FP+TN),
  HSS = 2(TP·TN − FN·FP) / [(TP+FN)(FN+TN) + (TP+FP)(FP+TN)]
  (:mod:`~solarray.metrics.verification.counts`; many thresholds at once:
  :mod:`~solarray.metrics.verification.thresholds`);
* probabilistic: BS = mean (p − o)², BSS = 1 − BS/BS_clim (climatology = the base rate of the
  evaluated labels, or a given base rate), ROC curve and its area (ROCA), reliability diagram
  (:mod:`~solarray.metrics.verification.probabilistic`);
* everything at once, in SA-AI 2025's Table 4 layout: :func:`verify` →
  :class:`VerificationReport` (:mod:`~solarray.metrics.verification.report`).

Undefined values. A score whose denominator is zero (precision with no "yes" forecasts, recall
and TSS with no observed events, BSS when every label is the same, ROCA with one class only, ...)
is returned as ``None`` — never NaN — and :meth:`ConfusionCounts.undefined` /
:attr:`VerificationReport.undefined` say why. F1 is computed as 2TP/(2TP+FP+FN), equal to the
harmonic mean of precision and recall wherever both are defined, and 0 (not undefined) when there
are events or "yes" forecasts but no hits. Bad inputs (length mismatch, empty, labels other than
0/1, probabilities outside [0, 1], NaN unless ``nan_policy="omit"``) raise ``ValueError`` naming
the problem (:mod:`~solarray.metrics.verification.forecasts`).

:class:`ConfusionCounts` adds (``a + b``, ``sum(parts)``), so each Ray worker can count its shard
and the driver computes the scores from the summed counts.
"""

from __future__ import annotations

from solarray.metrics.verification.counts import SCORE_KEYS, THRESHOLD_SCORES, ConfusionCounts
from solarray.metrics.verification.forecasts import (
    NAN_POLICIES,
    Forecasts,
    check_base_rate,
    check_forecasts,
    check_threshold,
)
from solarray.metrics.verification.probabilistic import (
    ReliabilityDiagram,
    RocCurve,
    brier_score,
    brier_skill_score,
    climatology_brier_score,
    reliability_diagram,
    roc_auc,
    roc_curve,
)
from solarray.metrics.verification.report import (
    TABLE4_COLUMNS,
    VerificationReport,
    format_table,
    verify,
)
from solarray.metrics.verification.thresholds import ThresholdSweep, threshold_sweep

__all__ = [
    "NAN_POLICIES", "SCORE_KEYS", "TABLE4_COLUMNS", "THRESHOLD_SCORES", "ConfusionCounts",
    "Forecasts", "ReliabilityDiagram", "RocCurve", "ThresholdSweep", "VerificationReport",
    "brier_score", "brier_skill_score", "check_base_rate", "check_forecasts", "check_threshold",
    "climatology_brier_score", "format_table", "reliability_diagram", "roc_auc", "roc_curve",
    "threshold_sweep", "verify",
]  # fmt: skip
