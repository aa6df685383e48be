"""Side-by-side PNGs of a translation: input(s), target, generated and their difference, one
row per generated passband (scaled units, the channel's colour map)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from solarray.core import channels as channel_catalogue
from solarray.core.atomic import atomic_path


def side_by_side(x: np.ndarray, y: np.ndarray, fake: np.ndarray, inputs: Sequence[str],
                 outputs: Sequence[str], path: str | os.PathLike, title: str = "") -> Path:
    """One sample: ``x`` ``[C_in, H, W]``, ``y``/``fake`` ``[C_out, H, W]`` (scaled) → PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import sunpy.visualization.colormaps  # noqa: F401  (registers the SDO colour maps)

    rows = len(outputs)
    fig, axes = plt.subplots(rows, 4, figsize=(10, 2.6 * rows), squeeze=False)
    for r, c in enumerate(outputs):
        cmap = channel_catalogue.get(c).cmap
        panels = [(x[0], f"input {inputs[0]}" + (" (+)" if len(inputs) > 1 else ""), "gray"),
                  (y[r], f"target {c}", cmap), (fake[r], f"generated {c}", cmap),
                  (fake[r] - y[r], "generated − target", "RdBu_r")]
        for ax, (img, name, cm) in zip(axes[r], panels, strict=True):
            lim = (-1, 1) if cm != "RdBu_r" else (-0.5, 0.5)
            try:
                ax.imshow(img, cmap=cm, vmin=lim[0], vmax=lim[1], origin="lower")
            except ValueError:
                ax.imshow(img, cmap="gray", vmin=lim[0], vmax=lim[1], origin="lower")
            ax.set_title(name, fontsize=8)
            ax.axis("off")
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=80, format="png")
    plt.close(fig)
    return path


__all__ = ["side_by_side"]
