"""Forecasts of a trained FPNet: raw probabilities, forecast tables, per-region → full disk.

::

    out = forecast(model, frames, table)        # {"per_sample": df[, "per_ar": df]}
    verify_table(out["per_sample"]).table()     # verification at 0.5 (labels known)
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from solarray.forecast.examples import Examples, build_examples
from solarray.forecast.frames import Frames
from solarray.metrics.verification import VerificationReport, verify


def predict(model, ex: Examples, batch_size: int = 64) -> np.ndarray:
    """Raw probabilities ``[N]`` of ``model`` (FPNet) for ``ex``."""
    import torch

    out = []
    for i in range(0, len(ex), batch_size):
        sl = slice(i, i + batch_size)
        out.append(model.predict_proba(torch.from_numpy(ex.image[sl]),
                                       torch.from_numpy(ex.scalars[sl]),
                                       torch.from_numpy(ex.categories[sl])).numpy())
    return np.concatenate(out).astype(np.float64) if out else np.zeros(0)


#: Table columns a forecast table keeps to group its rows when scoring: the true region a
#: detected one was matched to, and the synthetic Sun it came from.
SCORING_KEYS = ("truth_ar", "run")


def forecast_table(ex: Examples, probability: np.ndarray,
                   raw: np.ndarray | None = None) -> pd.DataFrame:
    """Per-example forecasts: ``time``, ``ar`` (region number; absent in full-disk mode),
    ``observed`` (0/1; -1 unknown), ``probability`` (calibrated) and ``probability_raw``."""
    df = pd.DataFrame({"time": pd.to_datetime(ex.rows["t_obs"]).dt.strftime("%Y-%m-%dT%H:%M:%S")})
    if "ar_number" in ex.rows.columns:
        df["ar"] = ex.rows["ar_number"].to_numpy()
    for key in SCORING_KEYS:  # carried for scoring (bootstrap groups), never a model input
        if key in ex.rows.columns:
            df[key] = ex.rows[key].to_numpy()
    df["observed"] = ex.label
    df["probability"] = np.asarray(probability, float)
    if raw is not None:
        df["probability_raw"] = np.asarray(raw, float)
    return df


def disk_from_regions(per_ar: pd.DataFrame, disk_labels: pd.DataFrame | None = None
                      ) -> pd.DataFrame:
    """Full-disk forecasts from per-region ones: P = 1 − Π(1 − p_i) per time. ``observed`` from
    ``disk_labels`` (``t_obs``, ``label``) when given, else whether any region's label is 1."""
    g = per_ar.groupby("time", sort=True)
    out = pd.DataFrame({
        "probability": g["probability"].apply(lambda p: 1.0 - float(np.prod(1.0 - p))),
        "observed": g["observed"].max(),
    }).reset_index()
    if disk_labels is not None and len(disk_labels):
        lut = dict(zip(pd.to_datetime(disk_labels["t_obs"]).dt.strftime("%Y-%m-%dT%H:%M:%S"),
                       disk_labels["label"].astype(int), strict=False))
        out["observed"] = [lut.get(t, o) for t, o in zip(out["time"], out["observed"],
                                                         strict=True)]
    return out[["time", "observed", "probability"]]


def verify_table(df: pd.DataFrame, base_rate: float | None = None) -> VerificationReport:
    """Verify a forecast table (``observed``, ``probability``), dropping unknown labels."""
    d = df[df["observed"] >= 0]
    return verify(d["observed"].to_numpy(), d["probability"].to_numpy(), 0.5, base_rate=base_rate)


def forecast(model, frames: Frames, table: pd.DataFrame,
             tolerance_minutes: float = 6.0) -> dict[str, pd.DataFrame]:
    """Calibrated forecasts of a trained FPNet: ``{"per_sample": ..., "per_ar": ...}`` (AR mode
    gives both, per-sample by 1 − Π(1 − p); full-disk mode only ``per_sample``)."""
    c = model.config
    ex = build_examples(frames, table, c, tolerance_minutes)
    raw = predict(model, ex)
    df = forecast_table(ex, model.calibrated(raw), raw)
    if c.mode == "full_disk":
        return {"per_sample": df}
    disk = None
    if "disk_label" in ex.rows.columns:
        disk = ex.rows[["t_obs", "disk_label"]].drop_duplicates("t_obs").rename(
            columns={"disk_label": "label"})
    return {"per_sample": disk_from_regions(df, disk), "per_ar": df}
