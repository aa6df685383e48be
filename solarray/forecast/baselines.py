"""Baselines for FPNet on the same splits: climatology, and logistic regression or a support
vector machine on the physical features alone (no images). SA-AI 2025's baseline is an SVM on
McIntosh class and F10.7 (:func:`svm_baseline` with :func:`with_features` choosing the columns)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from solarray.core.classes import CATEGORY_VOCAB, encode_categories
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


def with_features(splits: Mapping[str, Examples], scalars: Sequence[str],
                  categories: Sequence[str] = ()) -> dict[str, Examples]:
    """``splits`` whose ``scalars`` and ``categories`` are the table columns named (in that
    order; a missing column is unknown: NaN / code 0), so a baseline's inputs are chosen by
    name, not by FPNet's column order."""
    out = {}
    for k, ex in splits.items():
        rows, n = ex.rows, len(ex)
        scal = [pd.to_numeric(rows[c], errors="coerce").to_numpy(np.float64) if c in rows.columns
                else np.full(n, np.nan) for c in scalars]
        cats = [encode_categories(rows[c].tolist(), c) if c in rows.columns
                else np.zeros(n, np.int64) for c in categories]
        out[k] = Examples(ex.image,
                          np.stack(scal, 1).astype(np.float32) if scal else np.zeros((n, 0),
                                                                                    np.float32),
                          np.stack(cats, 1) if cats else np.zeros((n, 0), np.int64),
                          ex.label, rows, ex.dropped)
    return out


def _physics_model(splits: Mapping[str, Examples], scalar_features: Sequence[str],
                   log_features: Sequence[str], categorical_features: Sequence[str],
                   make_model, raw_score, calibration: str, operating_point: str,
                   ) -> dict[str, pd.DataFrame]:
    """Fit ``make_model()`` on the training split's physics design matrix; ``raw_score(model,
    X)`` → raw probabilities in [0, 1], calibrated on validation. → val/test forecast tables."""
    tr = splits["train"]
    mean, std = standardisation(tr, scalar_features, log_features)
    log_mask = [n in log_features for n in scalar_features]
    n_cats = [len(CATEGORY_VOCAB[n]) for n in categorical_features]
    # Missing flags only for features that are sometimes (not always) missing in training.
    frac = (~np.isfinite(tr.scalars)).mean(axis=0) if len(tr) else np.zeros(len(scalar_features))
    miss_cols = (frac > 0) & (frac < 1)
    allx = {k: _design(v, mean, std, log_mask, n_cats, miss_cols) for k, v in splits.items()}
    known = tr.label >= 0
    clf = make_model()
    clf.fit(allx["train"][known], tr.label[known])
    raw = {k: raw_score(clf, allx[k]) for k in ("val", "test")}
    vl = splits["val"].label
    cal = fit_calibration(vl[vl >= 0], raw["val"][vl >= 0], calibration, operating_point)
    return {k: forecast_table(splits[k], cal(raw[k]), raw[k]) for k in ("val", "test")}


def logistic_baseline(splits: Mapping[str, Examples], scalar_features: Sequence[str],
                      log_features: Sequence[str], categorical_features: Sequence[str],
                      calibration: str = "platt", operating_point: str = "reliable",
                      ) -> dict[str, pd.DataFrame]:
    """Logistic regression (scikit-learn, balanced class weights) on the physical features
    alone, calibrated on validation like FPNet. Returns val/test forecast tables."""
    from sklearn.linear_model import LogisticRegression

    return _physics_model(
        splits, scalar_features, log_features, categorical_features,
        lambda: LogisticRegression(class_weight="balanced", max_iter=2000, C=1.0),
        lambda clf, x: clf.predict_proba(x)[:, 1], calibration, operating_point)


def svm_baseline(splits: Mapping[str, Examples], scalar_features: Sequence[str],
                 log_features: Sequence[str], categorical_features: Sequence[str],
                 calibration: str = "platt", operating_point: str = "reliable",
                 ) -> dict[str, pd.DataFrame]:
    """Support vector machine (scikit-learn ``SVC``, RBF kernel, C = 1, ``gamma="scale"``,
    balanced class weights) on the physical features alone. Its raw score is the sigmoid of the
    decision function (monotone, so ranking is the SVM's), Platt-calibrated on validation like
    every arm — the "calibrated SVC" of Platt (1999) with the fit on held-out data instead of
    SVC's internal cross-validation. Returns val/test forecast tables."""
    from sklearn.svm import SVC

    def raw(clf, x: np.ndarray) -> np.ndarray:
        return 0.5 * (1.0 + np.tanh(0.5 * clf.decision_function(x)))

    return _physics_model(
        splits, scalar_features, log_features, categorical_features,
        lambda: SVC(kernel="rbf", C=1.0, gamma="scale", class_weight="balanced"), raw,
        calibration, operating_point)
