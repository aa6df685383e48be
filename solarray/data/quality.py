"""Quality checks on preprocessed images (tests and QA of real data): limb radius, disk centroid,
EUV contrast (how hard an image is compared with the real Sun)."""

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


#: The real AIA 171 Å level-1 file shipped in sunpy (``aia_171_level1.fits``, 128², DN/s),
#: preprocessed to the 128² ML frame and measured by :func:`euv_contrast`
#: (tests/test_quality.py re-measures it). The benchmark Sun must match within 25 %.
REAL_AIA171_CONTRAST = {"limb_brightening": 1.87, "p99_over_median": 5.69}


def euv_contrast(img: np.ndarray, frame: float = FRAME_RSUN) -> dict[str, float]:
    """Two contrast figures of an EUV image in the ML frame (``[N, N]``, R☉ = N / (2·frame) px):

    * ``limb_brightening``: median intensity in the on-disk annulus 0.9 ≤ r < 1.0 R☉ over the
      median within r < 0.5 R☉ (optically thin corona: longer lines of sight near the limb);
    * ``p99_over_median``: 99th percentile over the median of all on-disk pixels (r < 1 R☉),
      how much brighter active regions are than the quiet Sun.

    Non-finite pixels are ignored. Raises ValueError when the image is not square or a region
    has no finite pixel.
    """
    img = np.asarray(img, dtype=np.float64)
    if img.ndim != 2 or img.shape[0] != img.shape[1]:
        raise ValueError(f"euv_contrast: expected a square 2-D image, got shape {img.shape}")
    r = radius_grid(img.shape[0], frame)
    ok = np.isfinite(img)
    parts = {"annulus 0.9–1.0 R☉": ok & (r >= 0.9) & (r < 1.0), "centre r < 0.5 R☉": ok & (r < 0.5),
             "disk r < 1 R☉": ok & (r < 1.0)}
    for name, sel in parts.items():
        if not sel.any():
            raise ValueError(f"euv_contrast: no finite pixel in the {name} region")
    ann, cen, disk = (img[s] for s in parts.values())
    med_disk = float(np.median(disk))
    return {"limb_brightening": float(np.median(ann) / np.median(cen)),
            "p99_over_median": float(np.percentile(disk, 99) / med_disk)}


__all__ = ["REAL_AIA171_CONTRAST", "disk_centroid", "euv_contrast", "measure_limb",
           "radial_profile"]
