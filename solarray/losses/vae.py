"""VAE losses as pure functions: the sigma-VAE (Rybkin et al. 2020; Brown 2023 Eq. 2) and the
β-VAE (Brown 2023 Eq. 1), per sample and averaged over the batch.

sigma-VAE, one sample of ``D`` = pixels × channels dimensions::

    L = KL + D / (2σ²) · MSE + D · log σ          (σ a learnable scalar)
    L = KL + Σ_c [ D_c / (2σ_c²) · MSE_c + D_c · log σ_c ]   (σ per channel, D_c = pixels)

and the *analytic* σ: σ² = the batch MSE (the σ that minimises L for a fixed reconstruction), so
``L = KL + D/2 + D/2 · log MSE``. The constant ``D/2 · log 2π`` of the Gaussian likelihood is left
out, as in the seed. β-VAE: ``L = β · KL + D/2 · MSE``.

KL is that of the diagonal Gaussian posterior N(μ, σ_z²) from N(0, I), summed over the latent
dimensions: ``KL = ½ Σ (μ² + σ_z² − 1 − 2 log σ_z)``. Latent log σ_z (``logsigma``) is what the
encoder outputs.

Missing channels: ``weight`` ``[B, C]`` (1 present, 0 missing) drops them from the
reconstruction term and from ``D``.
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

#: Lower bound of log σ (softly enforced): σ ≥ e⁻⁶ keeps 1/σ² finite when a batch is reproduced
#: almost exactly (Rybkin et al.'s ``softclip``).
MIN_LOG_SIGMA = -6.0

SIGMA_MODES = ("scalar", "channel", "analytic")


def kl_divergence(mu: torch.Tensor, logsigma: torch.Tensor) -> torch.Tensor:
    """KL(N(μ, σ²) ‖ N(0, I)) per sample ``[B]``, summed over the latent axis (μ, log σ ``[B, K]``)."""
    return 0.5 * (mu.pow(2) + torch.exp(2.0 * logsigma) - 1.0 - 2.0 * logsigma).sum(dim=1)


def softclip_log_sigma(log_sigma: torch.Tensor, low: float = MIN_LOG_SIGMA) -> torch.Tensor:
    """``low + softplus(log σ − low)``: log σ, smoothly bounded below by ``low``."""
    return low + F.softplus(log_sigma - low)


def _sse_and_count(recon: torch.Tensor, target: torch.Tensor, weight: torch.Tensor | None
                   ) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel sums of squared error ``[C]`` and of counted pixels ``[C]`` over the batch."""
    if recon.shape != target.shape or recon.dim() != 4:
        raise ValueError(f"recon and target must both be [B, C, H, W], got {tuple(recon.shape)} "
                         f"and {tuple(target.shape)}")
    sq = (recon - target).pow(2)
    pixels = recon.shape[2] * recon.shape[3]
    if weight is None:
        return sq.sum(dim=(0, 2, 3)), torch.full((recon.shape[1],), float(pixels) * recon.shape[0],
                                                 device=recon.device, dtype=sq.dtype)
    w = weight.to(sq.dtype)
    if w.shape != recon.shape[:2]:
        raise ValueError(f"weight must be [B, C] = {tuple(recon.shape[:2])}, got {tuple(w.shape)}")
    return (sq * w[:, :, None, None]).sum(dim=(0, 2, 3)), w.sum(dim=0) * pixels


def analytic_log_sigma(recon: torch.Tensor, target: torch.Tensor,
                       weight: torch.Tensor | None = None) -> torch.Tensor:
    """log σ with σ² = the batch MSE over every counted pixel and channel (a scalar tensor)."""
    sse, n = _sse_and_count(recon, target, weight)
    return 0.5 * torch.log(sse.sum() / n.sum().clamp_min(1.0))


def sigma_vae_loss(recon: torch.Tensor, target: torch.Tensor, mu: torch.Tensor,
                   logsigma: torch.Tensor, log_sigma: torch.Tensor | None = None,
                   weight: torch.Tensor | None = None, clip: bool = True
                   ) -> dict[str, torch.Tensor]:
    """The sigma-VAE loss, mean over the batch.

    ``recon``/``target`` ``[B, C, H, W]``; ``mu``/``logsigma`` ``[B, K]`` (latent posterior);
    ``log_sigma``: the decoder's log σ — a scalar tensor, a ``[C]`` tensor (per channel), or
    ``None`` for the analytic σ. ``clip``: softly bound log σ below by :data:`MIN_LOG_SIGMA`.
    Returns ``{"loss", "kl", "rec", "mse", "log_sigma"}`` (``rec`` the reconstruction term per
    sample, ``mse`` the batch MSE, ``log_sigma`` the mean decoder log σ used).
    """
    b = recon.shape[0]
    sse, n = _sse_and_count(recon, target, weight)
    if log_sigma is None:
        log_sigma = 0.5 * torch.log(sse.sum() / n.sum().clamp_min(1.0))
    if clip:
        log_sigma = softclip_log_sigma(log_sigma)
    if log_sigma.dim() == 0:
        ls = log_sigma.expand(sse.shape[0])
    elif log_sigma.shape == sse.shape:
        ls = log_sigma
    else:
        raise ValueError(f"log_sigma must be a scalar or one value per channel ({sse.shape[0]}), "
                         f"got shape {tuple(log_sigma.shape)}")
    rec = (sse * torch.exp(-2.0 * ls) / 2.0 + n * ls).sum() / b
    kl = kl_divergence(mu, logsigma).mean()
    return {"loss": kl + rec, "kl": kl, "rec": rec, "mse": sse.sum() / n.sum().clamp_min(1.0),
            "log_sigma": ls.mean()}


def beta_vae_loss(recon: torch.Tensor, target: torch.Tensor, mu: torch.Tensor,
                  logsigma: torch.Tensor, beta: float = 1.0,
                  weight: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
    """The β-VAE loss ``β·KL + D/2·MSE`` per sample, mean over the batch (shapes as
    :func:`sigma_vae_loss`). Returns ``{"loss", "kl", "rec", "mse"}``."""
    b = recon.shape[0]
    sse, n = _sse_and_count(recon, target, weight)
    rec = sse.sum() / 2.0 / b
    kl = kl_divergence(mu, logsigma).mean()
    return {"loss": beta * kl + rec, "kl": kl, "rec": rec,
            "mse": sse.sum() / n.sum().clamp_min(1.0)}


__all__ = ["MIN_LOG_SIGMA", "SIGMA_MODES", "analytic_log_sigma", "beta_vae_loss", "kl_divergence",
           "sigma_vae_loss", "softclip_log_sigma"]
