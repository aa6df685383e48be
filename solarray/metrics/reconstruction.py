"""Reconstruction, compression and sample-realism metrics (Brown 2023 Tables 1 and 3): pure numpy.

Per channel, over the pixels of a mask (the solar disk) of every image:

* pixel correlation — Pearson r of original and reconstructed pixels;
* ppe10 / ppe50 — fraction of pixels whose absolute error is within 10 % / 50 % of the original
  value (``|x̂ − x| ≤ tol·|x|``);
* RMSE — in whatever units the arrays are in (physical: DN/s, G).

Compression (Table 1): original bytes, latent bytes, model bytes, (latents + model) / original.
Samples vs real frames: per-channel intensity-histogram distance (total variation between the
normalised histograms, 0 = identical, 1 = disjoint) and the mean |log ratio| of azimuthally
averaged power spectra.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from solarray.metrics.pixels import pearson, pixel_pairs, within_tolerance


def _pair(real: np.ndarray, recon: np.ndarray, mask: np.ndarray | None
          ) -> tuple[np.ndarray, np.ndarray]:
    """Finite pixel pairs ``(real, recon)`` inside ``mask`` (:func:`~solarray.metrics.pixels.
    pixel_pairs`), flattened to 1-D float64."""
    b, a = pixel_pairs(recon, real, mask)
    return a, b


def pixel_correlation(real: np.ndarray, recon: np.ndarray, mask: np.ndarray | None = None
                      ) -> float:
    """Pearson correlation of the pixels (NaN when fewer than 2 pixels or a constant input)."""
    a, b = _pair(real, recon, mask)
    return pearson(b, a)


def ppe(real: np.ndarray, recon: np.ndarray, tol: float, mask: np.ndarray | None = None
        ) -> float:
    """Fraction of pixels with ``|recon − real| ≤ tol·|real|`` (``tol`` 0.1 → ppe10)."""
    a, b = _pair(real, recon, mask)
    return within_tolerance(b, a, tol)


def rmse(real: np.ndarray, recon: np.ndarray, mask: np.ndarray | None = None) -> float:
    """Root-mean-square error over the pixels, in the arrays' units."""
    a, b = _pair(real, recon, mask)
    return float(np.sqrt(np.mean((b - a) ** 2))) if a.size else float("nan")


def reconstruction_table(real: np.ndarray, recon: np.ndarray, channels: Sequence[str],
                         mask: np.ndarray | None = None) -> list[dict[str, Any]]:
    """One row per channel ``{"channel", "pixel_correlation", "ppe10", "ppe50", "rmse"}`` for
    ``real``/``recon`` ``[N, C, H, W]`` (physical units), pixels inside ``mask`` ``[H, W]``."""
    real, recon = np.asarray(real), np.asarray(recon)
    if real.ndim != 4 or real.shape[1] != len(channels):
        raise ValueError(f"expected images [N, {len(channels)}, H, W], got {real.shape}")
    rows = []
    for c, name in enumerate(channels):
        a, b = real[:, c], recon[:, c]
        rows.append({"channel": name, "pixel_correlation": pixel_correlation(a, b, mask),
                     "ppe10": ppe(a, b, 0.1, mask), "ppe50": ppe(a, b, 0.5, mask),
                     "rmse": rmse(a, b, mask)})
    return rows


def compression_table(n_samples: int, original_bytes: int, latent_dim: int, model_bytes: int,
                      bytes_per_value: int = 4, stored_values_per_dim: int = 1
                      ) -> dict[str, float]:
    """Brown 2023 Table 1 for a dataset of ``n_samples``: ``original_mb``, ``latent_mb``
    (``n_samples · latent_dim · stored_values_per_dim · bytes_per_value``), ``model_mb``,
    ``total_mb`` (latents + model) and ``percent`` (total / original · 100). MB = 10⁶ bytes."""
    if n_samples < 0 or original_bytes <= 0 or latent_dim < 1 or model_bytes < 0:
        raise ValueError("compression_table needs n_samples ≥ 0, original_bytes > 0, "
                         "latent_dim ≥ 1, model_bytes ≥ 0")
    latent = n_samples * latent_dim * stored_values_per_dim * bytes_per_value
    total = latent + model_bytes
    return {"n_samples": int(n_samples), "original_mb": original_bytes / 1e6,
            "latent_mb": latent / 1e6, "model_mb": model_bytes / 1e6, "total_mb": total / 1e6,
            "percent": 100.0 * total / original_bytes,
            "latent_percent": 100.0 * latent / original_bytes}


def histogram_distance(a: np.ndarray, b: np.ndarray, bins: int = 64,
                       value_range: tuple[float, float] | None = None) -> float:
    """Total-variation distance between the normalised value histograms of ``a`` and ``b``
    (finite values; common ``value_range``, default the joint min/max): ½ Σ |p − q| in [0, 1]."""
    a = np.asarray(a, dtype=np.float64).ravel()
    b = np.asarray(b, dtype=np.float64).ravel()
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    if a.size == 0 or b.size == 0:
        return float("nan")
    if value_range is None:
        value_range = (float(min(a.min(), b.min())), float(max(a.max(), b.max())))
    if value_range[1] <= value_range[0]:
        return 0.0
    p = np.histogram(a, bins=bins, range=value_range)[0] / a.size
    q = np.histogram(b, bins=bins, range=value_range)[0] / b.size
    return float(0.5 * np.abs(p - q).sum())


def radial_power_spectrum(images: np.ndarray) -> np.ndarray:
    """Azimuthally averaged power spectrum ``[H // 2]`` of images ``[N, H, W]`` (mean over N;
    NaN → 0; each image's mean removed)."""
    x = np.nan_to_num(np.asarray(images, dtype=np.float64))
    if x.ndim == 2:
        x = x[None]
    x = x - x.mean(axis=(1, 2), keepdims=True)
    power = (np.abs(np.fft.fftshift(np.fft.fft2(x), axes=(1, 2))) ** 2).mean(axis=0)
    h, w = power.shape
    yy, xx = np.indices(power.shape)
    r = np.hypot(yy - h // 2, xx - w // 2).astype(int)
    n = min(h, w) // 2
    sums = np.bincount(r.ravel(), power.ravel(), minlength=n)[:n]
    counts = np.bincount(r.ravel(), minlength=n)[:n]
    return sums / np.maximum(counts, 1)


def spectrum_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Mean |log10 ratio| of the radial power spectra of image sets ``a`` and ``b`` ``[N, H, W]``
    (frequency 0 excluded): 0 = same spatial power at every scale, 1 = off by 10× on average."""
    pa, pb = radial_power_spectrum(a)[1:], radial_power_spectrum(b)[1:]
    eps = 1e-12 * max(pa.max(initial=0.0), pb.max(initial=0.0), 1e-300)
    return float(np.mean(np.abs(np.log10((pa + eps) / (pb + eps)))))


def sample_realism(real: np.ndarray, samples: np.ndarray, channels: Sequence[str],
                   value_ranges: Mapping[str, tuple[float, float]] | None = None,
                   bins: int = 64) -> list[dict[str, Any]]:
    """Per channel ``{"channel", "histogram_tv", "spectrum_dlog"}`` comparing generated
    ``samples`` with ``real`` frames, both ``[N, C, H, W]`` in the same (scaled) units."""
    rows = []
    for c, name in enumerate(channels):
        rng = (value_ranges or {}).get(name)
        rows.append({"channel": name,
                     "histogram_tv": histogram_distance(real[:, c], samples[:, c], bins, rng),
                     "spectrum_dlog": spectrum_distance(real[:, c], samples[:, c])})
    return rows


__all__ = ["compression_table", "histogram_distance", "pixel_correlation", "ppe",
           "radial_power_spectrum", "reconstruction_table", "rmse", "sample_realism",
           "spectrum_distance"]
