"""Forecasting a daily index (F30, F10.7) h days ahead from image features (Brown 2023 §2.2).

Per horizon: persistence ``ŷ(t+h) = y(t)``; Extra Trees on the image features only (the seed's
protocol; ``use_target=True`` adds ``y(t)`` as an input) with ``n_estimators`` chosen on the
validation split (every March) among :data:`N_ESTIMATORS`, scored on the test split (every
January); optionally the same on a second extractor's features (the baseline). Each improvement
over persistence (``1 − RMSE_model / RMSE_persistence``) carries a 95 % bootstrap interval over
test days (days resampled with replacement, both forecasts scored on the same resample: a paired
interval). Samples and splits: :mod:`solarray.forecast.index_series`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.ensemble import ExtraTreesRegressor

from solarray.data.tables.indices import read_index_series
from solarray.forecast.index_series import count_gaps, load_features, make_samples
from solarray.metrics.bootstrap import interval, paired_interval

N_ESTIMATORS = (250, 500, 750, 1000, 1500, 2000)


def rmse(y: np.ndarray, yhat: np.ndarray) -> float:
    y, yhat = np.asarray(y, np.float64), np.asarray(yhat, np.float64)
    return float(np.sqrt(np.mean((y - yhat) ** 2))) if y.size else float("nan")


def _design(x: np.ndarray, y0: np.ndarray, use_target: bool) -> np.ndarray:
    cols = [x] + ([y0[:, None]] if use_target else [])
    out = np.concatenate(cols, axis=1)
    if out.shape[1] == 0:
        raise ValueError("no inputs for the model: give features or keep y(t) (use_target)")
    return out


def fit_extra_trees(x_train: np.ndarray, y_train: np.ndarray, x_val: np.ndarray,
                    y_val: np.ndarray, grid: Sequence[int] = N_ESTIMATORS, seed: int = 0,
                    n_jobs: int = 1) -> tuple[ExtraTreesRegressor, int, float]:
    """Extra Trees (scikit-learn defaults otherwise) fitted on training with each
    ``n_estimators`` of ``grid``; returns (best model on validation RMSE, its size, that RMSE)."""
    best = None
    for n in grid:
        model = ExtraTreesRegressor(n_estimators=int(n), random_state=seed, n_jobs=n_jobs)
        model.fit(x_train, y_train)
        score = rmse(y_val, model.predict(x_val))
        if best is None or score < best[2]:
            best = (model, int(n), score)
    assert best is not None
    return best


def _arm(samples, use_target: bool, grid, seed: int, n_jobs: int) -> dict[str, Any]:
    xs = {s: samples.part(s) for s in ("train", "val", "test")}
    design = {s: _design(x, y0, use_target) for s, (x, y0, _) in xs.items()}
    model, n, val = fit_extra_trees(design["train"], xs["train"][2], design["val"],
                                    xs["val"][2], grid, seed, n_jobs)
    pred = model.predict(design["test"])
    return {"rmse": rmse(xs["test"][2], pred), "n_estimators": n, "rmse_val": val,
            "pred": pred}


def improvement(y: np.ndarray, pair: np.ndarray) -> float | None:
    """``1 − RMSE(y, pair[:, 0]) / RMSE(y, pair[:, 1])``: a forecast (column 0) against a
    reference (column 1, e.g. persistence); None when the reference is exact."""
    ref = rmse(y, pair[:, 1])
    return None if not ref > 0 else 1.0 - rmse(y, pair[:, 0]) / ref


def improvement_interval(y: np.ndarray, pred: np.ndarray, ref: np.ndarray, days: np.ndarray,
                         n_boot: int = 1000, seed: int = 0) -> dict[str, float | None]:
    """``{"value", "lo", "hi", "n_groups"}``: :func:`improvement` of ``pred`` over ``ref`` with
    its 95 % interval over test days resampled with replacement (paired: one resample scores
    both forecasts)."""
    return interval(improvement, y, np.stack([pred, ref], axis=1), days, n_boot, seed)


def _neg_rmse(y: np.ndarray, p: np.ndarray) -> float:
    return -rmse(y, p)


def forecast_index(series_path: str | os.PathLike, target: str,
                   features_path: str | os.PathLike | None, horizons: Sequence[int],
                   baseline_path: str | os.PathLike | None = None,
                   grid: Sequence[int] = N_ESTIMATORS, seed: int = 0,
                   use_target: bool = False, feature_prefix: str | None = None,
                   min_samples: int = 2, n_jobs: int = 1, n_boot: int = 1000
                   ) -> dict[str, Any]:
    """``{"target", "use_target", "horizons": [row per horizon], "dropped": gap days}``.

    Row: ``horizon, n_train, n_val, n_test, rmse_persistence, rmse_model, improvement``
    (``1 − rmse_model / rmse_persistence``) and ``improvement_ci`` (its bootstrap interval over
    test days), ``n_estimators``, ``dropped_gaps``, ``dropped_boundary``, ``test`` (issue dates,
    y(t+h), persistence and model forecasts of the test days); with a baseline also
    ``rmse_baseline``, ``improvement_baseline``, ``improvement_baseline_ci``,
    ``n_estimators_baseline`` and ``model_vs_baseline`` (RMSE_baseline − RMSE_model with its
    paired interval; ``beats`` when it lies above 0).
    """
    if not horizons:
        raise ValueError("give at least one horizon")
    if any(int(h) < 1 for h in horizons):
        raise ValueError(f"horizons must be ≥ 1 day, got {list(horizons)}")
    if not grid or any(int(n) < 1 for n in grid):
        raise ValueError(f"n_estimators grid must list positive integers, got {list(grid)}")
    series = read_index_series(series_path, target)
    feats = load_features(features_path, feature_prefix) if features_path else None
    base = load_features(baseline_path, feature_prefix) if baseline_path else None
    if feats is None and not use_target:
        raise ValueError("without --features the model has no input: give --features or "
                         "--target-input")
    both = feats
    if feats is not None and base is not None:
        common = feats.index.intersection(base.index)  # same issue dates for both extractors
        both, base = feats.loc[common], base.loc[common]
    rows = []
    for h in horizons:
        h = int(h)
        s = make_samples(series, both, h)
        counts = {name: s.count(name) for name in ("train", "val", "test")}
        for name, n in counts.items():
            if n < min_samples:
                raise ValueError(f"horizon {h} d: only {n} {name} samples (need ≥ {min_samples});"
                                 " the series/features do not cover enough January (test), "
                                 "March (validation) and other-month days")
        _, y0_test, y_test = s.part("test")
        days = s.t[s.split == "test"].astype(str)
        persistence = rmse(y_test, y0_test)
        arm = _arm(s, use_target, grid, seed, n_jobs)
        row = {"horizon": h, "n_train": counts["train"], "n_val": counts["val"],
               "n_test": counts["test"], "rmse_persistence": persistence,
               "rmse_model": arm["rmse"], "improvement": 1.0 - arm["rmse"] / persistence
               if persistence > 0 else float("nan"),
               "improvement_ci": improvement_interval(y_test, arm["pred"], y0_test, days,
                                                      n_boot, seed),
               "n_estimators": arm["n_estimators"],
               "dropped_gaps": s.dropped_gaps, "dropped_boundary": s.dropped_boundary,
               "test": {"t": days.tolist(), "y": y_test.tolist(),
                        "persistence": y0_test.tolist(), "model": arm["pred"].tolist()}}
        if base is not None:
            sb = make_samples(series, base, h)
            if not np.array_equal(sb.t, s.t):
                raise ValueError("baseline features do not cover the same issue dates")
            barm = _arm(sb, use_target, grid, seed, n_jobs)
            row.update(rmse_baseline=barm["rmse"], n_estimators_baseline=barm["n_estimators"],
                       improvement_baseline=1.0 - barm["rmse"] / persistence
                       if persistence > 0 else float("nan"),
                       improvement_baseline_ci=improvement_interval(
                           y_test, barm["pred"], y0_test, days, n_boot, seed),
                       model_vs_baseline=paired_interval(_neg_rmse, y_test, arm["pred"],
                                                         barm["pred"], days, n_boot, seed))
            row["test"]["baseline"] = barm["pred"].tolist()
        rows.append(row)
    return {"target": target, "use_target": bool(use_target), "horizons": rows,
            "dropped": count_gaps(series, both)}


def format_rows(result: dict[str, Any]) -> str:
    """The per-horizon rows as a Markdown table."""
    rows = result["horizons"]
    cols = ["horizon", "n_train", "n_val", "n_test", "rmse_persistence", "rmse_model",
            "improvement", "improvement_ci", "n_estimators"]
    if rows and "rmse_baseline" in rows[0]:
        cols += ["rmse_baseline", "improvement_baseline", "improvement_baseline_ci"]

    def cell(v: Any) -> str:
        if isinstance(v, dict):
            return "n/a" if v["lo"] is None else f"[{v['lo']:.3g}, {v['hi']:.3g}]"
        return f"{v:.4g}" if isinstance(v, float) else str(v)

    out = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        out.append("| " + " | ".join(cell(r.get(c)) for c in cols) + " |")
    inputs = "image features + y(t)" if result.get("use_target") else "image features only"
    tail = (f"{result['dropped']} gap day(s) dropped (target {result['target']}; model inputs: "
            f"{inputs}; intervals: 95 % bootstrap over test days)")
    return "\n".join(out) + "\n\n" + tail


__all__ = ["N_ESTIMATORS", "fit_extra_trees", "forecast_index", "format_rows", "improvement",
           "improvement_interval", "rmse"]
