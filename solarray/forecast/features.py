"""FPNet's input tables: per-AR and full-disk physical features with ≥M-in-24-h labels.

FPNet reads features from a table (CSV or Parquet), so IATools output, NOAA SRS-derived tables and
the synthetic Sun's truth all work. Columns (per-AR table, one row per region per time):

* ``t_obs`` (UTC), ``ar_number``, ``hgs_lon``, ``hgs_lat`` (deg, Stonyhurst);
* physical features: ``area_msh`` (MSH), ``hale`` ('alpha' | 'beta' | 'beta-x'), ``mcintosh``
  (Z letter A–H), ``flare_index`` (FI over the previous 24 h, REFERENCE.md), ``log_r``
  (log10 Schrijver R; NaN when unknown), ``f107`` (sfu, daily);
* ``label``: 1 if that region produces a ≥M1.0 flare starting in (t, t + 24 h], else 0.

The full-disk table (:func:`full_disk_table`) has one row per time with disk-level aggregates
(FI summed, total area, region count, most complex Hale/McIntosh class) and the disk label.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from solarray.models.fpnet import CATEGORY_VOCAB

M1_FLUX = 1e-5  # W m⁻²
_CLASS_BASE = {"A": 1e-8, "B": 1e-7, "C": 1e-6, "M": 1e-5, "X": 1e-4}
#: Columns a per-AR feature table must have (others optional: NaN/unknown when absent).
AR_REQUIRED = ("t_obs", "ar_number", "hgs_lon", "hgs_lat")
AR_FEATURES = ("f107", "flare_index", "log_r", "area_msh", "mcintosh", "hale")
DISK_FEATURES = ("f107", "flare_index", "area_msh", "n_ar", "mcintosh", "hale")


def class_flux(goes_class: str) -> float:
    """GOES class ('M2.5') → peak flux, W m⁻²."""
    s = str(goes_class).strip().upper()
    if not s or s[0] not in _CLASS_BASE:
        raise ValueError(f"not a GOES class: {goes_class!r}")
    return _CLASS_BASE[s[0]] * (float(s[1:]) if len(s) > 1 else 1.0)


def _utc_naive(values) -> pd.Series:
    t = pd.to_datetime(pd.Series(values), utc=True)
    return t.dt.tz_localize(None).astype("datetime64[us]")


def flare_index_at(events: pd.DataFrame, times: Sequence, window_hours: float = 24.0,
                   by_ar: Sequence[int] | None = None) -> np.ndarray:
    """FI = 100·ΣX + 10·ΣM + 1·ΣC of flares peaking in (t − window, t] (class magnitudes summed),
    for each ``times[i]`` (and only region ``by_ar[i]`` when given). ``events`` needs ``peak``
    (or ``start``), ``goes_class`` and, with ``by_ar``, ``ar_number``."""
    t = _utc_naive(times).to_numpy()
    out = np.zeros(len(t))
    if events is None or len(events) == 0:
        return out
    tcol = "peak" if "peak" in events.columns else "start"
    et = _utc_naive(events[tcol]).to_numpy()
    cls = events["goes_class"].astype(str).str.strip().str.upper()
    weight = {"C": 1.0, "M": 10.0, "X": 100.0}
    w = np.array([weight.get(c[:1], 0.0) * (float(c[1:]) if len(c) > 1 else 1.0) for c in cls])
    win = np.timedelta64(int(window_hours * 3600), "s")
    ar = events["ar_number"].to_numpy() if by_ar is not None else None
    for i, ti in enumerate(t):
        sel = (et > ti - win) & (et <= ti)
        if by_ar is not None:
            sel &= ar == by_ar[i]
        out[i] = w[sel].sum()
    return out


def flare_labels(events: pd.DataFrame, times: Sequence, horizon_hours: float = 24.0,
                 by_ar: Sequence[int] | None = None, min_flux: float = M1_FLUX) -> np.ndarray:
    """1 if a flare ≥ ``min_flux`` (default M1.0) starts in (t, t + horizon] (from region
    ``by_ar[i]`` when given), else 0; int64 ``[len(times)]``."""
    t = _utc_naive(times).to_numpy()
    out = np.zeros(len(t), dtype=np.int64)
    if events is None or len(events) == 0:
        return out
    flux = events["peak_flux"].to_numpy() if "peak_flux" in events.columns else \
        np.array([class_flux(c) for c in events["goes_class"]])
    big = events[flux >= min_flux * (1 - 1e-9)]
    st = _utc_naive(big["start"]).to_numpy()
    ar = big["ar_number"].to_numpy() if by_ar is not None else None
    h = np.timedelta64(int(horizon_hours * 3600), "s")
    for i, ti in enumerate(t):
        sel = (st > ti) & (st <= ti + h)
        if by_ar is not None:
            sel &= ar == by_ar[i]
        out[i] = int(sel.any())
    return out


def _daily(indices: pd.DataFrame | None, times: pd.Series, column: str = "f107") -> np.ndarray:
    if indices is None or column not in indices:
        return np.full(len(times), np.nan)
    lut = dict(zip(pd.to_datetime(indices["date"]).dt.date, indices[column].astype(float),
                   strict=True))
    return np.array([lut.get(t.date(), np.nan) for t in times])


def synthetic_ar_table(synth_dir: str | os.PathLike, run: str | None = None) -> pd.DataFrame:
    """The per-AR table of one synthetic-Sun output directory (its ``tables/``): positions, area,
    Hale, McIntosh from ``ar.parquet``; flare index and labels from ``events.parquet``; F10.7
    from ``indices.parquet``. ``log_r`` is NaN (IATools computes it from magnetograms)."""
    tables = Path(synth_dir) / "tables"
    if not (tables / "ar.parquet").exists():
        raise FileNotFoundError(f"{tables}/ar.parquet not found (a synthetic-Sun output dir?)")
    ar = pd.read_parquet(tables / "ar.parquet")
    events = pd.read_parquet(tables / "events.parquet")
    indices = pd.read_parquet(tables / "indices.parquet") \
        if (tables / "indices.parquet").exists() else None
    t = _utc_naive(ar["t_obs"])
    out = pd.DataFrame({
        "t_obs": t.to_numpy(), "ar_number": ar["ar_number"].astype(np.int64).to_numpy(),
        "hgs_lon": ar["hgs_lon"].astype(float).to_numpy(),
        "hgs_lat": ar["hgs_lat"].astype(float).to_numpy(),
        "area_msh": ar["area_msh"].astype(float).to_numpy(),
        "hale": ar["hale"].astype(str).to_numpy(), "mcintosh": ar["mcintosh"].astype(str).to_numpy(),
    })
    nums = out["ar_number"].to_numpy()
    out["flare_index"] = flare_index_at(events, t, by_ar=nums)
    out["log_r"] = np.nan
    out["f107"] = _daily(indices, t)
    out["label"] = flare_labels(events, t, by_ar=nums)
    out["disk_label"] = flare_labels(events, t)
    out["disk_flare_index"] = flare_index_at(events, t)
    if run is not None:
        out["run"] = run
    return out


def read_table(path: str | os.PathLike) -> pd.DataFrame:
    """A feature table from CSV or Parquet, ``t_obs`` parsed as naive UTC."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"feature table not found: {path}")
    if path.suffix.lower() == ".parquet":
        df = pd.read_parquet(path)
    elif path.suffix.lower() == ".csv":
        df = pd.read_csv(path)
    else:
        raise ValueError(f"{path}: feature tables must be .csv or .parquet")
    tcol = next((c for c in ("t_obs", "time", "sample_id") if c in df.columns), None)
    if tcol is None:
        raise ValueError(f"{path}: no time column (expected t_obs, time or sample_id)")
    df["t_obs"] = _utc_naive(df[tcol]).to_numpy()
    return df


def write_table(df: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write CSV or Parquet by suffix, atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    if path.suffix.lower() == ".parquet":
        df.to_parquet(tmp, index=False)
    else:
        df.to_csv(tmp, index=False)
    os.replace(tmp, path)
    return path


def _most_complex(values: pd.Series, name: str) -> str | None:
    vocab = [v.lower() for v in CATEGORY_VOCAB[name]]
    ranks = [vocab.index(str(v).lower()) for v in values if str(v).lower() in vocab]
    return CATEGORY_VOCAB[name][max(ranks)] if ranks else None


def full_disk_table(ar_table: pd.DataFrame, times: Sequence | None = None) -> pd.DataFrame:
    """One row per time: ``f107``, ``flare_index`` (disk FI: ``disk_flare_index`` if present,
    else the regions' sum), ``area_msh`` (total), ``n_ar``, most complex ``mcintosh``/``hale``
    and ``label`` (``disk_label`` if present, else any region's label). ``times`` adds rows
    (no regions) for times without any region."""
    df = ar_table.copy()
    df["t_obs"] = _utc_naive(df["t_obs"]).to_numpy()
    rows = []
    for t, g in df.groupby("t_obs", sort=True):
        rows.append({
            "t_obs": t,
            "f107": float(g["f107"].iloc[0]) if "f107" in g else np.nan,
            "flare_index": float(g["disk_flare_index"].iloc[0]) if "disk_flare_index" in g
            else float(g["flare_index"].sum()) if "flare_index" in g else np.nan,
            "area_msh": float(g["area_msh"].sum()) if "area_msh" in g else np.nan,
            "n_ar": float(len(g)),
            "mcintosh": _most_complex(g["mcintosh"], "mcintosh") if "mcintosh" in g else None,
            "hale": _most_complex(g["hale"], "hale") if "hale" in g else None,
            "label": int(g["disk_label"].iloc[0]) if "disk_label" in g
            else int(g["label"].max()) if "label" in g else -1,
        })
    out = pd.DataFrame(rows)
    if times is not None:
        have = set(out["t_obs"]) if len(out) else set()
        extra = [{"t_obs": t, "n_ar": 0.0, "flare_index": 0.0, "area_msh": 0.0}
                 for t in _utc_naive(times) if t not in have]
        if extra:
            out = pd.concat([out, pd.DataFrame(extra)], ignore_index=True)
    return out.sort_values("t_obs").reset_index(drop=True)


def feature_arrays(table: pd.DataFrame, scalar_features: Sequence[str],
                   categorical_features: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """``(scalars float32 [N, Ks] (NaN where absent), categories int64 [N, Kc] (0 unknown))``."""
    from solarray.models.fpnet import encode_categories

    n = len(table)
    scal = np.full((n, len(scalar_features)), np.nan, dtype=np.float32)
    for j, name in enumerate(scalar_features):
        if name in table.columns:
            scal[:, j] = pd.to_numeric(table[name], errors="coerce").to_numpy(np.float32)
    cats = np.zeros((n, len(categorical_features)), dtype=np.int64)
    for j, name in enumerate(categorical_features):
        if name in table.columns:
            cats[:, j] = encode_categories(table[name].tolist(), name)
    return scal, cats
