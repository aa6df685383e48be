"""Flares from GOES XRS 1–8 Å flux: reading, cleaning, the NOAA/SEPC detection rule, GOES classes,
localisation with AIA 193 Å; the 24 h flare index (seed 004: ``100·N_X + 10·N_M + 1·N_C`` over
flares ≥ C5.0 by default) lives in :mod:`solarray.analysis.flare_index` and is re-exported here.

Detection (NOAA/SWPC event definition, as SEPC applies it to 1-minute data):

* **start**: the first minute of four consecutive minutes of strictly monotonic increase whose
  fourth value is ≥ 1.4 × the first;
* **peak**: the minute of maximum flux until the end;
* **end**: the first minute after the peak at which the flux has fallen halfway back from the
  peak to the pre-flare level (the flux at the start minute);
* a **second flare during the decay**: if, after the peak and before the end, a new start
  condition is met, the current event ends at that minute and a new event starts there.

Fluxes are W m⁻². GOES-13–15 operational fluxes are used as stored (no SWPC 0.7 rescaling).
Times are UTC pandas Timestamps (tz-naive, UTC by convention, as sunpy's TimeSeries gives them).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from solarray.analysis import coords as C
from solarray.analysis.flare_index import (  # noqa: F401  (re-exported: one FI rule)
    FI_MIN_CLASS,
    FI_WEIGHT,
    FI_WEIGHTINGS,
    flare_index,
    flare_index_series,
    flare_weights,
)
from solarray.core.goes import goes_class

EVENT_COLUMNS = ["start", "peak", "end", "peak_flux", "goes_class", "start_flux", "end_reason",
                 "complete", "gap_minutes"]


class XRSReadError(ValueError):
    """An XRS file that cannot be read or holds no usable 1–8 Å flux."""


# ---------------------------------------------------------------------------------------------
# Reading and cleaning
# ---------------------------------------------------------------------------------------------
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
    columns time, xrsa, xrsb) and clean it with :func:`clean_xrs`."""
    path = Path(path)
    if not path.exists():
        raise XRSReadError(f"{path}: no such file")
    name = path.name.lower()
    try:
        if name.endswith((".parquet", ".csv")):
            df = pd.read_parquet(path) if name.endswith(".parquet") else pd.read_csv(path)
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
    except Exception as err:  # sunpy raises many types for foreign files
        raise XRSReadError(f"{path}: not readable as GOES XRS ({type(err).__name__}: {err})") from err
    try:
        data = clean_xrs(df, max_interp_minutes=max_interp_minutes)
    except XRSReadError as err:
        raise XRSReadError(f"{path}: {err}") from err
    data.source = str(path)
    return data


# ---------------------------------------------------------------------------------------------
# Detection
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DetectConfig:
    """NOAA/SEPC rule parameters (defaults are the operational rule)."""

    rise_minutes: int = 4  # consecutive 1-min values of monotonic increase
    rise_ratio: float = 1.4  # last / first of those values
    min_peak_flux: float = 0.0  # W m-2; events peaking below are dropped (0 = keep all)


def _trigger(f: np.ndarray, j: int, n: int, ratio: float) -> bool:
    w = f[j:j + n]
    if len(w) < n or not np.all(np.isfinite(w)):
        return False
    # Relative tolerance so that e.g. 1.4e-6 vs 1.4 × 1e-6 is not lost to binary rounding.
    return bool(np.all(np.diff(w) > 0) and w[-1] >= ratio * w[0] * (1 - 1e-12))


def detect_flares(flux: pd.Series, config: DetectConfig = DetectConfig()) -> pd.DataFrame:
    """Flares in a 1-minute 1–8 Å series (W m⁻², DatetimeIndex, NaN = missing).

    Returns a DataFrame with :data:`EVENT_COLUMNS`: ``start``/``peak``/``end`` Timestamps
    (``end`` NaT if the data stop before the end), ``peak_flux`` and ``start_flux`` (W m⁻²),
    ``goes_class``, ``end_reason`` ('half' | 'next_flare' | 'data_end'), ``complete``,
    ``gap_minutes`` (missing minutes inside the event).
    """
    if not isinstance(flux.index, pd.DatetimeIndex):
        raise ValueError("detect_flares needs a series with a DatetimeIndex")
    f = flux.to_numpy(dtype=float)
    t = flux.index
    n, ratio = config.rise_minutes, config.rise_ratio
    events = []
    k = 0
    N = len(f)
    while k < N:
        if not _trigger(f, k, n, ratio):
            k += 1
            continue
        start, pre, peak = k, f[k], k
        end, reason = None, "data_end"
        j = k + 1
        while j < N:
            v = f[j]
            if np.isfinite(v):
                if v > f[peak]:
                    peak = j
                elif j > peak:
                    if v <= (f[peak] + pre) / 2.0:
                        end, reason = j, "half"
                        break
                    if _trigger(f, j, n, ratio):
                        end, reason = j, "next_flare"
                        break
            j += 1
        stop = end if end is not None else N - 1
        events.append({
            "start": t[start], "peak": t[peak], "end": t[end] if end is not None else pd.NaT,
            "peak_flux": float(f[peak]), "goes_class": goes_class(f[peak]),
            "start_flux": float(pre), "end_reason": reason, "complete": end is not None,
            "gap_minutes": int(np.isnan(f[start:stop + 1]).sum()),
        })
        if end is None:
            break
        k = end  # the end minute may itself start the next flare
    df = pd.DataFrame(events, columns=EVENT_COLUMNS)
    if config.min_peak_flux > 0 and len(df):
        df = df[df["peak_flux"] >= config.min_peak_flux].reset_index(drop=True)
    return df


def detect_from_file(path: str | Path, config: DetectConfig = DetectConfig(), *,
                     max_interp_minutes: int = 3) -> tuple[pd.DataFrame, XRSData]:
    """Read an XRS file and detect flares in its 1–8 Å channel."""
    data = read_xrs(path, max_interp_minutes=max_interp_minutes)
    return detect_flares(data.flux["xrsb"], config), data


def events_to_records(events: pd.DataFrame) -> list[dict]:
    """Events → JSON-ready dicts (ISO UTC times ending in 'Z', None for missing)."""
    out = []
    for row in events.to_dict("records"):
        rec = {}
        for k, v in row.items():
            if isinstance(v, pd.Timestamp):
                rec[k] = None if pd.isna(v) else v.strftime("%Y-%m-%dT%H:%M:%SZ")
            elif v is pd.NaT or (isinstance(v, float) and math.isnan(v)):
                rec[k] = None
            elif isinstance(v, np.generic):
                rec[k] = v.item()
            else:
                rec[k] = v
        out.append(rec)
    return out


# ---------------------------------------------------------------------------------------------
# Localisation
# ---------------------------------------------------------------------------------------------
def _rate(smap) -> np.ndarray:
    """AIA data as DN/s (divides by EXPTIME when present and positive)."""
    data = np.asarray(smap.data, dtype=float)
    exp = smap.meta.get("exptime")
    try:
        exp = float(exp)
    except (TypeError, ValueError):
        exp = 0.0
    return data / exp if exp > 0 else data


def localise_flare(start_map, peak_map, grid_map, ar_labels: np.ndarray, ar_table: pd.DataFrame,
                   *, geometry=None, smooth_px: float = 1.5, max_distance_deg: float = 15.0,
                   assume_earth: bool = False) -> dict:
    """Locate a flare by the AIA 193 Å brightening (peak − start, DN/s) and credit it to an AR.

    ``start_map``/``peak_map``: AIA 193 Å maps at the flare start and peak (any grid; resampled
    onto ``grid_map``, the grid of ``ar_labels`` [H, W] int, 0 = no AR). ``ar_table`` rows give
    ``label``, ``number``, ``hgs_lon``, ``hgs_lat`` of the ARs. The brightest on-disk pixel of
    the smoothed difference is the flare site; the AR whose label covers it is credited
    (``method='inside'``), else the nearest AR centre within ``max_distance_deg``
    (``'nearest'``), else none (``ar_number=None``, ``method='none'``).
    """
    from scipy import ndimage

    g = geometry or C.map_geometry(grid_map, assume_earth=assume_earth)
    a = C.resample_to(_as_map(start_map, _rate(start_map)), grid_map, assume_earth=assume_earth)
    b = C.resample_to(_as_map(peak_map, _rate(peak_map)), grid_map, assume_earth=assume_earth)
    diff = np.nan_to_num(b - a, nan=0.0)
    if smooth_px > 0:
        diff = ndimage.gaussian_filter(diff, smooth_px)
    diff = np.where(g.on_disk, diff, -np.inf)
    if not np.isfinite(diff).any():
        return {"x": None, "y": None, "hgs_lon": None, "hgs_lat": None, "ar_number": None,
                "method": "none", "brightening": None, "note": "no on-disk pixels"}
    y, x = np.unravel_index(int(np.argmax(diff)), diff.shape)
    lon, lat = float(g.lon[y, x]), float(g.lat[y, x])
    out = {"x": int(x), "y": int(y), "hgs_lon": lon, "hgs_lat": lat,
           "brightening": float(diff[y, x]), "ar_number": None, "method": "none"}
    lab = int(ar_labels[y, x]) if ar_labels is not None else 0
    if lab > 0 and len(ar_table):
        hit = ar_table[ar_table["label"] == lab]
        if len(hit):
            out.update(ar_number=int(hit["number"].iloc[0]), method="inside")
            return out
    if ar_table is not None and len(ar_table):
        d = C.great_circle_deg(ar_table["hgs_lon"].to_numpy(float),
                               ar_table["hgs_lat"].to_numpy(float), lon, lat)
        i = int(np.argmin(d))
        if d[i] <= max_distance_deg:
            out.update(ar_number=int(ar_table["number"].iloc[i]), method="nearest",
                       distance_deg=float(d[i]))
    return out


def _as_map(smap, data):
    import sunpy.map

    return sunpy.map.Map(data, smap.meta)
