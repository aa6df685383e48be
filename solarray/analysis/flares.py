"""Flares from GOES XRS 1–8 Å flux: the NOAA/SEPC detection rule, GOES classes,
localisation with AIA 193 Å; the 24 h flare index (SA-AI 2025: ``100·N_X + 10·N_M + 1·N_C`` over
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
Reading and cleaning the XRS files is :mod:`solarray.data.tables.goes_xrs` (:func:`read_xrs`,
:class:`XRSData`, :class:`XRSReadError`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
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
from solarray.data.tables.goes_xrs import XRSData, read_xrs

EVENT_COLUMNS = ["start", "peak", "end", "peak_flux", "goes_class", "start_flux", "end_reason",
                 "complete", "gap_minutes"]


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
