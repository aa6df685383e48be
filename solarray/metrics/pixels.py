"""Pixel-pair scores shared by the translation (Park 2019) and reconstruction (Brown 2023) metrics:
one definition of "the pixel pairs", Pearson correlation and the within-tolerance fraction.

``pred`` is the generated/reconstructed image, ``target`` the observed one, any equal shape
``[..., H, W]``; ``mask`` ``[H, W]`` (e.g. the solar disk) is broadcast over leading axes;
pixels where either image is non-finite are left out.
"""

from __future__ import annotations

import numpy as np


def pixel_pairs(pred: np.ndarray, target: np.ndarray, mask: np.ndarray | None = None
                ) -> tuple[np.ndarray, np.ndarray]:
    """The finite pixel pairs inside ``mask``, flattened to 1-D float64 ``(pred, target)``."""
    pred = np.asarray(pred, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64)
    if pred.shape != target.shape:
        raise ValueError(f"generated and target images differ in shape: {pred.shape} vs "
                         f"{target.shape}")
    keep = np.isfinite(pred) & np.isfinite(target)
    if mask is not None:
        mask = np.asarray(mask, dtype=bool)
        if mask.shape != pred.shape[-2:]:
            raise ValueError(f"mask shape {mask.shape} does not match the images' "
                             f"{pred.shape[-2:]}")
        keep &= np.broadcast_to(mask, pred.shape)
    return pred[keep], target[keep]


def pearson(p: np.ndarray, t: np.ndarray) -> float:
    """Pearson correlation of paired 1-D samples (NaN for < 2 pairs or a constant side)."""
    if p.size < 2:
        return float("nan")
    p, t = p - p.mean(), t - t.mean()
    den = np.sqrt((p * p).sum() * (t * t).sum())
    return float((p * t).sum() / den) if den > 0 else float("nan")


def within_tolerance(p: np.ndarray, t: np.ndarray, tol: float) -> float:
    """Fraction of pairs with ``|p − t| ≤ tol·|t|`` (NaN without pairs)."""
    if tol < 0:
        raise ValueError(f"ppe tolerance must be >= 0, got {tol}")
    return float(np.mean(np.abs(p - t) <= tol * np.abs(t))) if p.size else float("nan")


__all__ = ["pearson", "pixel_pairs", "within_tolerance"]
