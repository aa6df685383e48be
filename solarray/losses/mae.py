"""Masked-autoencoder reconstruction loss (He et al. 2022): MSE on the masked patches only."""

from __future__ import annotations

import torch


def normalise_patches(target: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """Per-patch normalised targets ``(t − mean) / sqrt(var + eps)`` over each patch's p·p·C values
    (MAE's ``norm_pix_loss``). ``target`` ``[B, N, p·p·C]``."""
    mean = target.mean(dim=-1, keepdim=True)
    var = target.var(dim=-1, keepdim=True, unbiased=False)
    return (target - mean) / torch.sqrt(var + eps)


def mae_loss(
    pred: torch.Tensor,
    target: torch.Tensor,
    mask: torch.Tensor,
    *,
    norm_pix: bool = False,
    present: torch.Tensor | None = None,
    channels: int = 1,
) -> torch.Tensor:
    """Mean squared error over the masked patches.

    ``pred``, ``target`` ``[B, N, p·p·C]`` in the (py, px, c) patch layout of
    :func:`solarray.models.layers.patchify`; ``mask`` ``[B, N]`` bool, ``True`` = masked (the
    only patches that count). ``present`` ``[B, C]`` (0/1) drops the pixels of missing channels
    (then ``channels`` = C is needed to undo the layout); with ``norm_pix`` the targets are
    normalised per patch first. Returns a scalar; raises if no patch is masked.
    """
    if pred.shape != target.shape or pred.dim() != 3:
        raise ValueError(f"pred and target must be equal [B, N, D], got {tuple(pred.shape)} "
                         f"and {tuple(target.shape)}")
    if mask.shape != pred.shape[:2]:
        raise ValueError(f"mask must be [B, N] = {tuple(pred.shape[:2])}, got {tuple(mask.shape)}")
    m = mask.to(pred.dtype)
    if not bool(m.sum() > 0):
        raise ValueError("mae_loss: no masked patch (mask ratio 0?)")
    if norm_pix:
        target = normalise_patches(target)
    err = (pred - target) ** 2
    if present is None:
        per_patch = err.mean(dim=-1)
        return (per_patch * m).sum() / m.sum()
    b, n, d = err.shape
    if d % channels:
        raise ValueError(f"patch vector of {d} values is not divisible by {channels} channels")
    w = present.to(pred.dtype)[:, None, None, :].expand(b, n, d // channels, channels)
    w = w.reshape(b, n, d) * m[..., None]
    return (err * w).sum() / w.sum().clamp_min(1.0)
