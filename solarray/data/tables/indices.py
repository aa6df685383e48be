"""Daily solar indices: F10.7 and F30 (the synthetic Sun's ``tables/indices.parquet``, or any
Parquet/CSV with a day column and index columns).

* :func:`read_indices` — the rows of the file: index ``date`` (``DatetimeIndex``, midnight,
  naive UTC, sorted; one row per file row, duplicates kept), one float column per requested
  index (F10.7 ``f107`` and F30 ``f30`` in sfu, 10⁻²² W m⁻² Hz⁻¹; NaN where missing);
* :func:`read_index_series` — one index as a daily series for forecasting: index
  ``datetime64[D]`` days (sorted, unique: values of one day averaged), float values, days
  without a finite value dropped;
* :func:`index_at` — the value an observation at time t may use: the latest one *measured* at
  or before t. A day's value is measured at :data:`MEASURED_HOUR_UTC` (F10.7: local noon at
  Penticton, ≈ 20 UT; Tapping 2013), so an observation before 20 UT reads the previous day's.
  Every consumer that attaches an index to an observation (ingest labels, the per-AR feature
  table, the forecaster's flare history) goes through it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import pandas as pd

from solarray.data.tables.table import TableError, read_table

#: The index columns the readers know (sfu).
INDEX_COLUMNS = ("f107", "f30")
#: Columns that may give the day of a row, in order of preference.
DAY_COLUMNS = ("date", "time", "t_obs")
#: UTC hour at which a day's index value is measured (F10.7: Penticton local noon, Tapping
#: 2013). F30 is read at the same hour: the synthetic Sun derives it from the same moment, and
#: for an index measured earlier in the day (Nobeyama's F30) this is late, never early.
MEASURED_HOUR_UTC = 20.0
#: A value measured longer ago than this (days) is unknown (NaN), not carried forward.
MAX_INDEX_AGE_DAYS = 3.0


def day_index(values: pd.Series, path, column: str, what: str) -> pd.DatetimeIndex:
    """The UTC day (midnight, naive) of each value of ``values`` (the column ``column`` of the
    ``what`` table ``path``); unparseable values are NaT, none parseable is a TableError."""
    t = pd.to_datetime(values, utc=True, errors="coerce")
    if t.isna().all():
        raise TableError(f"{what} {path}: column {column!r} holds no dates")
    return pd.DatetimeIndex(t.dt.tz_convert(None).dt.floor("D")).as_unit("ns")


def read_indices(path: str | os.PathLike, columns: Sequence[str] | None = ("f107",), *,
                 day_columns: Sequence[str] = DAY_COLUMNS, what: str = "indices") -> pd.DataFrame:
    """The daily index table in ``path`` (see the module docstring).

    ``columns``: the index columns the table must have; ``None``: those of :data:`INDEX_COLUMNS`
    it has (possibly none). The day comes from the first of ``day_columns`` present. Raises
    :class:`~solarray.data.tables.table.TableError` naming the file and the expected columns.
    """
    df = read_table(path, what)
    tcol = next((c for c in day_columns if c in df.columns), None)
    cols = [c for c in INDEX_COLUMNS if c in df.columns] if columns is None else list(columns)
    missing = [c for c in cols if c not in df.columns]
    if tcol is None or missing:
        day = " or ".join(repr(c) for c in day_columns)
        raise TableError(f"{what} {path}: needs a day column ({day}) and "
                         f"{', '.join(map(repr, cols))}; it has {', '.join(map(str, df.columns))}")
    out = pd.DataFrame({c: pd.to_numeric(df[c], errors="coerce").to_numpy(dtype=np.float64)
                        for c in cols}, index=day_index(df[tcol], path, tcol, what))
    out.index.name = "date"
    return out.sort_index(kind="stable")


def read_index_series(path: str | os.PathLike, target: str) -> pd.Series:
    """Daily ``target`` values of a ``date``-keyed table, indexed by ``datetime64[D]`` (see the
    module docstring); raises :class:`~solarray.data.tables.table.TableError` naming the file."""
    df = read_table(path, "series")
    if "date" not in df.columns:
        raise TableError(f"series {path}: no 'date' column (expected date and {target!r}; "
                         f"it has {', '.join(map(str, df.columns))})")
    if target not in df.columns:
        raise TableError(f"series {path}: no column {target!r} (it has "
                         f"{', '.join(map(str, df.columns))})")
    days = day_index(df["date"], path, "date", "series").to_numpy().astype("datetime64[D]")
    y = pd.to_numeric(df[target], errors="coerce").to_numpy(dtype=np.float64)
    s = pd.Series(y, index=pd.DatetimeIndex(days)).dropna()
    s = s[np.isfinite(s.to_numpy())]
    return s.groupby(level=0).mean().sort_index()


def index_at(values: pd.Series, times, *, hour: float = MEASURED_HOUR_UTC,
             max_age_days: float | None = MAX_INDEX_AGE_DAYS) -> np.ndarray:
    """The index an observation at each of ``times`` may use, float ``[len(times)]``: the latest
    finite value of ``values`` (indexed by day: midnight, naive UTC, as :func:`read_indices`
    gives) whose measurement time, day + ``hour`` h, is ≤ the observation time. NaN when there
    is none, it is older than ``max_age_days`` (``None``: no limit), or the time is unknown.
    ``times``: anything :func:`pandas.to_datetime` reads (naive = UTC)."""
    t = pd.to_datetime(pd.Series(times, dtype=object), utc=True, errors="coerce")
    t = t.dt.tz_convert(None).to_numpy("datetime64[ns]")
    v = pd.to_numeric(pd.Series(values.to_numpy()), errors="coerce").to_numpy(np.float64)
    days = pd.DatetimeIndex(pd.to_datetime(values.index, utc=True)).tz_convert(None).normalize()
    ok = np.isfinite(v) & ~days.isna()
    measured = (days[ok] + pd.Timedelta(hours=hour)).to_numpy("datetime64[ns]")
    order = np.argsort(measured, kind="stable")
    measured, v = measured[order], v[ok][order]
    out = np.full(len(t), np.nan)
    i = np.searchsorted(measured, t, side="right") - 1  # NaT sorts last: masked below
    known = (i >= 0) & ~np.isnat(t)
    if max_age_days is not None:
        age = t - measured[np.clip(i, 0, None)] if len(measured) else t - t
        known &= age <= np.timedelta64(int(round(max_age_days * 86400)), "s")
    out[known] = v[i[known]]
    return out


__all__ = ["DAY_COLUMNS", "INDEX_COLUMNS", "MAX_INDEX_AGE_DAYS", "MEASURED_HOUR_UTC", "day_index",
           "index_at", "read_index_series", "read_indices"]
