"""Quality checks on preprocessed images (tests and QA of real data): limb radius, disk centroid."""

from __future__ import annotations

import numpy as np

from solarray.core.frame import FRAME_RSUN, radius_grid


def radial_profile(img: np.ndarray, frame: float = FRAME_RSUN, nbins: int | None = None
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Azimuthal mean of ``img`` ``[N, N]`` about the image centre: ``(r in R☉, mean)``."""
    n = img.shape[-1]
    nbins = nbins or n // 2
    r = radius_grid(n, frame)
    edges = np.linspace(0, frame, nbins + 1)
    idx = np.digitize(r.ravel(), edges) - 1
    vals = img.ravel()
    ok = (idx >= 0) & (idx < nbins) & np.isfinite(vals)
    total = np.bincount(idx[ok], weights=vals[ok], minlength=nbins)
    count = np.bincount(idx[ok], minlength=nbins)
    with np.errstate(invalid="ignore", divide="ignore"):
        prof = total / count
    return 0.5 * (edges[1:] + edges[:-1]), prof


def measure_limb(img: np.ndarray, frame: float = FRAME_RSUN) -> float:
    """Limb radius measured from the image, R☉: where the radial profile falls fastest.

    NaN off-disk counts as the darkest value. Works for EUV (the drop just above the limb
    brightening) and continuum (the limb-darkened edge).
    """
    filled = np.where(np.isfinite(img), img, np.nanmin(img))
    r, prof = radial_profile(filled, frame)
    prof = np.where(np.isfinite(prof), prof, np.nanmin(prof))
    grad = np.gradient(prof, r)
    grad[r < 0.5] = 0  # ignore disk structure near the centre
    return float(r[int(np.argmin(grad))])


def disk_centroid(img: np.ndarray) -> tuple[float, float]:
    """Centroid (column, row) of the pixels brighter than half the median of the bright half."""
    v = np.where(np.isfinite(img), img, -np.inf)
    finite = v[np.isfinite(v)]
    thresh = 0.5 * np.median(finite[finite > np.median(finite)])
    mask = v > thresh
    yy, xx = np.nonzero(mask)
    return float(xx.mean()), float(yy.mean())


__all__ = ["disk_centroid", "measure_limb", "radial_profile"]
