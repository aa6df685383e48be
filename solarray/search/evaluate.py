"""Retrieval quality of a latent space on AR patches (pure numpy).

A query is a held-out patch. Every patch closer in time than ``gap_h`` hours — its own frame and
its near neighbours, near copies of it — leaves its gallery. The query's *partner* is the same
region ``gap_h`` to ``gap_h + window_h`` hours away (the next remaining frame at the data's
cadence); its *rank* is 1 + the number of gallery patches more similar (cosine) to the query than
its best partner. Precision@k is the fraction of queries whose rank is ≤ k, MRR the mean of
1/rank, both over the queries that have a partner (the issue's "precision@k: the same region at
an adjacent time in the top-k").
"""

from __future__ import annotations

import numpy as np

from solarray.search.index import ExactIndex


def retrieval_ranks(latents: np.ndarray, regions: np.ndarray, times: np.ndarray,
                    gap_h: float = 6.0, window_h: float = 3.0
                    ) -> tuple[np.ndarray, np.ndarray]:
    """``(query_ids, ranks)``: the rows that have a partner and the rank of their best partner
    (see the module docstring). ``latents`` ``[N, D]``, ``regions`` ``[N]``, ``times`` ``[N]``
    (datetime64 or anything numpy converts to it); ``gap_h`` > 0 (the query itself is held out).
    """
    if gap_h <= 0:
        raise ValueError("retrieval_ranks: gap_h must be > 0 h (the query's own frame is held out)")
    regions = np.asarray(regions)
    t = np.asarray(times).astype("datetime64[s]").astype(np.int64) / 3600.0
    unit = ExactIndex(np.asarray(latents, dtype=np.float32)).unit
    ids, ranks = [], []
    for i in range(len(regions)):
        dt = np.abs(t - t[i])
        gallery = dt >= gap_h - 1e-6
        partner = gallery & (regions == regions[i]) & (dt < gap_h + window_h - 1e-6)
        if not partner.any():
            continue
        s = np.where(gallery, unit @ unit[i], -np.inf)
        ids.append(i)
        ranks.append(1 + int((s > s[partner].max()).sum()))
    return np.asarray(ids, dtype=np.int64), np.asarray(ranks, dtype=np.int64)


def outcomes(ranks: np.ndarray, ks: tuple[int, ...] = (1, 5)) -> dict[str, np.ndarray]:
    """Per-query outcomes: ``{"p@k": 1.0 when rank ≤ k else 0.0, …, "mrr": 1/rank}``; their means
    are precision@k and MRR."""
    r = np.asarray(ranks, dtype=np.float64)
    out = {f"p@{k}": (r <= k).astype(np.float64) for k in ks}
    out["mrr"] = 1.0 / r
    return out


def retrieval_scores(latents: np.ndarray, regions: np.ndarray, times: np.ndarray,
                     gap_h: float = 6.0, window_h: float = 3.0) -> dict[str, float]:
    """``{"p@1", "p@5", "mrr", "n_queries"}`` at one gap."""
    _, ranks = retrieval_ranks(latents, regions, times, gap_h, window_h)
    out: dict[str, float] = {k: float(v.mean()) if len(v) else float("nan")
                             for k, v in outcomes(ranks).items()}
    out["n_queries"] = int(len(ranks))
    return out


def adjacent_precision(latents: np.ndarray, regions: np.ndarray, times: np.ndarray,
                       k: int = 5, gap_h: float = 6.0, window_h: float = 3.0
                       ) -> dict[str, float]:
    """``{"precision_at_k", "n_queries", "k"}``: precision@k at one gap."""
    _, ranks = retrieval_ranks(latents, regions, times, gap_h, window_h)
    p = float((ranks <= k).mean()) if len(ranks) else float("nan")
    return {"precision_at_k": p, "n_queries": int(len(ranks)), "k": k}


__all__ = ["adjacent_precision", "outcomes", "retrieval_ranks", "retrieval_scores"]
