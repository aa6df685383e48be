"""Adversarial losses for the GANs (Pix2Pix's conditional GAN, SEARCH's DCGAN of AR patches).

Pure functions of discriminator logits (any shape: one logit per image or per PatchGAN patch).
``mode="vanilla"`` is the original GAN's binary cross-entropy (Goodfellow 2014; used by Pix2Pix,
Isola 2017, and DCGAN); ``mode="lsgan"`` the least-squares GAN (Mao 2017). The generator loss is
the non-saturating one: the generator maximises log D(fake) rather than minimising log(1 − D(fake)).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

GAN_MODES = ("vanilla", "lsgan")


def _check(mode: str) -> None:
    if mode not in GAN_MODES:
        raise ValueError(f"GAN loss mode {mode!r}; expected one of {', '.join(GAN_MODES)}")


def _target_loss(logits: torch.Tensor, target: float, mode: str) -> torch.Tensor:
    full = torch.full_like(logits, target)
    if mode == "vanilla":
        return F.binary_cross_entropy_with_logits(logits, full)
    return F.mse_loss(logits, full)


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor,
                       mode: str = "vanilla") -> torch.Tensor:
    """Discriminator loss: real → 1, fake → 0, averaged over both halves (Pix2Pix halves D's loss
    so that D learns more slowly than G): ``(ℓ(real, 1) + ℓ(fake, 0)) / 2``."""
    _check(mode)
    return 0.5 * (_target_loss(real_logits, 1.0, mode) + _target_loss(fake_logits, 0.0, mode))


def generator_loss(fake_logits: torch.Tensor, mode: str = "vanilla") -> torch.Tensor:
    """Non-saturating generator loss ``ℓ(D(fake), 1)``."""
    _check(mode)
    return _target_loss(fake_logits, 1.0, mode)


__all__ = ["GAN_MODES", "discriminator_loss", "generator_loss"]
