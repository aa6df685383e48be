"""Verification figures: ROC curve and reliability diagram of a
:class:`~solarray.metrics.verification.VerificationReport`, written as PNG.

matplotlib is used through ``Figure`` + ``FigureCanvasAgg`` (no global backend state); files are
written atomically.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from solarray.core.atomic import atomic_path
from solarray.metrics.verification import VerificationReport


def _save_figure(fig: Any, path: str | os.PathLike[str]) -> Path:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    return Path(path)


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


__all__ = ["save_reliability_png", "save_roc_png"]
