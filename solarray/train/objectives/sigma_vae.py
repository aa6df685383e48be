"""The sigma-VAE objective (``sigma_vae``): Brown 2023's loss for ``sigma_vae`` models, or the β-VAE
loss for comparison (``loss="beta"``). One optimiser; the decoder σ (when learnable) is a model
parameter, so AdamW trains it with the weights.

The loss is divided by ``D`` = pixels × channels when ``per_dim`` (the default): the same optimum
and the same KL-to-reconstruction balance as the seed's Eq. 2, with values of order 1 so the loop's
gradient clipping behaves the same at every image size.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import nn

from solarray.losses.vae import beta_vae_loss, sigma_vae_loss
from solarray.train.objectives.base import build_model_for, register_objective

LOSSES = ("sigma", "beta")


def _corr(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    a, b = a - a.mean(), b - b.mean()
    return (a * b).sum() / torch.sqrt((a * a).sum() * (b * b).sum()).clamp_min(1e-12)


@register_objective("sigma_vae")
@dataclass
class SigmaVAEObjective:
    """sigma-VAE (or β-VAE) training of ``sigma_vae``; ``present`` drops missing channels."""

    models: ClassVar[tuple[str, ...]] = ("sigma_vae",)
    required: ClassVar[dict[str, torch.dtype]] = {"image": torch.float32}
    optional: ClassVar[dict[str, torch.dtype]] = {"present": torch.float32}

    loss: str = "sigma"  # sigma | beta
    beta: float = 1.0  # β of the β-VAE loss
    per_dim: bool = True  # divide the loss by D = pixels × channels
    use_present: bool = True

    def __post_init__(self) -> None:
        if self.loss not in LOSSES:
            raise ValueError(f"sigma_vae objective: loss must be one of {', '.join(LOSSES)}, "
                             f"got {self.loss!r}")
        if self.beta < 0:
            raise ValueError(f"sigma_vae objective: beta must be ≥ 0, got {self.beta}")

    def build_model(self, model_name: str, model_config: Mapping[str, Any],
                    channels: tuple[str, ...]) -> nn.Module:
        return build_model_for(self, model_name, model_config, channels=tuple(channels))

    def losses(self, model: nn.Module, batch: dict[str, torch.Tensor]
               ) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
        """(model outputs, loss terms) for a batch."""
        core = getattr(model, "module", model)
        image = torch.nan_to_num(batch["image"])
        weight = batch.get("present") if self.use_present else None
        out = model(image)
        if self.loss == "sigma":
            terms = sigma_vae_loss(out["recon"], image, out["mu"], out["logsigma"],
                                   core.log_sigma, weight=weight)
        else:
            terms = beta_vae_loss(out["recon"], image, out["mu"], out["logsigma"], self.beta,
                                  weight=weight)
        if self.per_dim:
            d = float(image[0].numel())
            terms = {**terms, "loss": terms["loss"] / d, "kl": terms["kl"] / d,
                     "rec": terms["rec"] / d}
        return out, terms

    def step(self, model: nn.Module, batch: dict[str, torch.Tensor]
             ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        _, terms = self.losses(model, batch)
        return terms["loss"], {k: v.detach() for k, v in terms.items() if k != "loss"}

    @torch.no_grad()
    def evaluate(self, model: nn.Module, batch: dict[str, torch.Tensor]) -> dict[str, float]:
        """Validation: the loss terms (posterior mean decoded, no sampling) and the pixel
        correlation of the whole batch (scaled units)."""
        out, terms = self.losses(model, batch)  # eval mode: z = μ
        image = torch.nan_to_num(batch["image"])
        return {"loss": float(terms["loss"]), "mse": float(terms["mse"]),
                "kl": float(terms["kl"]), "corr": float(_corr(out["recon"], image))}


__all__ = ["LOSSES", "SigmaVAEObjective"]
