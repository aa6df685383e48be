"""The SPNet objective (``spnet``): weighted per-class BCE (+ optional Dice) on ``masks``.

Batch columns: ``image`` float32 ``[B, C_data, H, W]``, ``masks`` uint8 ``[B, 3, H, W]`` (AR, CH,
FL; 255 = unknown, ignored), optional ``present`` float32 ``[B, C_data]``. The model may use a
subset of the data's channels (``model_config={"channels": ["hmi_m"]}``); the objective picks
them by name. Modality dropout happens inside the model in training mode.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch
from torch import nn

from solarray.losses.segmentation import SegmentationLossConfig, segmentation_loss
from solarray.train.objectives.base import (
    build_model_for,
    check_trains,
    register_objective,
)


@register_objective("spnet")
@dataclass
class SPNetObjective(SegmentationLossConfig):
    """SPNet training step. ``pretrained_encoder``: a ViT/MAE/SolarCHIP checkpoint to initialise
    the encoder (``pretrained_instrument`` picks SolarCHIP's ``aia``/``hmi`` encoder; by default
    the one of the model's channels)."""

    models: ClassVar[tuple[str, ...]] = ("spnet",)
    required: ClassVar[dict[str, torch.dtype]] = {"image": torch.float32, "masks": torch.uint8}
    optional: ClassVar[dict[str, torch.dtype]] = {"present": torch.float32}

    pretrained_encoder: str = ""
    pretrained_instrument: str = ""
    _index: list[int] = field(default_factory=list, init=False, repr=False)

    def build_model(self, model_name: str, model_config: Mapping[str, Any],
                    channels: tuple[str, ...]) -> nn.Module:
        check_trains(self, model_name)
        cfg = dict(model_config)
        use = tuple(cfg.pop("channels", None) or channels)
        missing = [c for c in use if c not in channels]
        if missing:
            raise ValueError(f"spnet model channel(s) {', '.join(missing)} are not in the "
                             f"training data (data channels: {', '.join(channels)})")
        self._index = [list(channels).index(c) for c in use]
        return build_model_for(self, model_name, cfg, channels=use,
                               pretrained=self.pretrained_encoder,
                               instrument=self.pretrained_instrument)

    def step(self, model: nn.Module, batch: dict[str, torch.Tensor]
             ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        image = batch["image"]
        idx = self._index or list(range(image.shape[1]))
        present = batch.get("present")
        present = image.new_ones(image.shape[0], image.shape[1]) if present is None else present
        logits = model(image[:, idx], present[:, idx])
        return segmentation_loss(logits, batch["masks"], self)
