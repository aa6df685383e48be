"""The plain autoencoder objective (``autoencoder``): pixel reconstruction for ``vit_ae`` and
``cnn_ae``, the backbones SolarCHIP builds on, trained alone (no contrastive pairing).

The loss is the mean squared error over the channels present in each sample (``present`` marks
the channels ingest found; a missing channel is NaN-filled and weighs nothing), so a sample with
one instrument off still trains the others.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import nn

from solarray.train.objectives.base import build_model_for, register_objective


def masked_mse(recon: torch.Tensor, image: torch.Tensor,
               present: torch.Tensor | None = None) -> torch.Tensor:
    """Mean squared error over pixels of the present channels (``present`` ``[B, C]`` in 0/1);
    every channel when ``present`` is None. 0 when nothing is present."""
    err = (recon - image) ** 2  # [B, C, H, W]
    if present is None:
        return err.mean()
    w = present.to(err.dtype)[:, :, None, None].expand_as(err)
    return (err * w).sum() / w.sum().clamp_min(1.0)


@register_objective("autoencoder")
@dataclass
class AutoencoderObjective:
    """Reconstruction of ``image`` (``[B, C, H, W]``) by ``vit_ae`` or ``cnn_ae``."""

    models: ClassVar[tuple[str, ...]] = ("vit_ae", "cnn_ae")
    required: ClassVar[dict[str, torch.dtype]] = {"image": torch.float32}
    optional: ClassVar[dict[str, torch.dtype]] = {"present": torch.float32}

    use_present: bool = True  # drop missing channels from the loss

    def build_model(self, model_name: str, model_config: Mapping[str, Any],
                    channels: tuple[str, ...]) -> nn.Module:
        return build_model_for(self, model_name, model_config, in_channels=len(channels))

    def step(self, model: nn.Module, batch: dict[str, torch.Tensor]
             ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        image = torch.nan_to_num(batch["image"])
        present = batch.get("present") if self.use_present else None
        loss = masked_mse(model(image), image, present)
        return loss, {"mse": loss.detach()}


__all__ = ["AutoencoderObjective", "masked_mse"]
