"""The flare index (SA-AI 2025, Eq. 1): one rule for serving (IATools) and training tables (FPNet).

``FI = 100·N_X + 10·N_M + 1·N_C`` over the flares peaking in ``(t − window, t]`` (24 h by
default): a weighted sum of flare **counts** per GOES class, per region (flares credited to it) and
for the full disk. The seed counts "C5-class flares" with its comparison sign lost, so the minimum
class is a parameter (default C5.0: flares ≥ C5.0 count; A/B flares never do). The
magnitude-weighted variant (``weighting='magnitude'``: each flare adds its class magnitude, an
M2.5 adds 25) is an option, never the default.

Unknown is not zero: a region whose flares cannot be credited to regions (no region column, or
no flare with one) has an unknown index (NaN), which FPNet embeds as "missing".
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from solarray.core.goes import class_to_flux, parse_class

FI_WEIGHT = {"X": 100.0, "M": 10.0, "C": 1.0}
FI_WEIGHTINGS = ("count", "magnitude")
FI_MIN_CLASS = "C5.0"
FI_COLUMNS = ("fi", "n_c", "n_m", "n_x", "n")


def check_fi_options(weighting: str, min_class: str) -> None:
    """Raise ValueError naming ``weighting`` or ``min_class`` when it is not valid."""
    if weighting not in FI_WEIGHTINGS:
        raise ValueError(f"flare index weighting must be one of {FI_WEIGHTINGS}, got {weighting!r}")
    try:
        parse_class(min_class)
    except ValueError as err:
        raise ValueError(f"flare index min_class: {err}") from err


def flare_weights(goes_classes: Sequence[str], *, weighting: str = "count",
                  min_class: str = FI_MIN_CLASS) -> np.ndarray:
    """Each flare's contribution to FI, float ``[N]``: 100 / 10 / 1 for an X / M / C flare
    (``weighting='count'``) or that times its class magnitude (``'magnitude'``: M2.5 → 25);
    0 for a flare below ``min_class`` and for A and B flares."""
    check_fi_options(weighting, min_class)
    floor = class_to_flux(min_class) * (1 - 1e-9)  # 'C5' and 'C5.0' are the same class
    out = np.zeros(len(goes_classes))
    for i, cls in enumerate(goes_classes):
        letter, mag = parse_class(cls)
        if letter in FI_WEIGHT and class_to_flux(cls) >= floor:
            out[i] = FI_WEIGHT[letter] * (mag if weighting == "magnitude" else 1.0)
    return out


def utc_times(values) -> np.ndarray:
    """Times (strings, datetimes, aware or naive) → naive UTC ``datetime64[ns]`` array."""
    t = pd.to_datetime(pd.Series(values), utc=True)
    return t.dt.tz_localize(None).to_numpy("datetime64[ns]")


def _event_times(events: pd.DataFrame) -> np.ndarray:
    """Peak times of ``events`` (their start when there is no ``peak`` column)."""
    return utc_times(events["peak" if "peak" in events.columns else "start"])


def flare_index_series(events: pd.DataFrame | None, times: Sequence, *,
                       regions: Sequence | None = None, by: str = "ar_number",
                       window_hours: float = 24.0, weighting: str = "count",
                       min_class: str = FI_MIN_CLASS) -> np.ndarray:
    """FI at each of ``times`` ``[T]`` (float ``[T]``): the full disk's, or with ``regions``
    (``[T]`` region ids) the index of region ``regions[i]`` at ``times[i]`` from the flares
    whose ``by`` column equals it. ``events`` needs ``goes_class`` and ``peak`` (or ``start``).

    Unknown (NaN): everything when ``events`` is None (no history); per region when ``events``
    has no ``by`` column or no flare with a region, and for a null region id. A known region
    without flares in the window has 0.
    """
    check_fi_options(weighting, min_class)
    t = utc_times(times)
    if regions is not None and len(regions) != len(t):
        raise ValueError(f"regions has {len(regions)} ids for {len(t)} times")
    if events is None:  # no history at all
        return np.full(len(t), np.nan)
    if regions is None:
        keys, ev_keys = np.zeros(len(t), dtype=object), np.zeros(len(events), dtype=object)
    else:
        if by not in events.columns or (len(events) and events[by].isna().all()):
            return np.full(len(t), np.nan)
        keys, ev_keys = np.asarray(list(regions), dtype=object), events[by].to_numpy(dtype=object)
    null = np.asarray(pd.isna(keys), dtype=bool)
    out = np.where(null, np.nan, 0.0)
    if len(events) == 0:
        return out
    w = flare_weights(events["goes_class"].astype(str).tolist(), weighting=weighting,
                      min_class=min_class)
    et = _event_times(events)
    win = np.timedelta64(int(round(window_hours * 3600)), "s")
    for key in pd.unique(keys[~null]):
        rows = np.nonzero(~null & (keys == key))[0]
        mine = (ev_keys == key) & (w > 0)
        order = np.argsort(et[mine], kind="stable")
        ts, cum = et[mine][order], np.concatenate([[0.0], np.cumsum(w[mine][order])])
        # Σ w over (t − window, t] = cum[#flares ≤ t] − cum[#flares ≤ t − window].
        hi = np.searchsorted(ts, t[rows], side="right")
        lo = np.searchsorted(ts, t[rows] - win, side="right")
        out[rows] = cum[hi] - cum[lo]
    return out


def flare_index(events: pd.DataFrame | None, t_ref, *, window_hours: float = 24.0,
                min_class: str = FI_MIN_CLASS, weighting: str = "count",
                by: str | None = "ar_number") -> tuple[dict, pd.DataFrame]:
    """FI (module docstring) at ``t_ref`` over events peaking in ``(t_ref − window, t_ref]``.

    Returns the full-disk dict (``fi``, and the counts ``n_c``, ``n_m``, ``n_x``, ``n`` of the
    flares that enter FI, i.e. ≥ ``min_class``) and, if ``by`` is a column of ``events``, a
    per-region table with the same columns for the regions that have such flares (events
    without a region count only for the disk). ``events`` needs ``goes_class`` and ``peak``
    (or ``start``).
    """
    check_fi_options(weighting, min_class)
    cols = [by or "region", *FI_COLUMNS]
    if events is None or len(events) == 0:
        return dict.fromkeys(FI_COLUMNS, 0) | {"fi": 0.0}, pd.DataFrame(columns=cols)
    t = utc_times([t_ref])[0]
    et = _event_times(events)
    w = flare_weights(events["goes_class"].astype(str).tolist(), weighting=weighting,
                      min_class=min_class)
    win = np.timedelta64(int(round(window_hours * 3600)), "s")
    keep = (et > t - win) & (et <= t) & (w > 0)
    sel = events.loc[keep].copy()
    sel["_w"] = w[keep]
    sel["_letter"] = [parse_class(c)[0] for c in sel["goes_class"].astype(str)]

    def summary(d: pd.DataFrame) -> dict:
        n = {f"n_{k.lower()}": int((d["_letter"] == k).sum()) for k in ("C", "M", "X")}
        return {"fi": float(d["_w"].sum()), **n, "n": int(len(d))}

    disk = summary(sel)
    if by is None or by not in sel.columns:
        return disk, pd.DataFrame(columns=cols)
    rows = [{by: key, **summary(g)} for key, g in sel.dropna(subset=[by]).groupby(by)]
    return disk, pd.DataFrame(rows, columns=cols)


def _per_time(table: pd.DataFrame, column: str, how: str, keys: list[str]) -> pd.Series:
    d = table.assign(t_obs=utc_times(table["t_obs"]))
    return d.groupby([*keys, "t_obs"], sort=True)[column].agg(how)


def daily_flare_index(pred: pd.DataFrame, truth: pd.DataFrame, *, pred_column: str = "flare_index",
                      truth_column: str = "flare_index", how: str = "max",
                      by: Sequence[str] = ("run",)) -> pd.DataFrame:
    """Daily FI pairs as SA-AI 2025 compares IATools with SWPC's records (§3.2.4).

    Each table's rows at one time are reduced by ``how``: ``"max"`` (the largest regional FI;
    a time with no region in one table but rows in the other has 0 there, the outer join) or
    ``"first"`` (a full-disk column repeated on every row; times in both tables only). A day's
    value is that of its last observation in the pairs (the 24 h window closes then).
    ``pred``/``truth``: ``t_obs``, the FI column and the ``by`` columns both have (e.g. the
    synthetic Sun ``run``). → ``by`` columns, ``day``, ``t_obs``, ``pred``, ``truth``.
    """
    if how not in ("max", "first"):
        raise ValueError(f"how must be 'max' or 'first', got {how!r}")
    keys = [k for k in by if k in pred.columns and k in truth.columns]
    both = pd.concat({"pred": _per_time(pred, pred_column, how, keys),
                      "truth": _per_time(truth, truth_column, how, keys)}, axis=1,
                     join="outer" if how == "max" else "inner")
    if how == "max":
        both = both.fillna(0.0)
    both = both.dropna().reset_index()
    both["day"] = both["t_obs"].dt.floor("D")
    last = both.sort_values([*keys, "t_obs"]).groupby([*keys, "day"], sort=True).tail(1)
    return last[[*keys, "day", "t_obs", "pred", "truth"]].reset_index(drop=True)

__all__ = ["FI_COLUMNS", "FI_MIN_CLASS", "FI_WEIGHT", "FI_WEIGHTINGS", "check_fi_options",
           "daily_flare_index", "flare_index", "flare_index_series", "flare_weights", "utc_times"]
