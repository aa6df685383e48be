"""Forecast files for verification: read a forecast CSV (``observed`` 0/1, ``probability`` in
[0, 1]; other columns ignored) with errors that name the file, column and CSV line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from solarray.core.errors import UsageError


def read_forecast_csv(path: Path, *, omit_nan: bool = False):
    """Read ``observed`` and ``probability`` from a CSV as float arrays [N] (checked).

    Raises :class:`solarray.core.errors.UsageError` naming the file, column and CSV line of the first
    problem: missing column, non-numeric value, empty cell, observed not 0/1, probability outside
    [0, 1]. Empty probability cells are dropped instead when ``omit_nan``; returns
    ``(observed, probability, n_dropped)``.
    """
    if not path.is_file():
        raise UsageError(f"--forecasts: no such file: {path}")
    try:
        frame = pd.read_csv(
            path, dtype=str, keep_default_na=False, skipinitialspace=True, encoding="utf-8-sig"
        )
    except pd.errors.EmptyDataError:
        raise UsageError(
            f"{path}: empty CSV (expected columns 'observed' and 'probability')"
        ) from None
    except (pd.errors.ParserError, UnicodeDecodeError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise UsageError(f"{path}: not a readable CSV: {first}") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    for col in ("observed", "probability"):
        if col not in frame.columns:
            have = ", ".join(repr(c) for c in frame.columns) or "none"
            raise UsageError(f"{path}: missing column '{col}' (columns: {have})")
    if len(frame) == 0:
        raise UsageError(f"{path}: no rows")

    def numeric(col: str) -> np.ndarray:
        text = frame[col].str.strip()
        values = pd.to_numeric(text, errors="coerce").to_numpy(dtype=np.float64)
        lower = text.str.lower()
        # Boolean spellings are valid labels.
        if col == "observed":
            values = np.where(lower == "true", 1.0, np.where(lower == "false", 0.0, values))
        bad = np.isnan(values) & ~((text == "") | lower.isin(["nan", "na"]))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise UsageError(
                f"{path}: column '{col}' line {i + 2}: non-numeric value {frame[col].iloc[i]!r}"
            )
        return values

    observed = numeric("observed")
    probability = numeric("probability")
    missing_o = np.isnan(observed)
    if missing_o.any():
        i = int(np.flatnonzero(missing_o)[0])
        raise UsageError(f"{path}: column 'observed' line {i + 2}: empty value")
    bad = ~((observed == 0.0) | (observed == 1.0))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise UsageError(
            f"{path}: column 'observed' line {i + 2}: must be 0 or 1, got {frame['observed'].iloc[i]!r}"
        )
    missing_p = np.isnan(probability)
    dropped = 0
    if missing_p.any():
        if not omit_nan:
            i = int(np.flatnonzero(missing_p)[0])
            raise UsageError(
                f"{path}: column 'probability' line {i + 2}: empty/NaN value "
                f"({int(missing_p.sum())} such rows; --omit-nan drops them)"
            )
        dropped = int(missing_p.sum())
        observed, probability = observed[~missing_p], probability[~missing_p]
        if observed.size == 0:
            raise UsageError(f"{path}: column 'probability' has no values (all empty/NaN)")
    bad = ~((probability >= 0.0) & (probability <= 1.0))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        line = int(np.flatnonzero(~missing_p)[i]) + 2
        raise UsageError(
            f"{path}: column 'probability' line {line}: must lie in [0, 1], got "
            f"{frame['probability'].iloc[line - 2]!r}"
        )
    return observed, probability, dropped


__all__ = ["read_forecast_csv"]
