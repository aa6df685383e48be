"""FPNet's input tables: per-AR and full-disk physical features with ≥M-in-24-h labels.

FPNet reads features from a table (CSV or Parquet), so IATools output, NOAA SRS-derived tables and
the synthetic Sun's truth all work. Columns (per-AR table, one row per region per time):

* ``t_obs`` (UTC), ``ar_number``, ``hgs_lon``, ``hgs_lat`` (deg, Stonyhurst);
* physical features: ``area_msh`` (MSH), ``hale`` ('alpha' | 'beta' | 'beta-x'), ``mcintosh``
  (Z letter A–H), ``flare_index`` (FI = 100·N_X + 10·N_M + 1·N_C over flares ≥ C5.0 in the
  previous 24 h, :mod:`solarray.analysis.flare_index`; NaN when unknown), ``log_r``
  (log10 Schrijver R; NaN when unknown), ``f107`` (sfu: the latest daily value measured at or
  before ``t_obs``, :func:`~solarray.data.tables.indices.index_at`);
* ``label``: 1 if that region produces a ≥M1.0 flare starting in (t, t + 24 h], else 0.

The full-disk table (:func:`full_disk_table`) has one row per time with disk-level aggregates
(disk FI: ``disk_flare_index`` when present, else the regions' FI summed; total area, region
count, most complex Hale/McIntosh class) and the disk label.

The feature vector FPNet sees is built once, by :func:`feature_arrays`, over a table (training)
or over IATools' per-region / disk dicts (:func:`region_features`, :func:`disk_features`;
serving), so both give the model the same numbers.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from solarray.analysis.flare_index import FI_MIN_CLASS, flare_index_series
from solarray.core.atomic import atomic_path
from solarray.core.classes import encode_categories, most_complex, vocabulary
from solarray.core.goes import class_to_flux
from solarray.data.synthetic import forecast_set
from solarray.data.tables.indices import index_at, read_indices
from solarray.data.tables.table import read_table as read_any_table

M1_FLUX = 1e-5  # W m⁻²
#: Columns a per-AR feature table must have (others optional: NaN/unknown when absent).
AR_REQUIRED = ("t_obs", "ar_number", "hgs_lon", "hgs_lat")
AR_FEATURES = ("f107", "flare_index", "log_r", "area_msh", "mcintosh", "hale")
DISK_FEATURES = ("f107", "flare_index", "area_msh", "n_ar", "mcintosh", "hale")


def utc_naive(values) -> pd.Series:
    """Times (strings, datetimes, aware or naive) → naive UTC ``datetime64[us]`` Series."""
    t = pd.to_datetime(pd.Series(values), utc=True)
    return t.dt.tz_localize(None).astype("datetime64[us]")


def flare_index_at(events: pd.DataFrame, times: Sequence, window_hours: float = 24.0,
                   by_ar: Sequence[int] | None = None, *, weighting: str = "count",
                   min_class: str = FI_MIN_CLASS) -> np.ndarray:
    """FI of flares peaking in (t − window, t] at each ``times[i]``, float ``[len(times)]``:
    the full disk's, or region ``by_ar[i]``'s (flares whose ``ar_number`` equals it). The one rule
    of :func:`solarray.analysis.flare_index.flare_index_series` that serving also uses: by default
    ``100·N_X + 10·N_M + 1·N_C`` over flares ≥ C5.0; NaN (unknown) per region when ``events``
    has no ``ar_number``. ``events`` needs ``peak`` (or ``start``) and ``goes_class``."""
    return flare_index_series(events, times, regions=by_ar, by="ar_number",
                              window_hours=window_hours, weighting=weighting, min_class=min_class)


def flare_labels(events: pd.DataFrame, times: Sequence, horizon_hours: float = 24.0,
                 by_ar: Sequence[int] | None = None, min_flux: float = M1_FLUX) -> np.ndarray:
    """1 if a flare ≥ ``min_flux`` (default M1.0) starts in (t, t + horizon] (from region
    ``by_ar[i]`` when given), else 0; int64 ``[len(times)]``."""
    t = utc_naive(times).to_numpy()
    out = np.zeros(len(t), dtype=np.int64)
    if events is None or len(events) == 0:
        return out
    flux = events["peak_flux"].to_numpy() if "peak_flux" in events.columns else \
        np.array([class_to_flux(c) for c in events["goes_class"]])
    big = events[flux >= min_flux * (1 - 1e-9)]
    st = utc_naive(big["start"]).to_numpy()
    ar = big["ar_number"].to_numpy() if by_ar is not None else None
    h = np.timedelta64(int(horizon_hours * 3600), "s")
    for i, ti in enumerate(t):
        sel = (st > ti) & (st <= ti + h)
        if by_ar is not None:
            sel &= ar == by_ar[i]
        out[i] = int(sel.any())
    return out


def synthetic_ar_table(synth_dir: str | os.PathLike, run: str | None = None) -> pd.DataFrame:
    """The per-AR table of one synthetic-Sun output directory (its ``tables/``): positions, area,
    Hale, McIntosh from ``ar.parquet``; flare index and labels from ``events.parquet``; F10.7
    from ``indices.parquet``. ``log_r`` is NaN (IATools computes it from magnetograms)."""
    tables = Path(synth_dir) / "tables"
    if not (tables / "ar.parquet").exists():
        raise FileNotFoundError(f"{tables}/ar.parquet not found (a synthetic-Sun output dir?)")
    ar = read_any_table(tables / "ar.parquet", "AR truth table")
    events = read_any_table(tables / "events.parquet", "flare events")
    indices = read_indices(tables / "indices.parquet", None) \
        if (tables / "indices.parquet").exists() else None
    t = utc_naive(ar["t_obs"])
    out = pd.DataFrame({
        "t_obs": t.to_numpy(), "ar_number": ar["ar_number"].astype(np.int64).to_numpy(),
        "hgs_lon": ar["hgs_lon"].astype(float).to_numpy(),
        "hgs_lat": ar["hgs_lat"].astype(float).to_numpy(),
        "area_msh": ar["area_msh"].astype(float).to_numpy(),
        "hale": ar["hale"].astype(str).to_numpy(),
        "mcintosh": ar["mcintosh"].astype(str).to_numpy(),
    })
    nums = out["ar_number"].to_numpy()
    out["flare_index"] = flare_index_at(events, t, by_ar=nums)
    out["log_r"] = np.nan
    out["f107"] = index_at(indices["f107"], t) \
        if indices is not None and "f107" in indices else np.nan
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
    if path.suffix.lower() not in (".parquet", ".csv"):
        raise ValueError(f"{path}: feature tables must be .csv or .parquet")
    df = read_any_table(path, "feature table")
    tcol = next((c for c in ("t_obs", "time", "sample_id") if c in df.columns), None)
    if tcol is None:
        raise ValueError(f"{path}: no time column (expected t_obs, time or sample_id)")
    df["t_obs"] = utc_naive(df[tcol]).to_numpy()
    return df


def write_table(df: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write CSV or Parquet by suffix, atomically."""
    path = Path(path)
    with atomic_path(path) as tmp:
        if path.suffix.lower() == ".parquet":
            df.to_parquet(tmp, index=False)
        else:
            df.to_csv(tmp, index=False)
    return path


def _most_complex(values: Sequence, name: str) -> str | None:
    """The most complex class among ``values`` (case-insensitive), in the vocabulary's spelling."""
    canonical = {v.lower(): v for v in vocabulary(name)}
    return most_complex([canonical.get(str(v).lower()) for v in values], name)


def full_disk_table(ar_table: pd.DataFrame, times: Sequence | None = None) -> pd.DataFrame:
    """One row per time: ``f107``, ``flare_index`` (disk FI: ``disk_flare_index`` if present,
    else the regions' sum), ``area_msh`` (total), ``n_ar``, most complex ``mcintosh``/``hale``
    and ``label`` (``disk_label`` if present, else any region's label). ``times`` adds rows
    (no regions) for times without any region."""
    df = ar_table.copy()
    df["t_obs"] = utc_naive(df["t_obs"]).to_numpy()
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
                 for t in utc_naive(times) if t not in have]
        if extra:
            out = pd.concat([out, pd.DataFrame(extra)], ignore_index=True)
    return out.sort_values("t_obs").reset_index(drop=True)


def load_feature_table(table: str | os.PathLike | None = None,
                       synthetic: str | os.PathLike | None = None) -> pd.DataFrame:
    """The per-AR (or full-disk) feature table from a CSV/Parquet file, or built from synthetic
    truth: ``synthetic`` is one generator output dir (``tables/ar.parquet``) or a
    :mod:`~solarray.data.synthetic.forecast_set` root (``runs.json``)."""
    if (table is None) == (synthetic is None):
        raise ValueError("give exactly one of a feature table file or a synthetic directory")
    if table is not None:
        df = read_table(table)
        if "ar_number" in df.columns:
            missing = [c for c in AR_REQUIRED if c not in df.columns]
            if missing:
                raise ValueError(f"{table}: per-AR table lacks column(s) {', '.join(missing)}")
        return df
    root = Path(synthetic)
    if forecast_set.is_complete(root):
        dirs = forecast_set.run_dirs(root)
    elif (root / "tables" / "ar.parquet").exists():
        dirs = [root]
    else:
        raise FileNotFoundError(f"{root}: neither a synthetic-Sun output dir (tables/ar.parquet) "
                                f"nor a synthetic forecasting set ({forecast_set.RUNS_FILE})")
    return pd.concat([synthetic_ar_table(d, d.name) for d in dirs], ignore_index=True)


def table_for_mode(table: pd.DataFrame, mode: str) -> pd.DataFrame:
    """A per-AR table as is (``ar``), or aggregated per time (``full_disk``) when it has regions."""
    if mode == "ar":
        if "ar_number" not in table.columns:
            raise ValueError("per-AR mode needs a per-AR table (columns ar_number, hgs_lon, "
                             "hgs_lat, ...)")
        return table
    return full_disk_table(table) if "ar_number" in table.columns else table


# --------------------------------------------------------------------------------------------
# The feature vector (training over a table, serving over IATools' dicts)
# --------------------------------------------------------------------------------------------
def region_features(row: Mapping[str, Any], disk: Mapping[str, Any]) -> dict[str, Any]:
    """FPNet feature values of one region from IATools' region row and disk dict, named as the
    per-AR table's columns (unknown → None)."""
    return {"f107": disk.get("f107"), "flare_index": row.get("flare_index"),
            "log_r": row.get("log_r"), "r": row.get("r"), "area_msh": row.get("area_msh"),
            "flux_unsigned": row.get("flux_unsigned"), "hale": row.get("hale"),
            "mcintosh": row.get("mcintosh")}


def disk_features(disk: Mapping[str, Any]) -> dict[str, Any]:
    """FPNet feature values of the full disk, as :func:`full_disk_table` defines them: disk FI,
    total AR area, number of ARs, most complex classes (+ largest log R)."""
    return {k: disk.get(k) for k in ("f107", "flare_index", "log_r", "area_msh", "n_ar", "hale",
                                      "mcintosh")}


def _column(rows: pd.DataFrame | Sequence[Mapping[str, Any]], name: str) -> list | None:
    """Values of feature ``name`` over ``rows`` (a table or feature dicts); None when absent."""
    if isinstance(rows, pd.DataFrame):
        return rows[name].tolist() if name in rows.columns else None
    return [r.get(name) for r in rows]


def feature_arrays(rows: pd.DataFrame | Sequence[Mapping[str, Any]],
                   scalar_features: Sequence[str],
                   categorical_features: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """FPNet's feature vector of each row of a feature table or of each feature dict
    (:func:`region_features`, :func:`disk_features`): ``(scalars float32 [N, Ks]`` (NaN where
    unknown), ``categories int64 [N, Kc])`` (0 unknown; codes of
    :func:`solarray.core.classes.encode_categories`). Training and serving both call this."""
    n = len(rows)
    scal = np.full((n, len(scalar_features)), np.nan, dtype=np.float32)
    for j, name in enumerate(scalar_features):
        values = _column(rows, name)
        if values is not None:
            scal[:, j] = pd.to_numeric(pd.Series(values, dtype=object), errors="coerce") \
                .to_numpy(np.float64).astype(np.float32)
    cats = np.zeros((n, len(categorical_features)), dtype=np.int64)
    for j, name in enumerate(categorical_features):
        values = _column(rows, name)
        if values is not None:
            cats[:, j] = encode_categories(values, name)
    return scal, cats


def feature_tensors(model, feats: Sequence[Mapping[str, Any]]):
    """:func:`feature_arrays` of ``feats`` in the order of ``model.config.scalar_features`` /
    ``categorical_features``, as torch tensors ``(scalars [B, Ks], categories [B, Kc])``."""
    import torch

    cfg = model.config
    scal, cats = feature_arrays(feats, cfg.scalar_features, cfg.categorical_features)
    return torch.from_numpy(scal), torch.from_numpy(cats)
