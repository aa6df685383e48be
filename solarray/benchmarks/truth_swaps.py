"""The automatic chain's per-region table with one stage's output swapped for the synthetic
truth's (:mod:`solarray.benchmarks.automatic_chain`'s stage costs): a benchmark device, never a
forecasting input.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: The chain's stages and the table columns each one writes (swapped for the truth's).
STAGE_COLUMNS = {"classes": ("hale", "mcintosh"), "area": ("area_msh",), "r": ("log_r",),
                 "all": ("hale", "mcintosh", "area_msh", "log_r")}


def _minute_key(t) -> pd.Series:
    t = pd.to_datetime(pd.Series(t))
    t = t.dt.tz_localize(None) if t.dt.tz is not None else t
    return t.dt.round("10min")


def truth_log_r(true_r: np.ndarray) -> np.ndarray:
    """The true PIL flux (10²² Mx) on a log scale like IATools' ``log_r`` (log10 of 1 + R in
    10¹⁸ Mx): a monotone stand-in, since FPNet and the regression standardise their inputs."""
    return np.log10(1.0 + 1e4 * np.asarray(true_r, dtype=float))


def truth_swapped(table: pd.DataFrame, truth: pd.DataFrame, true_r: np.ndarray,
                  stage: str) -> pd.DataFrame:
    """The pipeline's per-region ``table`` with the columns of ``stage`` (:data:`STAGE_COLUMNS`)
    replaced by the truth's on rows matched to a true region (``truth_ar`` ≥ 0; others keep the
    pipeline's): classes and area from the ``truth`` table (same run, region and time), R from
    ``true_r`` (:func:`solarray.data.synthetic.oracle.true_r` per row)."""
    if stage not in STAGE_COLUMNS:
        raise ValueError(f"stage: expected one of {', '.join(STAGE_COLUMNS)}, got {stage!r}")
    out = table.copy()
    matched = out["truth_ar"].to_numpy() >= 0
    cols = [c for c in STAGE_COLUMNS[stage] if c != "log_r"]
    if cols:
        key = ["run", "ar_number", "t_key"]
        tr = truth.assign(t_key=_minute_key(truth["t_obs"]).to_numpy())[key + cols]
        tr = tr.drop_duplicates(key)
        left = pd.DataFrame({"run": out["run"].to_numpy(),
                             "ar_number": out["truth_ar"].to_numpy(np.int64),
                             "t_key": _minute_key(out["t_obs"]).to_numpy()})
        got = left.merge(tr, on=key, how="left")
        for c in cols:
            ok = matched & got[c].notna().to_numpy()
            out.loc[ok, c] = got.loc[ok, c].to_numpy()
    if "log_r" in STAGE_COLUMNS[stage]:
        r = np.asarray(true_r, dtype=float)
        ok = matched & np.isfinite(r)
        out.loc[ok, "log_r"] = truth_log_r(r[ok])
    return out


__all__ = ["STAGE_COLUMNS", "truth_log_r", "truth_swapped"]
