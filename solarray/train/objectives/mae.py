"""The MAE objective (``mae``): reconstruction of the masked patches for ``mae_vit``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import nn

from solarray.train.objectives.base import build_model_for, register_objective


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
        return build_model_for(self, model_name, model_config, channels=tuple(channels))

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
