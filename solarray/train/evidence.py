"""Learning evidence for representation models: run a model's ``embed`` over arrays and score the
embeddings with :mod:`solarray.metrics.representation` (cross-modal retrieval, linear probe)."""

from __future__ import annotations

import numpy as np
import torch

from solarray.metrics.representation import linear_probe_tss, retrieval_accuracy


@torch.no_grad()
def embed_arrays(model: torch.nn.Module, images: np.ndarray, batch_size: int = 64
                 ) -> dict[str, np.ndarray]:
    """Run ``model.embed`` over ``images [N, C, H, W]`` in batches → ``{name: [N, D]}`` arrays."""
    model.eval()
    parts: dict[str, list[np.ndarray]] = {}
    for i in range(0, len(images), batch_size):
        x = torch.nan_to_num(torch.as_tensor(images[i:i + batch_size], dtype=torch.float32))
        for k, v in model.embed(x).items():
            parts.setdefault(k, []).append(v.float().cpu().numpy())
    return {k: np.concatenate(v) for k, v in parts.items()}


def solarchip_evidence(model: torch.nn.Module, train: dict[str, np.ndarray],
                       test: dict[str, np.ndarray], gallery_size: int = 32) -> dict[str, float]:
    """Retrieval (HMI query → AIA key among ``gallery_size`` samples, projected class tokens) on
    ``test`` and flare-probe TSS
    (features: both class tokens) trained on ``train``; dicts hold ``image`` and ``flare_m24``.

    ``probe_tss`` is :func:`~solarray.metrics.representation.linear_probe_tss`: 0.0 when the
    test labels hold one class only (TSS undefined), so before/after values always compare.
    """
    e_tr = embed_arrays(model, train["image"])
    e_te = embed_arrays(model, test["image"])
    out = retrieval_accuracy(e_te["z_hmi"], e_te["z_aia"], gallery_size=gallery_size)
    feats_tr = np.concatenate([e_tr["cls_aia"], e_tr["cls_hmi"]], axis=1)
    feats_te = np.concatenate([e_te["cls_aia"], e_te["cls_hmi"]], axis=1)
    out["probe_tss"] = linear_probe_tss(feats_tr, train["flare_m24"], feats_te, test["flare_m24"])
    out["n_test"] = float(len(test["image"]))
    return out


__all__ = ["embed_arrays", "solarchip_evidence"]
