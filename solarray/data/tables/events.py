"""Flare event lists: the synthetic Sun's ``tables/events.parquet`` (or ``events.csv``), a list of
flares located by AIA 193 Å, or any table of flares with a GOES class.

:func:`read_flare_events` returns one row per flare (file order, RangeIndex) with:

* ``start``, ``peak``, ``end``: naive pandas Timestamps in UTC (NaT where blank) — those of the
  three the file has (``required`` says which must be there);
* ``goes_class``: str, e.g. ``'M2.5'`` ('' where blank);
* ``peak_flux``: float, W m⁻² — the file's, else from ``goes_class`` ('' → 0);
* ``hgs_lon``, ``hgs_lat``: float, degrees Stonyhurst (west and north positive), NaN where the
  flare has no position (both NaN when the file has no positions at all);
* any other column of the file, unchanged (e.g. the synthetic ``ar_number``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import pandas as pd

from solarray.core.goes import class_to_flux
from solarray.data.tables.table import TableError, naive_utc, read_table

TIME_COLUMNS = ("start", "peak", "end")


def _flux(goes_class: str) -> float:
    """Peak flux (W m⁻²) of an event's class; an empty class counts as no flux (0)."""
    s = str(goes_class or "").strip()
    return class_to_flux(s) if s else 0.0


def read_flare_events(path: str | os.PathLike, *,
                      required: Sequence[str] = ("peak", "goes_class")) -> pd.DataFrame:
    """The flare event list in ``path`` (Parquet or CSV) as the table of the module docstring.

    Raises :class:`~solarray.data.tables.table.TableError` naming the file when it is missing,
    unreadable or lacks a ``required`` column.
    """
    df = read_table(path, "flare events", columns=required).copy()
    for c in TIME_COLUMNS:
        if c in df.columns:
            df[c] = naive_utc(df[c]).to_numpy()
    if "goes_class" in df.columns:
        cls = df["goes_class"]
        df["goes_class"] = cls.where(cls.notna(), "").astype(str)
        if "peak_flux" not in df.columns:
            try:
                df["peak_flux"] = df["goes_class"].map(_flux).astype(float)
            except ValueError as err:
                raise TableError(f"flare events {path}: {err}") from None
    for c in ("hgs_lon", "hgs_lat"):
        df[c] = pd.to_numeric(df[c], errors="coerce") if c in df.columns else np.nan
    return df


__all__ = ["TIME_COLUMNS", "read_flare_events"]
