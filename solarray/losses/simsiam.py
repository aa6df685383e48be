"""SimSiam's loss (Chen & He 2021): symmetrised negative cosine similarity with stop-gradient.

``D(p, z) = −cos(p, sg(z))`` averaged over the batch; the loss is ``½ D(p1, z2) + ½ D(p2, z1)``
(minimum −1). The stop-gradient on ``z`` is what keeps SimSiam from collapsing without negatives.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def negative_cosine(p: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """``−mean_b cos(p_b, z_b)`` with no gradient through ``z`` (``[B, D]`` each)."""
    return -F.cosine_similarity(p, z.detach(), dim=-1).mean()


def simsiam_loss(p1: torch.Tensor, p2: torch.Tensor, z1: torch.Tensor,
                 z2: torch.Tensor) -> torch.Tensor:
    """``½ D(p1, z2) + ½ D(p2, z1)``."""
    return 0.5 * (negative_cosine(p1, z2) + negative_cosine(p2, z1))


def collapse_std(z: torch.Tensor) -> torch.Tensor:
    """Mean over dimensions of the per-dimension std of the L2-normalised ``z`` ``[B, D]``:
    ≈ 1/√D for a healthy representation, 0 when every output is the same (collapse)."""
    return F.normalize(z.detach().float(), dim=-1).std(dim=0).mean()


__all__ = ["collapse_std", "negative_cosine", "simsiam_loss"]
