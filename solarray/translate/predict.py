"""Generating images with a translation checkpoint (``pix2pix`` or ``controlnet_translator``)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

TRANSLATORS = ("pix2pix", "controlnet_translator")


def check_translator(model: nn.Module, source: str = "checkpoint") -> None:
    """ValueError unless ``model`` is a translation model (names its inputs and outputs)."""
    name = getattr(model, "model_name", type(model).__name__)
    if name not in TRANSLATORS:
        raise ValueError(f"{source}: holds model {name!r}, not a translation model "
                         f"({', '.join(TRANSLATORS)})")


def check_outputs(model: nn.Module, wanted: Sequence[str], source: str = "checkpoint") -> None:
    """ValueError naming channels the model was not trained to generate."""
    missing = [c for c in wanted if c not in model.config.outputs]
    if missing:
        raise ValueError(f"{source}: was not trained to generate {missing} (it generates "
                         f"{list(model.config.outputs)} from {list(model.config.inputs)})")


@torch.no_grad()
def generate(model: nn.Module, x: np.ndarray, batch_size: int = 16) -> np.ndarray:
    """Scaled inputs ``[N, C_in, H, W]`` → generated scaled outputs ``[N, C_out, H, W]`` (eval
    mode: BN running statistics, no dropout)."""
    model.eval()
    device = next(model.parameters()).device
    out = []
    for i in range(0, len(x), batch_size):
        xb = torch.as_tensor(np.ascontiguousarray(x[i:i + batch_size]), dtype=torch.float32,
                             device=device)
        out.append(model(xb).float().cpu().numpy())
    return np.concatenate(out) if out else np.zeros((0, len(model.config.outputs),
                                                     *x.shape[-2:]), np.float32)


__all__ = ["TRANSLATORS", "check_outputs", "check_translator", "generate"]
