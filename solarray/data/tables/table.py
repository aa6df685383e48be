"""The one reader of tabular files (Parquet or CSV) behind every table source.

:func:`read_table` picks the format by suffix (``.csv``/``.txt``, optionally gzipped, → CSV;
``.parquet``/``.pq`` → Parquet; anything else: Parquet, then CSV), checks the columns a source
needs and raises :class:`TableError` naming the file and what was expected. :func:`find_table` looks a named table up in a directory and
:func:`naive_utc` is the one time convention of the readers: naive pandas Timestamps in UTC.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

#: Suffixes read as CSV and as Parquet; a file with another suffix is tried as Parquet, then CSV.
CSV_SUFFIXES = (".csv", ".txt", ".csv.gz", ".txt.gz")
PARQUET_SUFFIXES = (".parquet", ".pq")


class TableError(ValueError):
    """A table file that is missing, unreadable or lacks the columns its source needs; the message
    names the file and what was expected."""


def read_table(path: str | os.PathLike, what: str = "table", *,
               columns: Sequence[str] = ()) -> pd.DataFrame:
    """The rows of the Parquet or CSV file ``path`` as a DataFrame (columns as stored).

    ``what`` names the source in error messages (e.g. ``"series"``, ``"flare events"``);
    ``columns``: columns the table must have. Raises :class:`TableError` when the file does not
    exist, cannot be read as CSV/Parquet, or lacks one of ``columns``.
    """
    path = Path(path)
    if not path.exists():
        raise TableError(f"{what} {path}: no such file")
    if path.is_dir():
        raise TableError(f"{what} {path}: is a directory, expected a Parquet or CSV file")
    name = path.name.lower()
    readers = ((pd.read_csv,) if name.endswith(CSV_SUFFIXES)
               else (pd.read_parquet,) if name.endswith(PARQUET_SUFFIXES)
               else (pd.read_parquet, pd.read_csv))  # unknown suffix: Parquet, then CSV
    try:
        for i, reader in enumerate(readers):
            try:
                df = reader(path)
                break
            except Exception:  # noqa: BLE001
                if i == len(readers) - 1:
                    raise
    except Exception as err:  # noqa: BLE001 - pandas/pyarrow raise many types for foreign files
        raise TableError(f"{what} {path}: cannot read it as CSV/Parquet "
                         f"({type(err).__name__}: {str(err)[:200]})") from None
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise TableError(f"{what} {path}: needs columns {list(columns)}, lacks {missing} "
                         f"(it has {', '.join(map(str, df.columns))})")
    return df


def find_table(directory: str | os.PathLike, name: str,
               suffixes: Sequence[str] = (".parquet", ".csv")) -> Path | None:
    """``directory/<name><suffix>`` for the first suffix that exists, else ``None``."""
    for suffix in suffixes:
        p = Path(directory) / f"{name}{suffix}"
        if p.exists():
            return p
    return None


def naive_utc(values) -> pd.Series:
    """Times (strings, datetimes, tz-aware or naive) → naive pandas Timestamps in UTC; naive input
    is taken as UTC."""
    s = pd.to_datetime(pd.Series(values), utc=True)
    return s.dt.tz_convert("UTC").dt.tz_localize(None)


__all__ = ["CSV_SUFFIXES", "PARQUET_SUFFIXES", "TableError", "find_table", "naive_utc", "read_table"]
