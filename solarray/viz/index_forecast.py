"""The index-forecast figure: test RMSE per horizon of persistence, the model and the baseline
extractor (from :func:`solarray.forecast.index_forecast.forecast_index`), written as PNG."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from solarray.core.atomic import atomic_path


def save_index_forecast_png(result: dict[str, Any], path: str | os.PathLike[str]) -> Path:
    """Grouped bars of ``rmse_persistence``, ``rmse_model`` (and ``rmse_baseline``) per horizon."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    rows = result["horizons"]
    arms = [("rmse_persistence", "persistence"), ("rmse_model", "Extra Trees (features)")]
    if rows and "rmse_baseline" in rows[0]:
        arms.append(("rmse_baseline", "Extra Trees (baseline features)"))
    x = np.arange(len(rows))
    width = 0.8 / len(arms)
    fig = Figure(figsize=(6, 3.5))
    ax = fig.add_subplot(1, 1, 1)
    for k, (key, label) in enumerate(arms):
        ax.bar(x + (k - (len(arms) - 1) / 2) * width, [r[key] for r in rows], width, label=label)
    ax.set_xticks(x, [f"{r['horizon']} d" for r in rows])
    ax.set_xlabel("forecast horizon")
    ax.set_ylabel(f"test RMSE of {result['target']} (sfu)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    FigureCanvasAgg(fig)
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    return Path(path)


__all__ = ["save_index_forecast_png"]
