"""SolarCHIP's multi-granularity contrastive objective (SolarCHIP 2025; REFERENCE.md), as pure
functions.

``L = λ_rec·L_rec + λ_g·L_global + λ_l·L_local + λ_i·L_intra`` with temperature τ. SolarCHIP 2025
(its abstract, the text we have) says the objective "jointly aligns (1) global class tokens across
co-temporal AIA-HMI pairs to enhance temporal discrimination, (2) local patch tokens at fixed
spatial indices to enforce position-consistent, modality-invariant features, and (3) intra-sample
patches across different spatial locations to preserve fine-grained spatial structure". We read
each of the three as a symmetric cross-modal InfoNCE (every term "aligns", so each has positives)
and let them differ only in where their negatives come from:

* ``L_global``: AIA vs HMI class tokens; the co-temporal pair (same row of the batch) is the
  positive, every other sample of the batch a negative (temporal discrimination).
* ``L_local``: at each fixed patch index k, AIA patch k vs HMI patch k of the same sample is the
  positive; patch k of the **other samples** of the batch are the negatives (position-consistent,
  modality-invariant: the same place on the Sun at another time must not match). Averaged over k.
* ``L_intra``: within **one sample**, AIA patch k vs HMI patch k is the positive; the HMI (and,
  symmetrically, AIA) patches of that sample at the **other locations** l ≠ k are the negatives
  (fine-grained spatial structure: every location of a frame must be told apart from the rest of
  the same frame). Averaged over k and samples.
* ``L_rec``: mean squared error of both autoencoders' reconstructions, over present channels.

Before this reading (up to December 2026) ``L_local`` drew its negatives from every (sample,
index) pair at once and ``L_intra`` was a positive-free spreading term (``log mean_{k≠l}
exp(cos/τ)`` within one modality); the split above makes λ_local = 0 and λ_intra = 0 remove
disjoint sets of negatives, which is what an ablation of one term needs.
Embeddings are L2-normalised inside every contrastive term (cosine similarity).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F


def info_nce(a: torch.Tensor, b: torch.Tensor, temperature: float = 0.1,
             symmetric: bool = True) -> torch.Tensor:
    """InfoNCE between paired rows of ``a`` and ``b`` (``[N, D]`` each); row i of both is a positive.

    ``logits = cos(a_i, b_j)/τ``; cross-entropy towards the diagonal, averaged over a→b and b→a
    when ``symmetric``. For orthonormal identical rows the value is ``log(1 + (N−1)·e^{−1/τ})``.
    """
    if a.shape != b.shape or a.dim() != 2:
        raise ValueError(f"info_nce expects two [N, D] tensors of equal shape, got "
                         f"{tuple(a.shape)} and {tuple(b.shape)}")
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    a = F.normalize(a.float(), dim=-1)
    b = F.normalize(b.float(), dim=-1)
    logits = a @ b.T / temperature
    target = torch.arange(a.shape[0], device=a.device)
    loss = F.cross_entropy(logits, target)
    if symmetric:
        loss = 0.5 * (loss + F.cross_entropy(logits.T, target))
    return loss


def global_contrastive(g_aia: torch.Tensor, g_hmi: torch.Tensor,
                       temperature: float = 0.1) -> torch.Tensor:
    """Global term on class tokens ``[B, D]`` of the two modalities (co-temporal rows are positives)."""
    return info_nce(g_aia, g_hmi, temperature)


def _nce_rows(a: torch.Tensor, b: torch.Tensor, temperature: float) -> torch.Tensor:
    """Symmetric InfoNCE over a stack of independent problems: ``a``, ``b`` ``[G, M, D]``; in each
    group g, row m of ``a`` and row m of ``b`` are the positive, the other M − 1 rows of the other
    modality the negatives. Mean over groups, rows and both directions."""
    a = F.normalize(a.float(), dim=-1)
    b = F.normalize(b.float(), dim=-1)
    logits = a @ b.transpose(1, 2) / temperature  # [G, M, M]
    g, m, _ = logits.shape
    target = torch.arange(m, device=a.device).repeat(g)
    fwd = F.cross_entropy(logits.reshape(g * m, m), target)
    bwd = F.cross_entropy(logits.transpose(1, 2).reshape(g * m, m), target)
    return 0.5 * (fwd + bwd)


def _check_patches(name: str, l_aia: torch.Tensor, l_hmi: torch.Tensor) -> None:
    if l_aia.shape != l_hmi.shape or l_aia.dim() != 3:
        raise ValueError(f"{name} expects two [B, N, D] tensors of equal shape, got "
                         f"{tuple(l_aia.shape)} and {tuple(l_hmi.shape)}")


def _subsample(l_aia: torch.Tensor, l_hmi: torch.Tensor, max_patches: int,
               generator: torch.Generator | None) -> tuple[torch.Tensor, torch.Tensor]:
    n = l_aia.shape[1]
    if 0 < max_patches < n:
        idx = torch.randperm(n, generator=generator)[:max_patches].to(l_aia.device)
        return l_aia[:, idx], l_hmi[:, idx]
    return l_aia, l_hmi


def local_contrastive(l_aia: torch.Tensor, l_hmi: torch.Tensor, temperature: float = 0.1,
                      max_patches: int = 0, generator: torch.Generator | None = None
                      ) -> torch.Tensor:
    """Local term on patch tokens ``[B, N, D]`` (B ≥ 2): at each fixed index k, the same sample's
    AIA and HMI patch k are the positive, patch k of the other B − 1 samples the negatives.

    Mean over indices of a B-way symmetric InfoNCE; for identical orthonormal rows per index the
    value is ``log(1 + (B−1)·e^{−1/τ})``. ``max_patches`` > 0 draws that many indices at random
    (the same in both modalities).
    """
    _check_patches("local_contrastive", l_aia, l_hmi)
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    l_aia, l_hmi = _subsample(l_aia, l_hmi, max_patches, generator)
    return _nce_rows(l_aia.transpose(0, 1), l_hmi.transpose(0, 1), temperature)


def intra_sample_contrastive(l_aia: torch.Tensor, l_hmi: torch.Tensor, temperature: float = 0.1,
                             max_patches: int = 0, generator: torch.Generator | None = None
                             ) -> torch.Tensor:
    """Intra-sample term on patch tokens ``[B, N, D]`` (N ≥ 2): within each sample, AIA patch k
    and HMI patch k are the positive and the other modality's patches of **the same sample** at
    the other N − 1 locations the negatives (cross-modal InfoNCE across spatial locations).

    Mean over samples and indices of an N-way symmetric InfoNCE; for identical orthonormal
    patches the value is ``log(1 + (N−1)·e^{−1/τ})``; it is ``log N`` when all patches of a
    sample are the same (no spatial structure). ``max_patches`` as in :func:`local_contrastive`.
    """
    _check_patches("intra_sample_contrastive", l_aia, l_hmi)
    if l_aia.shape[1] < 2:
        raise ValueError(f"intra_sample_contrastive needs N >= 2 patches, got {l_aia.shape[1]}")
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    l_aia, l_hmi = _subsample(l_aia, l_hmi, max_patches, generator)
    return _nce_rows(l_aia, l_hmi, temperature)


def reconstruction(recon: torch.Tensor, target: torch.Tensor,
                   present: torch.Tensor | None = None) -> torch.Tensor:
    """Mean squared error ``[B, C, H, W]``, counting only channels with ``present [B, C]`` = 1."""
    if recon.shape != target.shape:
        raise ValueError(f"reconstruction shape {tuple(recon.shape)} != target {tuple(target.shape)}")
    err = (recon.float() - target.float()).pow(2).mean(dim=(2, 3))  # [B, C]
    if present is None:
        return err.mean()
    w = present.to(err.dtype)
    return (err * w).sum() / w.sum().clamp_min(1.0)


@dataclass
class SolarCHIPLossConfig:
    """Weights and temperature of the SolarCHIP objective (what Tune sweeps)."""

    lambda_rec: float = 1.0
    lambda_global: float = 1.0
    lambda_local: float = 1.0
    lambda_intra: float = 0.1
    temperature: float = 0.1
    local_max_patches: int = 0  # 0: every patch index in the local and intra-sample terms

    def __post_init__(self) -> None:
        if self.temperature <= 0:
            raise ValueError(f"SolarCHIPLossConfig.temperature must be > 0, got {self.temperature}")
        for name in ("lambda_rec", "lambda_global", "lambda_local", "lambda_intra"):
            if getattr(self, name) < 0:
                raise ValueError(f"SolarCHIPLossConfig.{name} must be >= 0")


def solarchip_loss(out: dict[str, torch.Tensor], cfg: SolarCHIPLossConfig,
                   present: dict[str, torch.Tensor] | None = None
                   ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Total SolarCHIP loss and its parts from :meth:`SolarCHIP.forward` outputs.

    ``present`` optionally maps ``"aia"``/``"hmi"`` to ``[B, C_m]`` channel-presence weights.
    Every term is always computed (weights may be 0) so DDP sees every parameter used.
    """
    present = present or {}
    tau = cfg.temperature
    rec = 0.5 * sum(
        reconstruction(out[f"recon_{m}"], out[f"target_{m}"], present.get(m)) for m in ("aia", "hmi")
    )
    glob = global_contrastive(out["g_aia"], out["g_hmi"], tau)
    loc = local_contrastive(out["l_aia"], out["l_hmi"], tau, cfg.local_max_patches)
    intra = intra_sample_contrastive(out["l_aia"], out["l_hmi"], tau, cfg.local_max_patches)
    total = (cfg.lambda_rec * rec + cfg.lambda_global * glob + cfg.lambda_local * loc
             + cfg.lambda_intra * intra)
    return total, {"loss_rec": rec, "loss_global": glob, "loss_local": loc, "loss_intra": intra}
