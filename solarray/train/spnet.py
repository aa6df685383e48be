"""The SPNet objective: weighted per-class BCE (+ optional Dice) on ``masks`` for ``spnet`` models.

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
from solarray.train.objectives import register_objective


@register_objective("spnet")
@dataclass
class SPNetObjective(SegmentationLossConfig):
    """SPNet training step. ``pretrained_encoder``: a ViT/MAE checkpoint to initialise the encoder."""

    models: ClassVar[tuple[str, ...]] = ("spnet",)
    required: ClassVar[dict[str, torch.dtype]] = {"image": torch.float32, "masks": torch.uint8}
    optional: ClassVar[dict[str, torch.dtype]] = {"present": torch.float32}

    pretrained_encoder: str = ""
    _index: list[int] = field(default_factory=list, init=False, repr=False)

    def build_model(self, model_name: str, model_config: Mapping[str, Any],
                    channels: tuple[str, ...]) -> nn.Module:
        from solarray.models import build
        from solarray.models.spnet import load_encoder_weights

        if model_name not in self.models:
            raise ValueError(f"objective spnet trains {', '.join(self.models)}, not {model_name!r}")
        cfg = dict(model_config)
        preset = cfg.pop("preset", None)
        use = tuple(cfg.pop("channels", None) or channels)
        missing = [c for c in use if c not in channels]
        if missing:
            raise ValueError(f"spnet model channel(s) {', '.join(missing)} are not in the "
                             f"training data (data channels: {', '.join(channels)})")
        self._index = [list(channels).index(c) for c in use]
        model = build(model_name, preset=preset, channels=use, **cfg)
        if self.pretrained_encoder:
            load_encoder_weights(model, self.pretrained_encoder)
        return model

    def step(self, model: nn.Module, batch: dict[str, torch.Tensor]
             ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        image = batch["image"]
        idx = self._index or list(range(image.shape[1]))
        present = batch.get("present")
        present = image.new_ones(image.shape[0], image.shape[1]) if present is None else present
        logits = model(image[:, idx], present[:, idx])
        return segmentation_loss(logits, batch["masks"], self)
