"""The SolarCHIP objective (``solarchip``): reconstruction + global, local and intra-sample
contrastive terms (:mod:`solarray.losses.contrastive`) for ``solarchip_vit``/``solarchip_cnn``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import nn

from solarray.losses.contrastive import SolarCHIPLossConfig, solarchip_loss
from solarray.train.objectives.base import build_model_for, register_objective


@register_objective("solarchip")
@dataclass
class SolarCHIPObjective(SolarCHIPLossConfig):
    """SolarCHIP: reconstruction + global + local + intra-sample contrastive terms."""

    models: ClassVar[tuple[str, ...]] = ("solarchip_vit", "solarchip_cnn")
    required: ClassVar[dict[str, torch.dtype]] = {"image": torch.float32}
    optional: ClassVar[dict[str, torch.dtype]] = {"present": torch.float32}

    def build_model(self, model_name: str, model_config: Mapping[str, Any],
                    channels: tuple[str, ...]) -> nn.Module:
        return build_model_for(self, model_name, model_config, channels=tuple(channels))

    def step(self, model: nn.Module, batch: dict[str, torch.Tensor]
             ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        image = torch.nan_to_num(batch["image"])
        present = None
        if "present" in batch:  # absent channels: zero input, no reconstruction target
            image = image * batch["present"][:, :, None, None].to(image.dtype)
            core = getattr(model, "module", model)
            present = {m: batch["present"][:, core.channel_index(m)] for m in ("aia", "hmi")}
        out = model(image)
        total, parts = solarchip_loss(out, self, present)
        return total, {k: v.detach() for k, v in parts.items()}

    def evaluate(self, model: nn.Module, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Validation metrics: the loss and its parts, plus in-batch HMI→AIA retrieval on the
        projected class tokens (``retrieval_top1``, mean reciprocal rank ``retrieval_mrr``; chance
        ≈ 1/B and ≈ ln(B)/B). Unlike the weighted loss, retrieval is comparable across λ and τ."""
        image = torch.nan_to_num(batch["image"])
        out = model(image)
        present = None
        if "present" in batch:
            core = getattr(model, "module", model)
            present = {m: batch["present"][:, core.channel_index(m)] for m in ("aia", "hmi")}
        total, parts = solarchip_loss(out, self, present)
        q = torch.nn.functional.normalize(out["g_hmi"].float(), dim=-1)
        k = torch.nn.functional.normalize(out["g_aia"].float(), dim=-1)
        sim = q @ k.T
        rank = (sim > sim.diagonal()[:, None]).sum(dim=1).float()  # 0 = the true pair is best
        return {"loss": total.detach(), **{n: v.detach() for n, v in parts.items()},
                "retrieval_top1": (rank == 0).float().mean(),
                "retrieval_mrr": (1.0 / (rank + 1.0)).mean()}
