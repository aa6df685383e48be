"""Daily index series (F10.7, F30) and per-day image features for index forecasting.

* the series itself is read by :func:`solarray.data.tables.indices.read_index_series` (a
  CSV/Parquet with a ``date`` column and the target column → one value per calendar day;
  duplicates averaged; missing or non-finite values are gaps);
* :func:`load_features` — a Parquet with ``t_obs`` (or ``date``) and numeric feature columns
  (e.g. ``solarray compress``'s ``mu_*``) → one row per day (rows of one day averaged);
* :func:`make_samples` — issue dates ``t`` with ``y(t)``, ``y(t+h)`` and features at ``t`` all
  present (gaps dropped and counted, never interpolated; a forecast is issued at the end of day
  ``t``, after its index measurement and its images, so no input is later than the issue), split
  by the month of ``t`` (validation = March, test = January, the rest training) with an
  embargo: a sample is kept only when every day of ``[t − h, t + h]`` is in the same split, so
  no issue date of one split lies within ``h`` days of another split's target;
* :func:`downsample_pixels` — the second extractor: block-averaged pixels as features.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from solarray.data.tables.indices import day_index
from solarray.data.tables.table import read_table

VAL_MONTHS = (3,)
TEST_MONTHS = (1,)
SPLITS = ("train", "val", "test")


def _expand_vectors(df: pd.DataFrame) -> pd.DataFrame:
    """Fixed-length numeric list columns (``solarray embed``'s ``embedding``) → one numeric
    column per element, ``name_0 … name_{k-1}``; other columns unchanged."""
    out = {}
    for col in df.columns:
        first = df[col].iloc[0] if len(df) else None
        if isinstance(first, (list, tuple, np.ndarray)) and not pd.api.types.is_numeric_dtype(
                df[col]):
            try:
                mat = np.stack([np.asarray(v, dtype=np.float64) for v in df[col]])
            except (TypeError, ValueError):
                out[col] = df[col]  # ragged or non-numeric: not a feature vector
                continue
            if mat.ndim == 2:
                out.update({f"{col}_{i}": mat[:, i] for i in range(mat.shape[1])})
                continue
        out[col] = df[col]
    return pd.DataFrame(out, index=df.index)


def load_features(path: str | os.PathLike, prefix: str | None = None) -> pd.DataFrame:
    """Per-day mean of the numeric feature columns, indexed by ``datetime64[D]``.

    Fixed-length list columns are expanded to one column per element (``name_i``). ``prefix``:
    only columns starting with it; ``None``: the ``mu_*`` columns when the file has them (a
    latents file: the posterior means, the seed's features), else the ``embedding_*`` columns
    (a ``solarray embed`` file: the class tokens), else every numeric column.
    """
    df = _expand_vectors(read_table(path, "features"))
    time_col = "t_obs" if "t_obs" in df.columns else "date" if "date" in df.columns else None
    if time_col is None:
        raise ValueError(f"features {path}: no 't_obs' or 'date' column to tell the day of each "
                         f"row (it has {', '.join(map(str, df.columns[:8]))}...)")
    numeric = [c for c in df.columns if c not in ("t_obs", "date")
               and pd.api.types.is_numeric_dtype(df[c])]
    for default in ("mu_", "embedding_"):
        if prefix is None and any(str(c).startswith(default) for c in numeric):
            prefix = default
    cols = [c for c in numeric if prefix is None or str(c).startswith(prefix)]
    if not cols:
        raise ValueError(f"features {path}: no numeric feature columns"
                         + (f" starting with {prefix!r}" if prefix else ""))
    days = day_index(df[time_col], path, time_col, "features").to_numpy().astype("datetime64[D]")
    out = pd.DataFrame(df[cols].to_numpy(dtype=np.float64), columns=cols,
                       index=pd.DatetimeIndex(days))
    out = out[np.isfinite(out.to_numpy()).all(axis=1)]
    return out.groupby(level=0).mean().sort_index()


def split_of(days: np.ndarray, val_months: Sequence[int] = VAL_MONTHS,
             test_months: Sequence[int] = TEST_MONTHS) -> np.ndarray:
    """``"train" | "val" | "test"`` per day (``datetime64[D]``) by calendar month."""
    months = np.asarray(days).astype("datetime64[M]").astype(int) % 12 + 1
    out = np.full(months.shape, "train", dtype=object)
    out[np.isin(months, list(val_months))] = "val"
    out[np.isin(months, list(test_months))] = "test"
    return out


@dataclass
class Samples:
    """Forecast samples at horizon ``h`` days: ``t`` issue dates, ``y0`` = y(t), ``y`` = y(t+h),
    ``x`` features at t ``[N, F]``, ``split`` per sample; drop counts."""

    horizon: int
    t: np.ndarray
    y0: np.ndarray
    y: np.ndarray
    x: np.ndarray
    split: np.ndarray
    dropped_gaps: int
    dropped_boundary: int

    def part(self, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        keep = self.split == name
        return self.x[keep], self.y0[keep], self.y[keep]

    def count(self, name: str) -> int:
        return int((self.split == name).sum())


def make_samples(series: pd.Series, features: pd.DataFrame | None, horizon: int,
                 val_months: Sequence[int] = VAL_MONTHS,
                 test_months: Sequence[int] = TEST_MONTHS) -> Samples:
    """Samples for every issue date from the series' first day to its last day − ``horizon``."""
    if horizon < 1:
        raise ValueError(f"horizon must be ≥ 1 day, got {horizon}")
    if series.empty:
        raise ValueError("the series holds no values")
    first, last = series.index.min(), series.index.max()
    span = int((last - first) / pd.Timedelta(days=1))
    if horizon >= span:
        raise ValueError(f"horizon {horizon} d is not shorter than the series ({span + 1} days "
                         f"from {first.date()} to {last.date()})")
    days = pd.date_range(first, last - pd.Timedelta(days=horizon), freq="D")
    y0 = series.reindex(days).to_numpy()
    y = series.reindex(days + pd.Timedelta(days=horizon)).to_numpy()
    if features is None:
        x = np.zeros((len(days), 0))
        have_x = np.ones(len(days), bool)
    else:
        xf = features.reindex(days)
        x = xf.to_numpy()
        have_x = np.isfinite(x).all(axis=1)
    ok = np.isfinite(y0) & np.isfinite(y) & have_x
    d = days.to_numpy().astype("datetime64[D]")
    own = split_of(d, val_months, test_months)
    same = np.ones(len(d), bool)
    for k in range(-horizon, horizon + 1):
        same &= split_of(d + np.timedelta64(k, "D"), val_months, test_months) == own
    keep = ok & same
    return Samples(horizon, d[keep], y0[keep], y[keep], x[keep], own[keep],
                   dropped_gaps=int((~ok).sum()), dropped_boundary=int((ok & ~same).sum()))


def count_gaps(series: pd.Series, features: pd.DataFrame | None) -> int:
    """Days between the series' first and last day lacking the target or the features."""
    days = pd.date_range(series.index.min(), series.index.max(), freq="D")
    missing = ~np.isfinite(series.reindex(days).to_numpy())
    if features is not None:
        missing |= ~np.isfinite(features.reindex(days).to_numpy()).all(axis=1)
    return int(missing.sum())


def downsample_pixels(images: np.ndarray, factor: int) -> np.ndarray:
    """Block means of images ``[N, C, H, W]`` (NaN → 0) by ``factor`` → features
    ``[N, C · (H/factor) · (W/factor)]``."""
    x = np.nan_to_num(np.asarray(images, dtype=np.float32))
    n, c, h, w = x.shape
    if factor < 1 or h % factor or w % factor:
        raise ValueError(f"downsample factor {factor} must divide the image size {h}×{w}")
    x = x.reshape(n, c, h // factor, factor, w // factor, factor).mean(axis=(3, 5))
    return x.reshape(n, -1)


__all__ = ["SPLITS", "Samples", "TEST_MONTHS", "VAL_MONTHS", "count_gaps", "downsample_pixels",
           "load_features", "make_samples", "split_of"]
