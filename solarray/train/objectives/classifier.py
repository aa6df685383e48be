"""The Hale/McIntosh classifier objective (``ar_classifier``): class-balanced cross-entropy per
longitude zone (:func:`solarray.losses.classification.zoned_cross_entropy`) on augmented crops.

Batch columns: ``image`` float32 ``[B, 1, S, S]`` (scaled magnetogram crops,
:mod:`solarray.analysis.crops`), ``label`` int64 ``[B]`` (index into the task's classes),
``lon`` float32 ``[B]`` (Stonyhurst longitude, deg: picks the zone network).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch
from torch import nn

from solarray.analysis.crop_augment import augment
from solarray.losses.classification import zoned_cross_entropy
from solarray.train.objectives.base import build_model_for, register_objective


@register_objective("ar_classifier")
@dataclass
class ClassifierObjective:
    """Cross-entropy of each zone's network on its samples, summed. ``class_weights_inner`` /
    ``class_weights_outer``: per-class loss weights per zone (``()`` uniform;
    :func:`solarray.losses.classification.class_weights` gives inverse frequencies).
    ``augment``: random 90° rotations, scaling, shifts and brightness, drawn from a generator
    seeded with ``seed``. ``pretrained_encoder`` (ViT backbone only) initialises both zones."""

    models: ClassVar[tuple[str, ...]] = ("ar_classifier",)
    #: What it trains on, for users who point ``solarray pretrain`` at ingest's shards.
    data_source: ClassVar[str] = ("labelled region crops (`solarray.train.fit_classifier`, run by "
                                  "`solarray demo`)")
    required: ClassVar[dict[str, torch.dtype]] = {
        "image": torch.float32, "label": torch.int64, "lon": torch.float32}
    optional: ClassVar[dict[str, torch.dtype]] = {}

    class_weights_inner: list[float] = field(default_factory=list)
    class_weights_outer: list[float] = field(default_factory=list)
    augment: bool = True
    seed: int = 0
    pretrained_encoder: str = ""
    pretrained_instrument: str = ""
    _generator: torch.Generator | None = field(default=None, init=False, repr=False)

    def build_model(self, model_name: str, model_config: Mapping[str, Any],
                    channels: tuple[str, ...]) -> nn.Module:
        return build_model_for(self, model_name, model_config, channels=tuple(channels),
                               pretrained=self.pretrained_encoder,
                               instrument=self.pretrained_instrument)

    def step(self, model: nn.Module, batch: dict[str, torch.Tensor]
             ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        core = getattr(model, "module", model)
        x, y, lon = batch["image"], batch["label"].long(), batch["lon"].float()
        if self.augment:
            if self._generator is None:
                self._generator = torch.Generator().manual_seed(self.seed)
            x = augment(x, self._generator)
        logits = model(x, lon)
        loss, parts = zoned_cross_entropy(logits, y, core.inner_mask(lon),
                                          self.class_weights_inner, self.class_weights_outer)
        with torch.no_grad():
            parts["accuracy"] = (logits.argmax(dim=1) == y).float().mean()
        return loss, parts
