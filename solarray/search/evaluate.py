"""Retrieval quality of a latent space on AR patches (pure numpy).

A query is a held-out patch: every patch within ``gap_h`` hours of it (its own frame and its
immediate neighbours, which at a 2-h cadence are near copies of it) is removed from its gallery.
The query succeeds when the same region at the adjacent remaining time — ``gap_h`` to
``gap_h + window_h`` hours away — appears among its ``k`` nearest neighbours (cosine).
``precision_at_k`` is the fraction of successful queries over the queries that have such a
partner (the issue's "precision@k: the same region at an adjacent time in the top-k").
"""

from __future__ import annotations

import numpy as np

from solarray.search.index import ExactIndex


def adjacent_precision(latents: np.ndarray, regions: np.ndarray, times: np.ndarray,
                       k: int = 5, gap_h: float = 0.0, window_h: float = 2.5
                       ) -> dict[str, float]:
    """``{"precision_at_k", "n_queries", "k"}`` (see the module docstring)."""
    regions = np.asarray(regions)
    t = np.asarray(times).astype("datetime64[s]").astype(np.int64) / 3600.0
    z = np.asarray(latents, dtype=np.float32)
    sims = ExactIndex(z).unit @ ExactIndex(z).unit.T
    hits, n = 0, 0
    for i in range(len(regions)):
        dt = np.abs(t - t[i])
        gallery = dt > gap_h + 1e-6
        partner = gallery & (regions == regions[i]) & (dt <= gap_h + window_h)
        if not partner.any():
            continue
        n += 1
        s = np.where(gallery, sims[i], -np.inf)
        top = np.argpartition(-s, min(k, len(s) - 1))[:k]
        hits += bool(partner[top].any())
    return {"precision_at_k": hits / n if n else float("nan"), "n_queries": n, "k": k}


__all__ = ["adjacent_precision"]
