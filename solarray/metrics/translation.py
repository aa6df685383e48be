"""Image-translation metrics of Park 2019 and Lim 2021: pure numpy, physical units.

Each per-image function takes a generated and a target image of the same shape (any
``[..., H, W]``, e.g. one image ``[H, W]`` or a stack ``[N, H, W]`` of one passband, in DN/s or G)
and an optional boolean ``mask`` ``[H, W]`` (the solar disk; broadcast over leading axes).
Non-finite pixels of either image are left out.

* :func:`cc` — Pearson correlation coefficient of the pixel pairs;
* :func:`relative_error` — ``(Σ pred − Σ target) / Σ target`` (signed: > 0 when too bright);
* :func:`ppe` — percentage of pixels within error: the fraction of pixels with
  ``|pred − target| ≤ tol · |target|`` (``tol = 0.1`` is Park 2019's PPE10);
* :func:`average_re` — the averages of REs: ``abs`` = mean |RE| and ``signed`` = mean RE, where
  errors of opposite sign cancel. Park 2019's Average row is ``abs`` over its signed passband
  rows (0.07 / 0.06): applied to passband means it gives Park's number, applied to per-image
  REs it gives our mean |RE| over images, a stricter average;
* :func:`radial_power_spectrum`, :func:`high_frequency_ratio` — realism (Park's "Model B is
  sharper"): the fine-scale power of the generated image over the target's (1 = as much fine
  structure as the target, < 1 blurred).
"""

from __future__ import annotations

from collections.abc import Sequence

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


def average_re(values: Sequence[float]) -> dict[str, float]:
    """``{"abs": mean |RE|, "signed": mean RE}`` of per-image (or per-passband) relative
    errors, NaNs left out (NaN when none is finite)."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if not v.size:
        return {"abs": float("nan"), "signed": float("nan")}
    return {"abs": float(np.abs(v).mean()), "signed": float(v.mean())}


def ppe(pred: np.ndarray, target: np.ndarray, tol: float = 0.1,
        mask: np.ndarray | None = None) -> float:
    """Fraction (0–1) of pixels with ``|pred − target| ≤ tol · |target|``."""
    if tol < 0:
        raise ValueError(f"ppe tolerance must be >= 0, got {tol}")
    return within_tolerance(*_pairs(pred, target, mask), tol)


def scores(pred: np.ndarray, target: np.ndarray, mask: np.ndarray | None = None
           ) -> dict[str, float]:
    """``{"cc", "re", "ppe10"}`` of one image of one passband (``re`` signed)."""
    return {"cc": cc(pred, target, mask), "re": relative_error(pred, target, mask),
            "ppe10": ppe(pred, target, 0.1, mask)}


def radial_power_spectrum(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Radially summed power spectrum of one square image ``[N, N]`` (mean removed, NaN → 0).

    → ``(k, power)``: ``k`` the radial frequency of each bin as a fraction of the Nyquist
    frequency (bin j holds the Fourier modes with ``round(√(kx² + ky²)) = j`` cycles per image,
    ``k = j / (N/2)``); ``power`` the summed ``|F|² / N⁴`` of those modes, so that
    ``Σ power`` is the image's variance (Parseval). A cosine of amplitude a puts a²/2 in its bin.
    """
    img = np.nan_to_num(np.asarray(image, dtype=np.float64))
    if img.ndim != 2 or img.shape[0] != img.shape[1]:
        raise ValueError(f"radial_power_spectrum takes one square image [N, N], got {img.shape}")
    n = img.shape[0]
    f = np.fft.fft2(img - img.mean())
    p = np.abs(f) ** 2 / n ** 4
    kx = np.fft.fftfreq(n, d=1.0 / n)
    r = np.rint(np.hypot(kx[:, None], kx[None, :])).astype(int)
    power = np.bincount(r.ravel(), weights=p.ravel())
    return np.arange(len(power)) / (n / 2), power


def high_frequency_power(image: np.ndarray, cutoff: float = 0.5) -> float:
    """Power (variance) in the radial bins at or above ``cutoff`` × Nyquist."""
    if not 0 < cutoff <= 1:
        raise ValueError(f"cutoff must be in (0, 1] of the Nyquist frequency, got {cutoff}")
    k, power = radial_power_spectrum(image)
    return float(power[k >= cutoff - 1e-12].sum())


def high_frequency_ratio(pred: np.ndarray, target: np.ndarray, cutoff: float = 0.5) -> float:
    """Fine-scale power of ``pred`` over the target's (:func:`high_frequency_power`, bins at or
    above ``cutoff`` × Nyquist) for one image ``[N, N]`` or the mean over a stack ``[M, N, N]``
    of per-image ratios; NaN where the target has no fine-scale power."""
    pred, target = np.asarray(pred), np.asarray(target)
    if pred.shape != target.shape:
        raise ValueError(f"generated and target images differ in shape: {pred.shape} vs "
                         f"{target.shape}")
    if pred.ndim == 2:
        pred, target = pred[None], target[None]
    ratios = []
    for p, t in zip(pred, target, strict=True):
        tp = high_frequency_power(t, cutoff)
        # round-off leaves ~1e-33 of power where there is none: that is no fine structure
        floor = 1e-12 * max(float(np.nanvar(t)), np.finfo(np.float64).tiny)
        ratios.append(high_frequency_power(p, cutoff) / tp if tp > floor else np.nan)
    return float(np.nanmean(ratios)) if np.isfinite(ratios).any() else float("nan")


__all__ = ["average_re", "cc", "high_frequency_power", "high_frequency_ratio", "ppe",
           "radial_power_spectrum", "relative_error", "scores"]
