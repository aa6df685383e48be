"""Baselines for FPNet on the same splits: climatology and logistic regression on the physical
features alone (no images)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from solarray.core.classes import CATEGORY_VOCAB
from solarray.forecast.examples import Examples
from solarray.forecast.prediction import forecast_table
from solarray.forecast.training import standardisation
from solarray.metrics.calibration import fit_calibration


def climatology(train: Examples, test: Examples) -> pd.DataFrame:
    """The training base rate as the forecast for every test example."""
    lab = train.label[train.label >= 0]
    return forecast_table(test, np.full(len(test), float(lab.mean())))


def _design(ex: Examples, mean: Sequence[float], std: Sequence[float],
            log_mask: Sequence[bool], n_cats: Sequence[int], miss_cols: np.ndarray) -> np.ndarray:
    """Standardised scalars (unknown → 0), missing flags of ``miss_cols``, one-hot categories."""
    x = ex.scalars.astype(np.float64).copy()
    miss = ~np.isfinite(x)
    x[miss] = 0.0
    for j, lg in enumerate(log_mask):
        if lg:
            x[:, j] = np.log1p(np.clip(x[:, j], 0, None))
    x = (x - np.asarray(mean)) / np.asarray(std)
    x[miss] = 0.0
    onehots = [np.eye(k + 1)[ex.categories[:, j]][:, 1:] for j, k in enumerate(n_cats)]
    return np.concatenate([x, miss[:, miss_cols].astype(float), *onehots], axis=1)


def logistic_baseline(splits: Mapping[str, Examples], scalar_features: Sequence[str],
                      log_features: Sequence[str], categorical_features: Sequence[str],
                      calibration: str = "platt", operating_point: str = "reliable",
                      ) -> dict[str, pd.DataFrame]:
    """Logistic regression (scikit-learn, balanced class weights) on the physical features
    alone, calibrated on validation like FPNet. Returns val/test forecast tables."""
    from sklearn.linear_model import LogisticRegression

    tr = splits["train"]
    mean, std = standardisation(tr, scalar_features, log_features)
    log_mask = [n in log_features for n in scalar_features]
    n_cats = [len(CATEGORY_VOCAB[n]) for n in categorical_features]
    # Missing flags only for features that are sometimes (not always) missing in training.
    frac = (~np.isfinite(tr.scalars)).mean(axis=0) if len(tr) else np.zeros(len(scalar_features))
    miss_cols = (frac > 0) & (frac < 1)
    allx = {k: _design(v, mean, std, log_mask, n_cats, miss_cols) for k, v in splits.items()}
    known = tr.label >= 0
    clf = LogisticRegression(class_weight="balanced", max_iter=2000, C=1.0)
    clf.fit(allx["train"][known], tr.label[known])
    raw = {k: clf.predict_proba(allx[k])[:, 1] for k in ("val", "test")}
    vl = splits["val"].label
    cal = fit_calibration(vl[vl >= 0], raw["val"][vl >= 0], calibration, operating_point)
    return {k: forecast_table(splits[k], cal(raw[k]), raw[k]) for k in ("val", "test")}
