"""Export in the fields of the CCMC Flare Scoreboard (https://ccmc.gsfc.nasa.gov/scoreboards/flare/).

The scoreboard collects, per forecast: the issue time, the prediction window (start, end), and a
probability per flare-class range, for the full disk or per region. This forecaster issues one
class range, "M and above" (M+, i.e. ≥M1.0 including X), over a 24-h window starting at the
observation time. Region rows carry the region's Stonyhurst position (its NOAA number when the
analysis assigned one). A forecast made from fewer inputs than the models read says so in its
rows: ``degraded`` true, ``missing_inputs`` the channels that were missing (``;``-separated) and
``fallback`` the full-disk method used instead of FPNet (empty when FPNet forecast).
"""

from __future__ import annotations

import json
import math

import pandas as pd

from solarray.live.store import WINDOW_HOURS

CCMC_COLUMNS = ("issue_time", "prediction_window_start", "prediction_window_end", "forecast_type",
                "region", "hgs_lon", "hgs_lat", "class_range", "probability", "model_version",
                "degraded", "missing_inputs", "fallback")


def _iso(t) -> str:
    return pd.Timestamp(t).strftime("%Y-%m-%dT%H:%MZ")


def _degraded(f: pd.Series) -> dict:
    """The degraded-input fields of a stored forecast row (absent in old stores: complete)."""
    missing = f.get("missing")
    missing = json.loads(missing) if isinstance(missing, str) and missing else []
    fallback = f.get("fallback")
    degraded = f.get("degraded")
    return {"degraded": bool(missing) if degraded is None or pd.isna(degraded) else bool(degraded),
            "missing_inputs": ";".join(missing),
            "fallback": fallback if isinstance(fallback, str) else ""}


def ccmc_rows(forecasts: pd.DataFrame, *, hours: float = WINDOW_HOURS) -> pd.DataFrame:
    """One full-disk row per forecast with a full-disk probability, and one row per region with
    a probability (columns :data:`CCMC_COLUMNS`)."""
    rows = []
    for _, f in forecasts.iterrows():
        t = pd.Timestamp(f["observation_time"])
        base = {"issue_time": _iso(f["issued_at"]), "prediction_window_start": _iso(t),
                "prediction_window_end": _iso(t + pd.Timedelta(hours=hours)),
                "class_range": "M+", "model_version": f["model_version"],
                **_degraded(f)}
        if math.isfinite(float(f["p_full_disk"])):
            rows.append({**base, "forecast_type": "full_disk", "region": "", "hgs_lon": None,
                         "hgs_lat": None, "probability": round(float(f["p_full_disk"]), 4)})
        for r in json.loads(f["regions"]):
            if r.get("p_m24") is None:
                continue
            rows.append({**base, "forecast_type": "region", "region": str(r.get("number")),
                         "hgs_lon": r.get("hgs_lon"), "hgs_lat": r.get("hgs_lat"),
                         "probability": round(float(r["p_m24"]), 4)})
    return pd.DataFrame(rows, columns=list(CCMC_COLUMNS))


__all__ = ["CCMC_COLUMNS", "ccmc_rows"]
