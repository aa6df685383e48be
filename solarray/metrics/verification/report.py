"""One verification report of a forecast set at one threshold, and SA-AI 2025's Table 4 layout."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from solarray.metrics.verification.counts import SCORE_KEYS, ConfusionCounts
from solarray.metrics.verification.forecasts import (
    check_base_rate,
    check_forecasts,
    check_threshold,
)
from solarray.metrics.verification.probabilistic import (
    ReliabilityDiagram,
    RocCurve,
    brier_score,
    brier_skill_score,
    reliability_diagram,
    roc_curve,
)

# Column headings of SA-AI 2025, Table 4, and the score key each one shows.
TABLE4_COLUMNS: tuple[tuple[str, str], ...] = (
    ("F1", "f1"), ("TSS", "tss"), ("HSS", "hss"), ("Precision", "precision"),
    ("Recall", "recall"), ("FAR", "far"), ("Accuracy", "accuracy"), ("CSI", "csi"),
    ("TP", "tp"), ("TN", "tn"), ("FP", "fp"), ("FN", "fn"), ("BS", "bs"), ("BSS", "bss"),
    ("ROCA", "roca"),
)  # fmt: skip


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
        """SA-AI 2025 Table 4 layout (one row) followed by a note per undefined score."""
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
    thr = check_threshold(threshold)
    counts = ConfusionCounts.from_binary(f.observed, f.probability >= thr)
    ref_rate = float(np.mean(f.observed)) if base_rate is None else check_base_rate(base_rate)
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
    if key in SCORE_KEYS[:4]:
        return str(int(value))
    return f"{value:.4f}"


def format_table(rows: Mapping[str, Mapping[str, Any]], *, markdown: bool = False) -> str:
    """Rows of scores (label → :data:`SCORE_KEYS` dict) in the column order of SA-AI 2025 Table 4.

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


__all__ = ["TABLE4_COLUMNS", "VerificationReport", "format_table", "verify"]
