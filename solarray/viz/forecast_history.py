"""The track record of a live forecaster: full-disk P(≥M, 24 h) over time against the observed
outcomes (a PNG, for the service's page)."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure


def history_png(times: pd.Series, probability: pd.Series, observed: pd.Series,
                title: str = "full-disk P(≥M flare in 24 h)") -> bytes:
    """PNG bytes: the probability series (line), forecasts whose window saw a ≥M flare (red
    dots), without one (grey dots), not yet verified (hollow)."""
    t = pd.to_datetime(times)
    p = pd.to_numeric(probability, errors="coerce").to_numpy(float)
    o = pd.to_numeric(observed, errors="coerce").to_numpy(float)
    fig = Figure(figsize=(9, 3), dpi=100)
    ax = fig.add_subplot(1, 1, 1)
    ax.plot(t, p, color="#1f4e99", lw=1, label="forecast")
    for mask, style in ((o == 1, {"color": "#c00", "label": "≥M observed"}),
                        (o == 0, {"color": "#888", "label": "no ≥M"}),
                        (np.isnan(o), {"facecolors": "none", "edgecolors": "#1f4e99",
                                       "label": "pending"})):
        if mask.any():
            ax.scatter(t[mask], p[mask], s=14, zorder=3, **style)
    ax.set_ylim(-0.02, 1.02)
    ax.set_ylabel("probability")
    ax.set_title(title, fontsize=10)
    ax.legend(loc="upper left", fontsize=8, ncol=4)
    fig.autofmt_xdate()
    fig.tight_layout()
    buf = io.BytesIO()
    FigureCanvasAgg(fig).print_png(buf)
    return buf.getvalue()


__all__ = ["history_png"]
