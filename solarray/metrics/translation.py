"""Image-translation metrics of Park 2019 and Lim 2021: pure numpy, physical units.

Each function takes a generated and a target image of the same shape (any ``[..., H, W]``, e.g.
one image ``[H, W]`` or a stack ``[N, H, W]`` of one passband, in DN/s or G) and an optional
boolean ``mask`` ``[H, W]`` (the solar disk; broadcast over leading axes). Non-finite pixels of
either image are left out.

* :func:`cc` — Pearson correlation coefficient of the pixel pairs;
* :func:`relative_error` — ``(Σ pred − Σ target) / Σ target`` (signed: > 0 when too bright);
* :func:`ppe` — percentage of pixels within error: the fraction of pixels with
  ``|pred − target| ≤ tol · |target|`` (``tol = 0.1`` is Park 2019's PPE10).
"""

from __future__ import annotations

import numpy as np

from solarray.metrics.pixels import pearson, pixel_pairs, within_tolerance


def _pairs(pred: np.ndarray, target: np.ndarray, mask: np.ndarray | None
           ) -> tuple[np.ndarray, np.ndarray]:
    p, t = pixel_pairs(pred, target, mask)
    if not p.size:
        raise ValueError("no finite pixel pairs inside the mask")
    return p, t


def cc(pred: np.ndarray, target: np.ndarray, mask: np.ndarray | None = None) -> float:
    """Pearson correlation of the pixel pairs; NaN when either image is constant."""
    return pearson(*_pairs(pred, target, mask))


def relative_error(pred: np.ndarray, target: np.ndarray, mask: np.ndarray | None = None) -> float:
    """``(Σ pred − Σ target) / Σ target`` over the pixels (total-flux error; NaN if Σ target = 0)."""
    p, t = _pairs(pred, target, mask)
    total = t.sum()
    return float((p.sum() - total) / total) if total != 0 else float("nan")


def ppe(pred: np.ndarray, target: np.ndarray, tol: float = 0.1,
        mask: np.ndarray | None = None) -> float:
    """Fraction (0–1) of pixels with ``|pred − target| ≤ tol · |target|``."""
    if tol < 0:
        raise ValueError(f"ppe tolerance must be >= 0, got {tol}")
    return within_tolerance(*_pairs(pred, target, mask), tol)


def scores(pred: np.ndarray, target: np.ndarray, mask: np.ndarray | None = None
           ) -> dict[str, float]:
    """``{"cc", "re", "ppe10"}`` of one passband."""
    return {"cc": cc(pred, target, mask), "re": relative_error(pred, target, mask),
            "ppe10": ppe(pred, target, 0.1, mask)}


__all__ = ["cc", "ppe", "relative_error", "scores"]
