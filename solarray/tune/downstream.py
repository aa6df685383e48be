"""Downstream-aware trial scoring: a linear ≥M-flare probe on each trial's class-token embeddings.

A lower pretraining loss is not the goal in itself; what matters is how useful the representation
is. With ``score: downstream`` each trial's latest Train checkpoint is loaded, ``model.embed`` maps
labelled images to class tokens (every ``cls_*`` output, concatenated), and a class-balanced
logistic regression fit on the probe's training part is scored by TSS on its test part
(:func:`solarray.metrics.representation.linear_probe_tss`). Trials stopped by ASHA are scored on
the checkpoint they reached.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from solarray.core.checkpoints import model_file
from solarray.metrics.representation import linear_probe_tss
from solarray.models import load_model
from solarray.train.evidence import embed_arrays


@dataclass
class ProbeData:
    """Labelled images for the probe: ``*_images`` float32 ``[N, C, H, W]``, ``*_labels`` 0/1."""

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray

    def __post_init__(self) -> None:
        for part in ("train", "test"):
            x, y = getattr(self, f"{part}_images"), getattr(self, f"{part}_labels")
            if x.ndim != 4 or len(x) != len(y):
                raise ValueError(f"probe {part}: images must be [N, C, H, W] with one label each, "
                                 f"got {x.shape} and {y.shape}")
            if len(np.unique(y)) < 2:
                raise ValueError(f"probe {part}: labels need both classes (flare and no flare), "
                                 f"got only {np.unique(y).tolist()}")


def _labelled(ds, max_rows: int) -> tuple[np.ndarray, np.ndarray]:
    batch = ds.select_columns(["image", "flare_m24"]).take_batch(max_rows, batch_format="numpy")
    x = np.asarray(batch["image"], np.float32)
    y = np.asarray(batch["flare_m24"]).astype(np.int64)
    keep = y >= 0  # -1: label unknown
    return x[keep], y[keep]


def probe_from_datasets(train_ds, test_ds, max_rows: int = 512) -> ProbeData | None:
    """Up to ``max_rows`` labelled rows of each Ray Dataset (``image``, ``flare_m24``); ``None``
    when a part lacks labels or either class."""
    names = set(train_ds.schema().names) & set(test_ds.schema().names)
    if not {"image", "flare_m24"} <= names:
        return None
    xtr, ytr = _labelled(train_ds, max_rows)
    xte, yte = _labelled(test_ds, max_rows)
    if len(np.unique(ytr)) < 2 or len(np.unique(yte)) < 2:
        return None
    return ProbeData(xtr, ytr, xte, yte)


def class_token_features(model, images: np.ndarray, batch_size: int = 64) -> np.ndarray:
    """``[N, F]`` features: the model's ``cls_*`` embeddings concatenated (all embeddings when
    it has no ``cls_*``)."""
    if not hasattr(model, "embed"):
        raise TypeError(f"model {getattr(model, 'model_name', type(model).__name__)!r} has no "
                        f"embed() method; downstream scoring needs one")
    emb = embed_arrays(model, images, batch_size=batch_size)
    keys = sorted(k for k in emb if k.startswith("cls")) or sorted(emb)
    return np.concatenate([emb[k].reshape(len(images), -1) for k in keys], axis=1)


def probe_score(checkpoint: str | Path, probe: ProbeData) -> float:
    """Linear-probe TSS of the model in a Train checkpoint directory (or ``model.pt``)."""
    model = load_model(model_file(checkpoint))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        xtr = class_token_features(model, probe.train_images)
        xte = class_token_features(model, probe.test_images)
    finally:
        torch.set_num_threads(threads)
    return linear_probe_tss(xtr, probe.train_labels, xte, probe.test_labels)


def score_table(table, probe: ProbeData, log: Callable[[str], None] = print):
    """Add ``probe_tss`` to a trial table (NaN for trials without a checkpoint)."""
    scores = []
    for _, row in table.iterrows():
        if row["checkpoint"]:
            scores.append(probe_score(row["checkpoint"], probe))
        else:
            scores.append(float("nan"))
    out = table.copy()
    out["probe_tss"] = scores
    log(f"Scored {int(np.isfinite(scores).sum())} trial checkpoint(s) with the linear flare probe "
        f"({len(probe.train_labels)} train / {len(probe.test_labels)} test samples)")
    return out
