"""Segmentation losses for SPNet: weighted per-class binary cross-entropy plus optional soft Dice.

SA-AI 2025 weights foreground:background per class as AR 6:1, CH 4:1, FL 2:1 (features are a small
fraction of the disk). Each pixel's BCE is weighted by ``fg_weight[k]`` where the target is 1 and
by 1 where it is 0; the weighted sum is divided by the sum of weights (a weighted mean), so the
loss scale does not depend on how much foreground a batch holds. Pixels whose target is
``ignore_value`` (255: unknown, as ingest writes for samples without truth masks) or outside
``valid`` do not count.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from solarray.core.features import FEATURE_KINDS, MASK_UNKNOWN

#: SA-AI 2025 foreground:background weights, in FEATURES order (AR, CH, FL).
DEFAULT_FG_WEIGHTS: tuple[float, float, float] = (6.0, 4.0, 2.0)
IGNORE_VALUE = MASK_UNKNOWN  # truth unknown: no gradient


@dataclass
class SegmentationLossConfig:
    """``fg_weights`` per class (AR, CH, FL); ``dice_weight`` scales the soft-Dice term (0 = off);
    ``class_weights`` scales each class's contribution (0 trains without that class)."""

    fg_weights: tuple[float, ...] = DEFAULT_FG_WEIGHTS
    dice_weight: float = 0.0
    class_weights: tuple[float, ...] = (1.0, 1.0, 1.0)

    def __post_init__(self) -> None:
        self.fg_weights = tuple(float(w) for w in self.fg_weights)
        self.class_weights = tuple(float(w) for w in self.class_weights)
        if any(w <= 0 for w in self.fg_weights):
            raise ValueError(f"fg_weights must be > 0, got {self.fg_weights}")
        if any(w < 0 for w in self.class_weights) or not any(self.class_weights):
            raise ValueError(f"class_weights must be ≥ 0 and not all 0, got {self.class_weights}")
        if len(self.fg_weights) != len(self.class_weights):
            raise ValueError(f"fg_weights ({len(self.fg_weights)}) and class_weights "
                             f"({len(self.class_weights)}) need one value per class")
        if self.dice_weight < 0:
            raise ValueError(f"dice_weight must be ≥ 0, got {self.dice_weight}")


def _valid_and_target(logits: torch.Tensor, target: torch.Tensor, valid: torch.Tensor | None
                      ) -> tuple[torch.Tensor, torch.Tensor]:
    if logits.shape != target.shape:
        raise ValueError(f"logits {tuple(logits.shape)} and targets {tuple(target.shape)} "
                         f"must have the same [B, K, H, W] shape")
    ok = target != IGNORE_VALUE
    if valid is not None:
        ok = ok & valid.to(torch.bool).expand_as(ok)
    return ok.to(logits.dtype), (target == 1).to(logits.dtype)


def weighted_bce(logits: torch.Tensor, target: torch.Tensor,
                 fg_weights: Sequence[float] = DEFAULT_FG_WEIGHTS,
                 valid: torch.Tensor | None = None) -> torch.Tensor:
    """Per-class weighted BCE ``[K]`` for ``logits``/``target`` ``[B, K, H, W]`` (target 0/1/255).

    ``valid`` (bool, broadcastable to ``[B, K, H, W]``) restricts the pixels that count. A class
    with no counted pixel contributes 0.
    """
    ok, y = _valid_and_target(logits, target, valid)
    fg = torch.as_tensor(fg_weights, dtype=logits.dtype, device=logits.device)
    if fg.numel() != logits.shape[1]:
        raise ValueError(f"{fg.numel()} fg_weights for {logits.shape[1]} classes")
    w = ok * (1.0 + (fg[None, :, None, None] - 1.0) * y)
    bce = F.binary_cross_entropy_with_logits(logits, y, reduction="none")
    return (w * bce).sum(dim=(0, 2, 3)) / w.sum(dim=(0, 2, 3)).clamp_min(1e-8)


def soft_dice_loss(logits: torch.Tensor, target: torch.Tensor,
                   valid: torch.Tensor | None = None, eps: float = 1.0) -> torch.Tensor:
    """Per-class ``1 − soft Dice`` ``[K]`` over the batch (sigmoid probabilities, smoothing eps)."""
    ok, y = _valid_and_target(logits, target, valid)
    p = torch.sigmoid(logits) * ok
    y = y * ok
    inter = (p * y).sum(dim=(0, 2, 3))
    denom = p.sum(dim=(0, 2, 3)) + y.sum(dim=(0, 2, 3))
    return 1.0 - (2.0 * inter + eps) / (denom + eps)


def segmentation_loss(logits: torch.Tensor, target: torch.Tensor, cfg: SegmentationLossConfig,
                      valid: torch.Tensor | None = None
                      ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Total loss and its parts (``bce``, per-class ``bce_<k>``, and ``dice`` when enabled)."""
    cw = torch.as_tensor(cfg.class_weights, dtype=logits.dtype, device=logits.device)
    if cw.numel() != logits.shape[1]:
        raise ValueError(f"{cw.numel()} class_weights for {logits.shape[1]} classes")
    bce = weighted_bce(logits, target, cfg.fg_weights, valid)
    total = (cw * bce).sum() / cw.sum()
    parts = {"bce": total.detach()}
    names = FEATURE_KINDS if logits.shape[1] == len(FEATURE_KINDS) else [str(i) for i in range(len(bce))]
    for name, v in zip(names, bce, strict=True):
        parts[f"bce_{name}"] = v.detach()
    if cfg.dice_weight > 0:
        dice = (cw * soft_dice_loss(logits, target, valid)).sum() / cw.sum()
        total = total + cfg.dice_weight * dice
        parts["dice"] = dice.detach()
    return total, parts


__all__ = ["DEFAULT_FG_WEIGHTS", "IGNORE_VALUE", "SegmentationLossConfig", "segmentation_loss",
           "soft_dice_loss", "weighted_bce"]
