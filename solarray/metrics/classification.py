"""Multi-class classification scores (the Hale and McIntosh classes of active regions)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.metrics import f1_score


def f1_report(y_true, y_pred, classes: Sequence[str]) -> dict:
    """Macro, weighted and per-class F1 of class indices ``y_true``/``y_pred`` (0 … K−1).

    Classes absent from both truth and prediction get NaN and are left out of the macro mean.
    Returns ``{"macro_f1", "weighted_f1", "per_class": {name: F1}, "n"}``.
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    labels = list(range(len(classes)))
    per = f1_score(y_true, y_pred, labels=labels, average=None, zero_division=0)
    present = [i for i in labels if (y_true == i).any() or (y_pred == i).any()]
    return {
        "macro_f1": float(np.mean([per[i] for i in present])) if present else float("nan"),
        "weighted_f1": float(f1_score(y_true, y_pred, labels=labels, average="weighted",
                                      zero_division=0)),
        "per_class": {c: (float(per[i]) if i in present else float("nan"))
                      for i, c in enumerate(classes)},
        "n": int(len(y_true)),
    }


__all__ = ["f1_report"]
