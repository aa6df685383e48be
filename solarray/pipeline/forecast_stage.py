"""Stage 3, forecast: FPNet on the full disk and on a crop around each AR with its features →
P(≥M1 flare within 24 h), calibrated when the checkpoint carries a calibration.

The AR crop (:func:`solarray.forecast.examples.ar_crop`) and the feature vector
(:func:`solarray.forecast.features.region_features` / ``disk_features`` / ``feature_tensors``)
are the ones FPNet is trained with, so a served forecast sees the input the model was trained on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from solarray.forecast.examples import ar_crop
from solarray.forecast.features import disk_features, feature_tensors, region_features
from solarray.pipeline.analysis_stage import Analysis
from solarray.pipeline.sample import Sample, prepare_stack


@dataclass
class Forecast:
    """P(≥M1 within 24 h): the full-disk model, each region (by number), and the regions combined
    as 1 − Π(1 − p_i)."""

    full_disk: float | None
    regions: dict[int, float]
    from_regions: float | None


def _probabilities(model, images: np.ndarray, feats: Sequence[Mapping[str, Any]],
                   batch: int | None = None) -> np.ndarray:
    """Calibrated P for ``images [N, C, S, S]``: one forward for all of them (``batch`` None)
    or forwards of ``batch`` images (the per-AR loop of ``batch=1`` is the speed baseline)."""
    import torch

    if not len(images):
        return np.zeros(0)
    sc, cats = feature_tensors(model, feats)
    x = torch.from_numpy(images)
    step = len(images) if batch is None else max(int(batch), 1)
    with torch.inference_mode():
        p = torch.cat([model.predict_proba(x[i:i + step], sc[i:i + step], cats[i:i + step])
                       for i in range(0, len(images), step)]).float().numpy()
    cal = getattr(model, "calibrated", None)
    return np.clip(np.asarray(cal(p) if cal else p, dtype=np.float64), 0.0, 1.0)


def fallback_forecast(analysis: Analysis) -> Forecast:
    """The forecast of a degraded observation FPNet does not forecast: the analysis' full-disk
    fallback (:mod:`solarray.pipeline.degraded`), no per-region probability."""
    fb = analysis.fallback
    return Forecast(None if fb is None else fb.p_m24, {}, None)


def _readable(model, sample: Sample) -> bool:
    """Whether ``sample`` holds at least one of the channels ``model`` reads."""
    have = {c for c, p in zip(sample.channels, sample.present, strict=True) if p}
    return any(c in have for c in model.config.channels)


def forecast(fp_disk, fp_ar, samples: Sequence[Sample], analyses: Sequence[Analysis],
             max_regions: int = 64, crop_batch: int | None = None) -> list[Forecast]:
    """FPNet on a batch: one full-disk image per sample, one crop per AR (largest
    ``max_regions`` per sample), all crops in one forward (``crop_batch``: at most that many
    per forward). Either model may be None (its probabilities are None), and so are a model's
    probabilities for a sample holding none of its channels."""
    disk_p: list[float | None] = [None] * len(samples)
    if fp_disk is not None and samples:
        c = fp_disk.config
        idx = [i for i, s in enumerate(samples) if _readable(fp_disk, s)]
        if idx:
            imgs = np.stack([prepare_stack(samples[i].image, samples[i].present,
                                           samples[i].channels, c.channels, c.image_size)[0]
                             for i in idx])
            probs = _probabilities(fp_disk, imgs, [disk_features(analyses[i].disk) for i in idx])
            for i, p in zip(idx, probs, strict=True):
                disk_p[i] = p
    region_p: list[dict[int, float]] = [{} for _ in samples]
    if fp_ar is not None:
        c = fp_ar.config
        crops, feats, owners = [], [], []
        for i, (s, a) in enumerate(zip(samples, analyses, strict=True)):
            if not a.ars or not _readable(fp_ar, s):
                continue
            full, _ = prepare_stack(s.image, s.present, s.channels, c.channels, s.size)
            rows = sorted(a.ars, key=lambda r: -(r.get("area_msh") or 0))[:max_regions]
            for row in rows:
                crops.append(ar_crop(full, row["pixel_y"], row["pixel_x"], s.frame, c.crop_rsun,
                                     c.image_size))
                feats.append(region_features(row, a.disk))
                owners.append((i, row["number"]))
        if crops:
            probs = _probabilities(fp_ar, np.stack(crops), feats, crop_batch)
            for (i, n), p in zip(owners, probs, strict=True):
                region_p[i][int(n)] = float(p)
    out = []
    for s, dp, rp in zip(samples, disk_p, region_p, strict=True):
        combined = float(1.0 - np.prod([1.0 - p for p in rp.values()])) if rp else (
            0.0 if fp_ar is not None and _readable(fp_ar, s) else None)
        out.append(Forecast(None if dp is None else float(dp), rp, combined))
    return out


__all__ = ["Forecast", "fallback_forecast", "forecast"]
