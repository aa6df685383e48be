"""Stage 1, perception: SPNet on the stack → AR/CH/FL probabilities and masks ``[3, H, W]``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from solarray.core.features import FEATURE_KINDS
from solarray.core.frame import disk_mask
from solarray.pipeline.sample import Sample, prepare_stack


@dataclass
class Perception:
    """SPNet output on the sample grid: probabilities float32 and masks uint8, ``[3, H, W]``
    (planes in :data:`solarray.core.features.FEATURE_KINDS` order), zero off the disk."""

    probability: np.ndarray
    masks: np.ndarray
    threshold: tuple[float, ...]  # per feature


def empty_perception(sample: Sample) -> Perception:
    """No feature anywhere: the perception of an observation SPNet cannot read (none of its
    channels present, :func:`solarray.pipeline.degraded.assess`); thresholds NaN."""
    n, k = sample.size, len(FEATURE_KINDS)
    return Perception(np.zeros((k, n, n), np.float32), np.zeros((k, n, n), np.uint8),
                      (float("nan"),) * k)


def perceive(spnet, samples: Sequence[Sample], threshold: float | None = None
             ) -> list[Perception]:
    """SPNet on a batch of samples (any sizes, any channel sets) → one :class:`Perception` each;
    SPNet's probabilities are resampled back to each sample's grid. ``threshold`` None: the
    model's per-feature decision thresholds (tuned on validation when it was trained)."""
    import torch
    import torch.nn.functional as Fn

    if not samples:
        return []
    cfg = spnet.config
    xs, ps = zip(*(prepare_stack(s.image, s.present, s.channels, cfg.channels, cfg.image_size)
                   for s in samples), strict=True)
    with torch.inference_mode():
        prob = spnet.predict_proba(torch.from_numpy(np.stack(xs)),
                                   torch.from_numpy(np.stack(ps)))
    t = spnet.decision_thresholds() if threshold is None else \
        np.full(len(FEATURE_KINDS), float(threshold), np.float32)
    out = []
    for s, p in zip(samples, prob, strict=True):
        if p.shape[-1] != s.size:
            p = Fn.interpolate(p[None], size=(s.size, s.size), mode="bilinear",
                               align_corners=False)[0]
        p = p.float().numpy()
        disk = disk_mask(s.size, s.frame)
        p = np.where(disk[None], p, 0.0).astype(np.float32)
        out.append(Perception(p, (p >= t[:, None, None]).astype(np.uint8),
                              tuple(float(v) for v in t)))
    return out


__all__ = ["Perception", "empty_perception", "perceive"]
