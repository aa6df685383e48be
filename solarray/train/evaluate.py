"""Representation quality checks used as learning evidence: cross-modal retrieval, linear probe."""

from __future__ import annotations

import numpy as np
import torch


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


def tss(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """True skill statistic TSS = TP/(TP+FN) − FP/(FP+TN) for binary labels/predictions."""
    y_true = np.asarray(y_true).astype(bool)
    y_pred = np.asarray(y_pred).astype(bool)
    tp = np.sum(y_true & y_pred)
    fn = np.sum(y_true & ~y_pred)
    fp = np.sum(~y_true & y_pred)
    tn = np.sum(~y_true & ~y_pred)
    pod = tp / (tp + fn) if tp + fn else 0.0
    pofd = fp / (fp + tn) if fp + tn else 0.0
    return float(pod - pofd)


def linear_probe_tss(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray,
                     y_test: np.ndarray, c: float = 1.0) -> float:
    """TSS on the test set of a class-balanced logistic regression fit on standardised features."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    clf = make_pipeline(StandardScaler(), LogisticRegression(C=c, class_weight="balanced",
                                                             max_iter=2000))
    clf.fit(x_train, y_train)
    return tss(y_test, clf.predict(x_test))


def solarchip_evidence(model: torch.nn.Module, train: dict[str, np.ndarray],
                       test: dict[str, np.ndarray], gallery_size: int = 32) -> dict[str, float]:
    """Retrieval (HMI query → AIA key among ``gallery_size`` samples, projected class tokens) on
    ``test`` and flare-probe TSS
    (features: both class tokens) trained on ``train``; dicts hold ``image`` and ``flare_m24``."""
    e_tr = embed_arrays(model, train["image"])
    e_te = embed_arrays(model, test["image"])
    out = retrieval_accuracy(e_te["z_hmi"], e_te["z_aia"], gallery_size=gallery_size)
    feats_tr = np.concatenate([e_tr["cls_aia"], e_tr["cls_hmi"]], axis=1)
    feats_te = np.concatenate([e_te["cls_aia"], e_te["cls_hmi"]], axis=1)
    out["probe_tss"] = linear_probe_tss(feats_tr, train["flare_m24"], feats_te, test["flare_m24"])
    out["n_test"] = float(len(test["image"]))
    return out
