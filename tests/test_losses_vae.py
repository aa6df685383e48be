"""sigma-VAE and β-VAE losses against values computed by hand on tiny tensors."""

from __future__ import annotations

import math

import pytest
import torch

from solarray.losses.vae import (
    analytic_log_sigma,
    beta_vae_loss,
    kl_divergence,
    sigma_vae_loss,
    softclip_log_sigma,
)


def _tiny():
    # B=1, C=2, H=1, W=2 → D = 4. Errors: channel 0 (1, 0), channel 1 (0, 2): SSE 1 and 4.
    target = torch.zeros(1, 2, 1, 2)
    recon = torch.tensor([[[[1.0, 0.0]], [[0.0, 2.0]]]])
    mu = torch.tensor([[1.0, 0.0]])
    logsigma = torch.tensor([[0.0, math.log(2.0)]])
    return recon, target, mu, logsigma


def test_kl_by_hand():
    _, _, mu, logsigma = _tiny()
    # ½[(1 + 1 − 1 − 0) + (0 + 4 − 1 − 2 ln 2)] = ½(1 + 3 − 2 ln 2)
    assert kl_divergence(mu, logsigma).item() == pytest.approx(0.5 * (4 - 2 * math.log(2)))
    assert kl_divergence(torch.zeros(3, 5), torch.zeros(3, 5)).tolist() == [0.0, 0.0, 0.0]


def test_sigma_vae_scalar_sigma_by_hand():
    recon, target, mu, logsigma = _tiny()
    kl = 0.5 * (4 - 2 * math.log(2))
    # D = 4, MSE = 5/4, σ = e^0.5: D/(2σ²)·MSE + D·log σ = 5/(2e) + 2
    out = sigma_vae_loss(recon, target, mu, logsigma, torch.tensor(0.5), clip=False)
    assert out["loss"].item() == pytest.approx(kl + 5 / (2 * math.e) + 2.0, rel=1e-6)
    assert out["mse"].item() == pytest.approx(1.25)
    # σ = 1: the reconstruction term is D/2·MSE = 2.5 (the β-VAE with β = 1).
    out1 = sigma_vae_loss(recon, target, mu, logsigma, torch.tensor(0.0), clip=False)
    beta = beta_vae_loss(recon, target, mu, logsigma, beta=1.0)
    assert out1["loss"].item() == pytest.approx(kl + 2.5)
    assert beta["loss"].item() == pytest.approx(out1["loss"].item())


def test_sigma_vae_per_channel_and_analytic_by_hand():
    recon, target, mu, logsigma = _tiny()
    kl = 0.5 * (4 - 2 * math.log(2))
    # channel 0: σ=1 → 1/2 + 0; channel 1: log σ = ln 2 → 4/(2·4) + 2 ln 2
    ls = torch.tensor([0.0, math.log(2.0)])
    out = sigma_vae_loss(recon, target, mu, logsigma, ls, clip=False)
    assert out["loss"].item() == pytest.approx(kl + 0.5 + 0.5 + 2 * math.log(2), rel=1e-6)
    # analytic: σ² = MSE = 5/4 → D/2 + D/2·ln(5/4)
    out = sigma_vae_loss(recon, target, mu, logsigma, None, clip=False)
    assert out["loss"].item() == pytest.approx(kl + 2 + 2 * math.log(1.25), rel=1e-6)
    assert analytic_log_sigma(recon, target).item() == pytest.approx(0.5 * math.log(1.25))


def test_beta_and_batch_mean_and_missing_channels():
    recon, target, mu, logsigma = _tiny()
    kl = 0.5 * (4 - 2 * math.log(2))
    assert beta_vae_loss(recon, target, mu, logsigma, beta=4.0)["loss"].item() == \
        pytest.approx(4 * kl + 2.5)
    # Two identical samples: the batch mean equals one sample's loss.
    two = [torch.cat([t, t]) for t in (recon, target, mu, logsigma)]
    assert beta_vae_loss(*two, beta=4.0)["loss"].item() == pytest.approx(4 * kl + 2.5)
    # Channel 1 missing: only channel 0's SSE (1) and D = 2 count.
    w = torch.tensor([[1.0, 0.0]])
    out = sigma_vae_loss(recon, target, mu, logsigma, torch.tensor(0.5), weight=w, clip=False)
    assert out["loss"].item() == pytest.approx(kl + 1 / (2 * math.e) + 1.0, rel=1e-6)


def test_softclip_and_bad_shapes():
    assert softclip_log_sigma(torch.tensor(-50.0)).item() == pytest.approx(-6.0, abs=1e-6)
    assert softclip_log_sigma(torch.tensor(3.0)).item() == pytest.approx(3.0, abs=1e-3)
    recon, target, mu, logsigma = _tiny()
    with pytest.raises(ValueError, match="one value per channel"):
        sigma_vae_loss(recon, target, mu, logsigma, torch.zeros(3))
    with pytest.raises(ValueError, match=r"\[B, C, H, W\]"):
        sigma_vae_loss(recon[0], target[0], mu, logsigma, None)


def test_learnable_sigma_converges_to_rmse():
    """Minimising over σ alone gives σ² = MSE (the analytic σ)."""
    recon, target, mu, logsigma = _tiny()
    ls = torch.zeros((), requires_grad=True)
    opt = torch.optim.Adam([ls], lr=0.05)
    for _ in range(400):
        opt.zero_grad()
        sigma_vae_loss(recon, target, mu, logsigma, ls, clip=False)["loss"].backward()
        opt.step()
    assert ls.item() == pytest.approx(0.5 * math.log(1.25), abs=1e-3)
