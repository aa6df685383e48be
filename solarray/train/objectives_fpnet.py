"""Objectives of the flare-forecasting stack: MAE pretraining (``mae``) and FPNet (``fpnet``).

Registered with :func:`solarray.train.objectives.register_objective`, run by the generic loop.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from solarray.train.objectives import register_objective


def _build(model_name: str, models: tuple[str, ...], objective: str,
           model_config: Mapping[str, Any], channels: tuple[str, ...]) -> nn.Module:
    from solarray.models import build

    if model_name not in models:
        raise ValueError(f"objective {objective} trains {', '.join(models)}, not {model_name!r}")
    cfg = dict(model_config)
    preset = cfg.pop("preset", None)
    cfg["channels"] = tuple(channels)
    return build(model_name, preset=preset, **cfg)


@register_objective("mae")
@dataclass
class MAEObjective:
    """MAE reconstruction on masked patches. With ``prior="ar_mask"`` PPAM reads the AR plane of
    the ``masks`` column (1 = AR; 0 and 255 = not/unknown)."""

    models: ClassVar[tuple[str, ...]] = ("mae_vit",)
    required: ClassVar[dict[str, torch.dtype]] = {"image": torch.float32}
    optional: ClassVar[dict[str, torch.dtype]] = {"present": torch.float32,
                                                  "masks": torch.uint8}

    use_present: bool = True  # drop missing channels from the loss

    def build_model(self, model_name: str, model_config: Mapping[str, Any],
                    channels: tuple[str, ...]) -> nn.Module:
        return _build(model_name, self.models, "mae", model_config, channels)

    def step(self, model: nn.Module, batch: dict[str, torch.Tensor]
             ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        core = getattr(model, "module", model)
        image = torch.nan_to_num(batch["image"])
        ar_mask = None
        if core.config.prior == "ar_mask":
            if "masks" not in batch:
                raise ValueError("mae_vit prior='ar_mask' needs the masks column in the data")
            ar_mask = batch["masks"][:, 0] == 1
        out = model(image, ar_mask=ar_mask)
        present = batch.get("present") if self.use_present else None
        loss = core.loss(out, present)
        return loss, {"loss_rec": loss.detach()}


@register_objective("fpnet")
@dataclass
class FPNetObjective:
    """Binary cross-entropy on ``label`` (0/1) with positive-class weight ``pos_weight``
    (class imbalance); the encoder may start from a pretrained checkpoint and be frozen."""

    models: ClassVar[tuple[str, ...]] = ("fpnet",)
    required: ClassVar[dict[str, torch.dtype]] = {
        "image": torch.float32, "scalars": torch.float32, "categories": torch.int64,
        "label": torch.float32}
    optional: ClassVar[dict[str, torch.dtype]] = {}

    pos_weight: float = 1.0
    encoder_checkpoint: str = ""
    freeze_encoder: bool = False

    def build_model(self, model_name: str, model_config: Mapping[str, Any],
                    channels: tuple[str, ...]) -> nn.Module:
        from solarray.models.fpnet import load_encoder

        model = _build(model_name, self.models, "fpnet", model_config, channels)
        if self.encoder_checkpoint:
            load_encoder(model, self.encoder_checkpoint)
        if self.freeze_encoder:
            for p in model.encoder.parameters():
                p.requires_grad_(False)
        return model

    def step(self, model: nn.Module, batch: dict[str, torch.Tensor]
             ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        logits = model(torch.nan_to_num(batch["image"]), batch["scalars"], batch["categories"])
        label = batch["label"].float()
        pw = torch.tensor(float(self.pos_weight), device=logits.device)
        loss = F.binary_cross_entropy_with_logits(logits, label, pos_weight=pw)
        with torch.no_grad():
            acc = ((logits > 0).float() == label).float().mean()
        return loss, {"loss_bce": loss.detach(), "accuracy": acc}
