"""SolarCHIP's multi-granularity contrastive objective (Shen 2025; REFERENCE.md), as pure functions.

``L = λ_rec·L_rec + λ_g·L_global + λ_l·L_local + λ_i·L_intra`` with temperature τ:

* ``L_global``: symmetric InfoNCE between the AIA and HMI class tokens of a batch; the co-temporal
  pair (same row) is the positive, every other sample of the batch a negative.
* ``L_local``: symmetric InfoNCE between AIA and HMI patch tokens at the same spatial index of
  the same sample; patches at other indices and of other samples are negatives.
* ``L_intra``: within one sample and one modality, patches at different positions are pushed
  apart: ``log mean_{k≠l} exp(cos(p_k, p_l)/τ)``, averaged over samples and both modalities. It is
  0 for mutually orthogonal patches and 1/τ when all patches of a sample are identical.
* ``L_rec``: mean squared error of both autoencoders' reconstructions, over present channels.

Embeddings are L2-normalised inside every contrastive term (cosine similarity).
"""

from __future__ import annotations

import math
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


def local_contrastive(l_aia: torch.Tensor, l_hmi: torch.Tensor, temperature: float = 0.1,
                      max_patches: int = 0, generator: torch.Generator | None = None
                      ) -> torch.Tensor:
    """Local term on patch tokens ``[B, N, D]``: same sample and index are positives.

    All other (sample, index) pairs of the batch are negatives. ``max_patches`` > 0 draws that many
    patch indices at random (the same indices in both modalities) to bound the ``(B·K)²`` logits.
    """
    if l_aia.shape != l_hmi.shape or l_aia.dim() != 3:
        raise ValueError(f"local_contrastive expects two [B, N, D] tensors of equal shape, got "
                         f"{tuple(l_aia.shape)} and {tuple(l_hmi.shape)}")
    n = l_aia.shape[1]
    if 0 < max_patches < n:
        idx = torch.randperm(n, generator=generator)[:max_patches].to(l_aia.device)
        l_aia, l_hmi = l_aia[:, idx], l_hmi[:, idx]
    d = l_aia.shape[-1]
    return info_nce(l_aia.reshape(-1, d), l_hmi.reshape(-1, d), temperature)


def intra_sample(patches: torch.Tensor, temperature: float = 0.1) -> torch.Tensor:
    """Spread patches of one sample apart: mean over samples of ``log mean_{k≠l} exp(cos_kl/τ)``.

    ``patches``: ``[B, N, D]`` with N ≥ 2. 0 when the patches of each sample are orthogonal, 1/τ
    when they are identical; lower is more spread.
    """
    if patches.dim() != 3 or patches.shape[1] < 2:
        raise ValueError(f"intra_sample expects [B, N>=2, D], got {tuple(patches.shape)}")
    z = F.normalize(patches.float(), dim=-1)
    sim = z @ z.transpose(1, 2) / temperature  # [B, N, N]
    n = sim.shape[1]
    off = ~torch.eye(n, dtype=torch.bool, device=sim.device)
    lse = torch.logsumexp(sim.masked_select(off).view(sim.shape[0], n * (n - 1)), dim=1)
    return (lse - math.log(n * (n - 1))).mean()


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
    local_max_patches: int = 0  # 0: use every patch in the local term

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
    intra = 0.5 * (intra_sample(out["l_aia"], tau) + intra_sample(out["l_hmi"], tau))
    total = (cfg.lambda_rec * rec + cfg.lambda_global * glob + cfg.lambda_local * loc
             + cfg.lambda_intra * intra)
    return total, {"loss_rec": rec, "loss_global": glob, "loss_local": loc, "loss_intra": intra}
