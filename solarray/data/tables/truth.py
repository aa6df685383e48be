"""The truth tables ingest joins to samples: a synthetic-Sun ``tables/`` directory (or any directory
holding ``events.parquet``/``.csv`` and ``indices.parquet``/``.csv``) and a user's label CSV.

* :func:`read_truth_events` — ``events``: the flare list of
  :func:`~solarray.data.tables.events.read_flare_events` (``start`` naive UTC, ``goes_class``,
  ``peak_flux`` W m⁻², …), sorted by ``start`` (RangeIndex);
* :func:`read_truth_indices` — ``indices``: :func:`~solarray.data.tables.indices.read_indices`
  with whichever of ``f107``/``f30`` (sfu) the file has, indexed by ``date`` (midnight UTC);
* :func:`read_user_labels` — a user CSV with a time column (``time``, ``t_obs``, ``date`` or
  ``datetime``): ``_t`` (naive UTC Timestamps) and the other columns as stored, sorted by ``_t``.

The first two return ``None`` when the directory has no such table.
"""

from __future__ import annotations

import os

import pandas as pd

from solarray.data.tables.events import read_flare_events
from solarray.data.tables.indices import read_indices
from solarray.data.tables.table import TableError, find_table, naive_utc, read_table

#: Columns that may hold the time of a user label row, in order of preference.
LABEL_TIME_COLUMNS = ("time", "t_obs", "date", "datetime")


def read_truth_events(tables_dir: str | os.PathLike) -> pd.DataFrame | None:
    """``tables_dir/events.parquet`` (or ``.csv``) sorted by ``start``; ``None`` if absent."""
    path = find_table(tables_dir, "events")
    if path is None:
        return None
    ev = read_flare_events(path, required=("start", "goes_class"))
    return ev.sort_values("start").reset_index(drop=True)


def read_truth_indices(tables_dir: str | os.PathLike) -> pd.DataFrame | None:
    """``tables_dir/indices.parquet`` (or ``.csv``) by ``date``; ``None`` if absent."""
    path = find_table(tables_dir, "indices")
    return None if path is None else read_indices(path, None, day_columns=("date",))


def read_user_labels(path: str | os.PathLike) -> pd.DataFrame:
    """A user's label table (see the module docstring); raises
    :class:`~solarray.data.tables.table.TableError` naming the file without a time column."""
    user = read_table(path, "labels")
    tcol = next((c for c in LABEL_TIME_COLUMNS if c in user.columns), None)
    if tcol is None:
        raise TableError(f"{path}: no time column (expected one of time, t_obs, date)")
    user["_t"] = naive_utc(user[tcol])
    return user.drop(columns=[tcol]).sort_values("_t").reset_index(drop=True)


__all__ = ["LABEL_TIME_COLUMNS", "read_truth_events", "read_truth_indices", "read_user_labels"]
