"""Losses of the Hale/McIntosh classifier: class-balanced cross-entropy per longitude zone."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F


def class_weights(labels, n_classes: int) -> list[float]:
    """Inverse-frequency weights ``N / (K · count_k)`` per class (0 for classes absent from
    ``labels``), so every present class carries the same total weight (SA-AI 2025: imbalance)."""
    counts = np.bincount(np.asarray(labels, dtype=np.int64), minlength=n_classes).astype(float)
    total = counts.sum()
    return [float(total / (n_classes * c)) if c > 0 else 0.0 for c in counts[:n_classes]]


def zoned_cross_entropy(logits: torch.Tensor, target: torch.Tensor, inner: torch.Tensor,
                        inner_weight: Sequence[float] = (), outer_weight: Sequence[float] = ()
                        ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Sum of the mean cross-entropies of the two longitude zones.

    ``logits`` [B, K], ``target`` [B] class indices, ``inner`` [B] bool (True = inner zone);
    per-class weights per zone (``()`` = uniform). Each zone's network sees only its own term,
    so the sum trains both as if apart. A zone without samples contributes 0 (kept in the graph).
    Parts: ``loss_inner``, ``loss_outer`` (detached).
    """
    total = logits.sum() * 0.0
    parts: dict[str, torch.Tensor] = {}
    for name, sel, w in (("inner", inner, inner_weight), ("outer", ~inner, outer_weight)):
        if bool(sel.any()):
            weight = torch.as_tensor(list(w), dtype=logits.dtype, device=logits.device) if len(w) \
                else None
            loss = F.cross_entropy(logits[sel], target[sel], weight=weight)
        else:
            loss = logits.sum() * 0.0
        total = total + loss
        parts[f"loss_{name}"] = loss.detach()
    return total, parts


__all__ = ["class_weights", "zoned_cross_entropy"]
