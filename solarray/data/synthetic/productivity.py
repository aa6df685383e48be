"""Where the synthetic Sun's large flares come from: the share of ≥M flares by true Hale class,
and how well the true Hale class, the true PIL flux and the area rank regions by ≥M-in-24-h.

Computed from the model of a generator config, without rendering: the regions and flares exactly
as :func:`~solarray.data.synthetic.generator.generate` makes them, one sample per region row of
:func:`~solarray.data.synthetic.tables.ar_rows` (visible regions per time step), labelled as the
per-AR feature table labels them (a ≥M1 flare of that region, by its observed GOES peak, starting
in (t, t + 24 h])::

    productivity([SynthConfig(start="2024-01-03", hours=120, cadence_minutes=120, seed=1000)])
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from solarray.core.classes import HALE_CLASSES, encode_categories
from solarray.core.geometry import earth_observer
from solarray.data.synthetic.generator import SynthConfig, simulate
from solarray.data.synthetic.tables import ar_rows, days_since, event_table
from solarray.metrics.verification import roc_auc

M1_FLUX = 1e-5  # W m⁻²


def share_by_class(classes: Sequence[str], peak_flux: Sequence[float], *,
                   vocabulary: Sequence[str] = HALE_CLASSES,
                   min_flux: float = M1_FLUX) -> dict[str, float | None]:
    """Fraction of the flares with ``peak_flux`` ≥ ``min_flux`` (W m⁻²) whose region is of each
    class of ``vocabulary`` (``classes[i]`` is flare i's region class); ``None`` for every
    class when there is no such flare. Flares of a class outside the vocabulary count in the
    total only, so the shares then sum to less than 1."""
    big = np.asarray(peak_flux, dtype=float) >= min_flux * (1 - 1e-9)
    cls = np.asarray(classes, dtype=object)[big]
    if not len(cls):
        return {c: None for c in vocabulary}
    return {c: float(np.mean(cls == c)) for c in vocabulary}


def region_samples(cfg: SynthConfig) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per region row of ``cfg``'s Sun: ``t_obs``, ``ar_number``, ``hale``, ``pil_flux``
    (10²² Mx), ``area_msh``, ``label`` (0/1); and its flares peaking within the images' span
    (``ar_number``, ``hale``, ``peak_flux`` W m⁻²)."""
    sun, xrs_t, _, xrsb = simulate(cfg)
    t0 = cfg.start_time
    rows = []
    for t in cfg.times:
        t_day = days_since(t, t0)
        rows += ar_rows(sun, t, t_day, earth_observer(t))
    events = event_table(sun, t0, xrs_t, xrsb)
    big = events[events["peak_flux"] >= M1_FLUX * (1 - 1e-9)]
    start = big["start"].dt.tz_localize(None).to_numpy("datetime64[ns]")
    cols = ["t_obs", "ar_number", "hale", "pil_flux", "area_msh", "label"]
    out = []
    for r in rows:
        t = np.datetime64(pd.Timestamp(r["t_obs"]).tz_localize(None), "ns")
        mine = big["ar_number"].to_numpy() == r["ar_number"]
        hit = mine & (start > t) & (start <= t + np.timedelta64(24, "h"))
        out.append([r["t_obs"], r["ar_number"], r["hale"],
                    sun.region(r["ar_number"]).pil_flux, r["area_msh"], int(hit.any())])
    samples = pd.DataFrame(out, columns=cols)
    peak = events["peak"].dt.tz_localize(None)
    first, last = (pd.Timestamp(cfg.times[i].datetime) for i in (0, -1))
    span = (peak >= first) & (peak <= last)
    flares = events.loc[span, ["ar_number", "peak_flux"]].reset_index(drop=True)
    flares.insert(1, "hale", [sun.region(int(n)).hale for n in flares["ar_number"]])
    return samples, flares


def ranking_auc(samples: pd.DataFrame) -> dict[str, float | None]:
    """ROC AUC of ranking ``samples`` (:func:`region_samples`) by ``label`` with the true Hale
    class (its complexity rank), the true ``pil_flux`` and ``area_msh``; ``None`` when only one
    label occurs."""
    y = samples["label"].to_numpy()
    hale = encode_categories(samples["hale"], "hale") / len(HALE_CLASSES)
    out = {"hale": roc_auc(y, hale)}
    for col in ("pil_flux", "area_msh"):
        x = samples[col].to_numpy(dtype=float)
        out[col] = roc_auc(y, x / x.max() if len(x) and x.max() > 0 else np.zeros(len(x)))
    return {k: None if v is None else round(float(v), 3) for k, v in out.items()}


def productivity(cfgs: Sequence[SynthConfig]) -> dict:
    """Over the Suns of ``cfgs``: ≥M flares per day and their share by true Hale class, region
    rows and their ≥M-in-24-h base rate, and the ranking ROC AUCs (:func:`ranking_auc`)."""
    parts = [region_samples(c) for c in cfgs]
    samples = pd.concat([p[0] for p in parts], ignore_index=True)
    flares = pd.concat([p[1] for p in parts], ignore_index=True)
    days = sum(c.hours / 24.0 for c in cfgs)
    n_m = int((flares["peak_flux"] >= M1_FLUX * (1 - 1e-9)).sum())
    share = share_by_class(flares["hale"], flares["peak_flux"])
    return {"suns": len(cfgs), "m_flares": n_m, "m_flares_per_day": round(n_m / days, 3),
            "m_flare_share_by_hale": {k: None if v is None else round(v, 3)
                                      for k, v in share.items()},
            "region_rows": len(samples), "ar_base_rate": round(float(samples["label"].mean()), 4),
            "roc_auc_m24": ranking_auc(samples)}


__all__ = ["productivity", "ranking_auc", "region_samples", "share_by_class"]
