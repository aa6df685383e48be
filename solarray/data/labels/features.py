"""Features of a label mask: 8-connected components, counted, and small ones dropped."""

from __future__ import annotations

import numpy as np

from solarray.core.features import FEATURE_KINDS

_STRUCT8 = np.ones((3, 3), int)


def components(mask: np.ndarray) -> tuple[np.ndarray, int]:
    """8-connected components of a 0/1 ``[H, W]`` mask: ``(labels [H, W] int, count)``."""
    from scipy import ndimage

    return ndimage.label(np.asarray(mask) == 1, structure=_STRUCT8)


def count_features(masks: np.ndarray) -> np.ndarray:
    """Features per sample and class ``[N, 3]`` (int) of ``masks [N, 3, H, W]``."""
    masks = np.asarray(masks)
    out = np.zeros(masks.shape[:2], np.int64)
    for i in range(masks.shape[0]):
        for k in range(masks.shape[1]):
            out[i, k] = components(masks[i, k])[1]
    return out


def drop_small_features(masks: np.ndarray, min_area: int, fraction: float = 1.0, seed: int = 0
                        ) -> tuple[np.ndarray, dict[str, int]]:
    """Remove 8-connected components smaller than ``min_area`` px, each with probability
    ``fraction`` (simulates a human label set that misses small features). Returns the new masks
    and the number of dropped features per class."""
    rng = np.random.default_rng(seed)
    out = np.asarray(masks).copy()
    dropped = {f: 0 for f in FEATURE_KINDS}
    for i in range(out.shape[0]):
        for k, f in enumerate(FEATURE_KINDS):
            lab, n = components(out[i, k])
            if n == 0:
                continue
            sizes = np.bincount(lab.ravel(), minlength=n + 1)
            for c in range(1, n + 1):
                if sizes[c] < min_area and rng.random() < fraction:
                    out[i, k][lab == c] = 0
                    dropped[f] += 1
    return out, dropped


__all__ = ["components", "count_features", "drop_small_features"]
