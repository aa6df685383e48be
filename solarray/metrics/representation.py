"""Representation quality as pure functions of embeddings: cross-modal retrieval and a linear probe.

Both take embeddings ``[N, D]`` (numpy) that a model produced elsewhere
(:mod:`solarray.train.evidence` runs the model); nothing here touches torch.
"""

from __future__ import annotations

import numpy as np

from solarray.metrics.verification import ConfusionCounts


def retrieval_accuracy(queries: np.ndarray, keys: np.ndarray, ks: tuple[int, ...] = (1, 5),
                       gallery_size: int | None = None) -> dict[str, float]:
    """Cross-modal retrieval: row i of ``queries`` should find row i of ``keys`` (cosine).

    Rows are split into consecutive galleries of ``gallery_size`` (a training batch; default all
    N rows). Returns ``{"top1": ..., "top5": ...}``: the fraction of queries whose true key ranks
    within the top k of its gallery (chance = k / gallery_size).
    """
    n = len(queries)
    g = gallery_size or n
    ranks = []
    for s in range(0, n - g + 1, g):
        q = queries[s:s + g]
        k_ = keys[s:s + g]
        q = q / np.linalg.norm(q, axis=1, keepdims=True).clip(1e-12)
        k_ = k_ / np.linalg.norm(k_, axis=1, keepdims=True).clip(1e-12)
        sim = q @ k_.T
        ranks.append((sim > np.diag(sim)[:, None]).sum(axis=1))  # 0 = best
    rank = np.concatenate(ranks)
    return {f"top{k}": float(np.mean(rank < k)) for k in ks}


def linear_probe_counts(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray,
                        y_test: np.ndarray, c: float = 1.0) -> ConfusionCounts:
    """Test-set confusion counts of a class-balanced logistic regression (inverse regularisation
    ``c``) fit on standardised features ``x_train [N, F]`` with 0/1 labels ``y_train [N]``."""
    # scikit-learn on use: every Tune trial actor imports this module (through
    # solarray.tune.downstream) without probing, and the import costs it a second of start-up
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    clf = make_pipeline(StandardScaler(), LogisticRegression(C=c, class_weight="balanced",
                                                             max_iter=2000))
    clf.fit(x_train, y_train)
    return ConfusionCounts.from_binary(np.asarray(y_test).astype(bool),
                                       np.asarray(clf.predict(x_test)).astype(bool))


def linear_probe_tss(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray,
                     y_test: np.ndarray, c: float = 1.0) -> float:
    """TSS on the test set of :func:`linear_probe_counts`, always a number in [−1, 1].

    Trial ranking (Tune's downstream score) and before/after comparisons need a number, so an
    undefined TSS (``ConfusionCounts.tss is None``: the test labels hold one class only) is
    scored 0.0, the skill of a constant forecast. ``linear_probe_counts(...).undefined()`` gives
    the reason when that matters.
    """
    tss = linear_probe_counts(x_train, y_train, x_test, y_test, c).tss
    return 0.0 if tss is None else tss


__all__ = ["linear_probe_counts", "linear_probe_tss", "retrieval_accuracy"]
