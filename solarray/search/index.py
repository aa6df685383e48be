"""Nearest neighbours by cosine similarity over a look-up table of latents.

:class:`ExactIndex` L2-normalises the table once (float32) and answers a query with one
matrix product and a partial sort (``argpartition`` of the top k, then sorting those k), exact
by construction. :func:`brute_force` is the reference it is tested and benchmarked against:
normalise, score every vector, fully sort. No approximate index is shipped: at 10⁶ latents the
exact query already takes tens of milliseconds on one CPU core (BENCHMARKS.md), so an
approximation would trade exactness for little.
"""

from __future__ import annotations

import numpy as np


def _normalise(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    norm = np.linalg.norm(x, axis=-1, keepdims=True)
    return x / np.maximum(norm, 1e-12)


class ExactIndex:
    """Exact cosine index over ``vectors`` ``[N, D]``; ids are row numbers."""

    def __init__(self, vectors: np.ndarray):
        v = np.asarray(vectors)
        if v.ndim != 2 or v.shape[0] == 0 or v.shape[1] == 0:
            raise ValueError(f"ExactIndex needs vectors [N, D] with N, D > 0, got shape {v.shape}")
        if not np.isfinite(v).all():
            raise ValueError("ExactIndex: the vectors hold NaN or infinite values")
        self.unit = np.ascontiguousarray(_normalise(v))

    def __len__(self) -> int:
        return self.unit.shape[0]

    @property
    def dim(self) -> int:
        return self.unit.shape[1]

    def query(self, q: np.ndarray, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """``(ids, similarities)`` of the ``k`` most cosine-similar vectors, best first.

        ``q`` ``[D]`` → ``[k]`` each; ``q`` ``[Q, D]`` → ``[Q, k]`` each. ``k`` is capped at N.
        """
        q = np.asarray(q)
        single = q.ndim == 1
        q2 = q[None] if single else q
        if q2.ndim != 2 or q2.shape[1] != self.dim:
            raise ValueError(f"query must be [{self.dim}] or [Q, {self.dim}], got shape {q.shape}")
        if not np.isfinite(q2).all():
            raise ValueError("query holds NaN or infinite values")
        if int(k) < 1:
            raise ValueError(f"k must be ≥ 1, got {k}")
        k = min(int(k), len(self))
        sims = _normalise(q2) @ self.unit.T  # [Q, N]
        if k < len(self):
            top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        else:
            top = np.broadcast_to(np.arange(len(self)), sims.shape)
        top_s = np.take_along_axis(sims, top, axis=1)
        order = np.argsort(-top_s, axis=1, kind="stable")
        ids, out = np.take_along_axis(top, order, axis=1), np.take_along_axis(top_s, order, axis=1)
        return (ids[0], out[0]) if single else (ids, out)


def brute_force(vectors: np.ndarray, q: np.ndarray, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Reference: normalise ``vectors`` and ``q`` ``[D]``, score all, sort all → top-k."""
    sims = _normalise(vectors) @ _normalise(q)
    order = np.argsort(-sims, kind="stable")[:k]
    return order, sims[order]


__all__ = ["ExactIndex", "brute_force"]
