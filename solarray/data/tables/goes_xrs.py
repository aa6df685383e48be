"""GOES XRS 1–8 Å and 0.5–4 Å flux: the real GOES files (FITS/netCDF, read by sunpy's
``TimeSeries``) or a solarray ``time, xrsa, xrsb`` Parquet/CSV (the synthetic Sun's
``tables/xrs.parquet``), cleaned onto a 1-minute grid.

:func:`read_xrs` returns :class:`XRSData`, whose ``flux`` table is:

* index: ``DatetimeIndex``, 1-minute bins (the mean of the samples in each minute), naive UTC
  (UTC by convention, as sunpy's TimeSeries gives them), sorted, contiguous;
* ``xrsb``: 1–8 Å flux, W m⁻², float (NaN = missing; gaps up to ``max_interp_minutes`` are
  linearly interpolated);
* ``xrsa``: 0.5–4 Å flux, W m⁻², float, when the file has it.

GOES-13–15 operational fluxes are kept as stored (no SWPC 0.7 rescaling). Flare detection on
this flux is :mod:`solarray.analysis.flares`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from solarray.data.tables.table import TableError, read_table


class XRSReadError(TableError):
    """An XRS file that cannot be read or holds no usable 1–8 Å flux."""


@dataclass
class XRSData:
    """1-minute XRS flux (columns ``xrsa``, ``xrsb``, W m⁻², DatetimeIndex UTC) and a report."""

    flux: pd.DataFrame
    report: dict = field(default_factory=dict)
    source: str = ""


def clean_xrs(df: pd.DataFrame, *, max_interp_minutes: int = 3) -> XRSData:
    """Raw XRS samples → 1-minute means with bad values removed, short gaps interpolated.

    Bad samples (set to NaN before averaging): non-finite, ≤ 0 (fill values such as -99999
    included), or flagged by a non-zero ``<channel>_quality``/``<channel>_flag`` column.
    Minutes without valid samples are gaps; gaps up to ``max_interp_minutes`` long are linearly
    interpolated, longer ones stay NaN (the detector never starts a flare across them). The report
    counts what was removed and lists long gaps.
    """
    if not isinstance(df.index, pd.DatetimeIndex):
        raise XRSReadError("XRS data needs a DatetimeIndex")
    chans = [c for c in ("xrsa", "xrsb") if c in df.columns]
    if "xrsb" not in chans:
        raise XRSReadError(f"XRS data has no 'xrsb' (1-8 Å) column; columns: {list(df.columns)}")
    df = df.sort_index()
    if df.index.tz is not None:
        df = df.tz_convert("UTC").tz_localize(None)
    report: dict = {"n_samples": int(len(df))}
    clean = {}
    for c in chans:
        v = pd.to_numeric(df[c], errors="coerce").astype(float)
        nonfinite = ~np.isfinite(v.to_numpy())
        nonpos = np.isfinite(v.to_numpy()) & (v.to_numpy() <= 0)
        flagged = np.zeros(len(v), dtype=bool)
        for q in (f"{c}_quality", f"{c}_flag"):
            if q in df.columns:
                qv = pd.to_numeric(df[q], errors="coerce").fillna(1).to_numpy()
                flagged |= qv != 0
        bad = nonfinite | nonpos | flagged
        report[f"{c}_nonfinite"] = int(nonfinite.sum())
        report[f"{c}_nonpositive"] = int(nonpos.sum())
        report[f"{c}_flagged"] = int((flagged & ~nonfinite & ~nonpos).sum())
        clean[c] = v.where(~bad)
    raw = pd.DataFrame(clean, index=df.index)
    if len(raw) == 0 or raw["xrsb"].notna().sum() == 0:
        raise XRSReadError("XRS data hold no valid 1-8 Å samples (all missing, non-positive "
                           "or flagged)")
    minute = raw.resample("1min").mean()
    missing = minute["xrsb"].isna().to_numpy()
    gaps = _runs(missing)
    report["minutes"] = int(len(minute))
    report["missing_minutes"] = int(missing.sum())
    report["long_gaps"] = [
        {"start": minute.index[a].isoformat(), "minutes": int(b - a)}
        for a, b in gaps if b - a > max_interp_minutes
    ]
    out = minute.copy()
    for c in chans:
        s = minute[c]
        filled = s.interpolate(method="time", limit_area="inside")
        # Keep only the runs no longer than max_interp_minutes.
        keep = np.zeros(len(s), dtype=bool)
        for a, b in _runs(s.isna().to_numpy()):
            if b - a <= max_interp_minutes:
                keep[a:b] = True
        out[c] = s.where(~keep, filled)
    report["interpolated_minutes"] = int(missing.sum() - out["xrsb"].isna().sum())
    return XRSData(flux=out, report=report)


def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) index ranges of consecutive True values."""
    flags = np.asarray(flags, dtype=bool)
    if not flags.any():
        return []
    d = np.diff(np.concatenate([[0], flags.astype(int), [0]]))
    return list(zip(np.nonzero(d == 1)[0], np.nonzero(d == -1)[0], strict=True))


def read_xrs(path: str | Path, *, max_interp_minutes: int = 3) -> XRSData:
    """Read GOES XRS (FITS/netCDF via sunpy TimeSeries, or a solarray ``xrs.parquet``/CSV with
    columns time, xrsa, xrsb) and clean it with :func:`clean_xrs`: :class:`XRSData` whose
    ``flux`` is the 1-minute table of the module docstring. Raises :class:`XRSReadError`
    naming the file."""
    path = Path(path)
    if not path.exists():
        raise XRSReadError(f"{path}: no such file")
    name = path.name.lower()
    try:
        if name.endswith((".parquet", ".csv")):
            df = read_table(path, "GOES XRS table")
            tcol = next((c for c in ("time", "t_obs", "date") if c in df.columns), None)
            if tcol is None:
                raise XRSReadError(f"{path}: table has no 'time' column; columns {list(df.columns)}")
            df = df.set_index(pd.DatetimeIndex(pd.to_datetime(df[tcol], utc=True))).drop(
                columns=[tcol])
        else:
            import sunpy.timeseries

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ts = sunpy.timeseries.TimeSeries(str(path))
            if isinstance(ts, list):
                raise XRSReadError(f"{path}: holds {len(ts)} time series, expected one GOES XRS")
            df = ts.to_dataframe()
    except XRSReadError:
        raise
    except TableError as err:
        raise XRSReadError(str(err)) from err
    except Exception as err:  # sunpy raises many types for foreign files
        raise XRSReadError(f"{path}: not readable as GOES XRS ({type(err).__name__}: {err})") from err
    try:
        data = clean_xrs(df, max_interp_minutes=max_interp_minutes)
    except XRSReadError as err:
        raise XRSReadError(f"{path}: {err}") from err
    data.source = str(path)
    return data


__all__ = ["XRSData", "XRSReadError", "clean_xrs", "read_xrs"]
