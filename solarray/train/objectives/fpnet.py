"""The FPNet objective (``fpnet``): class-weighted binary cross-entropy on the ≥M-flare label."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from solarray.train.objectives.base import build_model_for, register_objective


@register_objective("fpnet")
@dataclass
class FPNetObjective:
    """Binary cross-entropy on ``label`` (0/1) with positive-class weight ``pos_weight``
    (class imbalance); the encoder may start from a pretrained checkpoint
    (:func:`solarray.models.pretrained.load_encoder`; ``encoder_instrument`` picks SolarCHIP's
    ``aia``/``hmi`` encoder) and be frozen."""

    models: ClassVar[tuple[str, ...]] = ("fpnet",)
    #: What it trains on, for users who point ``solarray pretrain`` at ingest's shards.
    data_source: ClassVar[str] = "FPNet's per-region tables (`solarray train-fpnet`)"
    required: ClassVar[dict[str, torch.dtype]] = {
        "image": torch.float32, "scalars": torch.float32, "categories": torch.int64,
        "label": torch.float32}
    optional: ClassVar[dict[str, torch.dtype]] = {}

    pos_weight: float = 1.0
    encoder_checkpoint: str = ""
    encoder_instrument: str = ""
    freeze_encoder: bool = False

    def build_model(self, model_name: str, model_config: Mapping[str, Any],
                    channels: tuple[str, ...]) -> nn.Module:
        model = build_model_for(self, model_name, model_config, channels=tuple(channels),
                                pretrained=self.encoder_checkpoint,
                                instrument=self.encoder_instrument)
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
