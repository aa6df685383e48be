"""The DCGAN objective (``ar_gan``): two phases, the discriminator then the generator.

Per batch: the discriminator learns real patches → 1, generated → 0 (its latents ``z`` are
handed to the generator phase through ``shared``); then the generator, through the
freshly updated discriminator, learns to be taken for real (non-saturating loss). Adam with
β₁ = 0.5 and lr 2e-4 as in DCGAN, unless the objective's fields say otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import nn

from solarray.losses.gan import discriminator_loss, generator_loss
from solarray.train.objectives.base import build_model_for, register_objective


@register_objective("ar_gan")
@dataclass
class ARGANObjective:
    models: ClassVar[tuple[str, ...]] = ("ar_gan",)
    required: ClassVar[dict[str, torch.dtype]] = {"image": torch.float32}
    optional: ClassVar[dict[str, torch.dtype]] = {}
    phases: ClassVar[tuple[str, ...]] = ("discriminator", "generator")

    lr: float = 2e-4
    beta1: float = 0.5
    gan_mode: str = "vanilla"

    def build_model(self, model_name: str, model_config: Mapping[str, Any],
                    channels: tuple[str, ...]) -> nn.Module:
        return build_model_for(self, model_name, model_config, channels=tuple(channels))

    def phase_parameters(self, model: nn.Module, phase: str) -> Iterable[nn.Parameter]:
        core = getattr(model, "module", model)
        return (core.discriminator if phase == "discriminator" else core.generator).parameters()

    def phase_optimizer(self, phase: str) -> dict[str, Any]:
        return {"lr": self.lr, "betas": (self.beta1, 0.999), "weight_decay": 0.0}

    def step(self, model: nn.Module, batch: dict[str, torch.Tensor], phase: str | None = None,
             shared: dict[str, Any] | None = None) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        shared = {} if shared is None else shared
        real = torch.nan_to_num(batch["image"]).clamp(-1, 1)
        core = getattr(model, "module", model)
        if phase in (None, "discriminator"):
            shared["z"] = z = core.sample_z(real.shape[0])
            with torch.no_grad():
                fake = model(z=z, mode="generate")
            d_real = model(real, mode="discriminate")
            d_fake = model(fake.detach(), mode="discriminate")
            loss = discriminator_loss(d_real, d_fake, self.gan_mode)
            metrics = {"loss_d": loss.detach(), "d_real": torch.sigmoid(d_real).mean().detach(),
                       "d_fake": torch.sigmoid(d_fake).mean().detach()}
            if phase == "discriminator":
                return loss, metrics
        # A fresh forward of the generator in this phase (under DDP each phase's graph must come
        # from its own forward through the wrapper), with the discriminator phase's z.
        z = shared.get("z")
        fake = model(z=core.sample_z(real.shape[0]) if z is None else z, mode="generate")
        loss = generator_loss(model(fake, mode="discriminate"), self.gan_mode)
        return loss, {"loss_g": loss.detach()}


__all__ = ["ARGANObjective"]
