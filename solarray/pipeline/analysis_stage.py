"""Stage 2, analysis (IATools) on SPNet's masks.

Entities (DBSCAN ARs, connected CHs/FLs), Stonyhurst and Carrington coordinates, areas (MSH),
magnetic parameters (flux, Schrijver R) from the magnetogram, Hale and McIntosh classes, flare
index (SA-AI 2025: 100·N_X + 10·N_M + 1·N_C over the last 24 h, flares ≥ ``CycleConfig.fi_min_class``)
per region and disk, F10.7. Rows are JSON-ready dicts (unknown → None: a region's flare index is
unknown, not 0, when the flare history has no locations).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from solarray.analysis.crops import region_crops
from solarray.analysis.regions import find_entities
from solarray.core.classes import most_complex
from solarray.core.features import FEATURE_KINDS
from solarray.pipeline.config import CycleConfig
from solarray.pipeline.degraded import Fallback, history_fallback
from solarray.pipeline.flare_history import FlareHistory
from solarray.pipeline.perception import Perception
from solarray.pipeline.sample import Sample

AR_FIELDS = ("number", "hgs_lon", "hgs_lat", "carr_lon", "carr_lat", "hpc_x", "hpc_y",
             "area_msh", "lon_span", "flux_unsigned", "flux_pos", "flux_neg", "r", "log_r",
             "psep_mm", "max_abs_b")
CH_FIELDS = ("number", "hgs_lon", "hgs_lat", "carr_lon", "carr_lat", "area_msh", "lon_min",
             "lon_max", "lon_span", "mean_b", "polarity")
FL_FIELDS = ("number", "hgs_lon", "hgs_lat", "carr_lon", "carr_lat", "area_msh", "end1_lon",
             "end1_lat", "end2_lon", "end2_lat", "length_mm")


@dataclass
class Analysis:
    """IATools output: entity rows (JSON-ready dicts), the AR label image and disk features."""

    ars: list[dict[str, Any]]
    chs: list[dict[str, Any]]
    fls: list[dict[str, Any]]
    ar_labels: np.ndarray  # int32 [H, W], values = AR numbers
    disk: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    #: the full-disk forecast without FPNet (only when asked: :mod:`solarray.pipeline.degraded`)
    fallback: Fallback | None = None


def analyse(sample: Sample, perception: Perception, *, hale=None, mcintosh=None,
            history: FlareHistory | None = None, config: CycleConfig | None = None,
            fallback: bool = False) -> Analysis:
    """IATools on SPNet's masks (see the module docstring). ``hale``/``mcintosh``:
    :class:`~solarray.models.classifier.ARClassifier` or None; ``history`` None: flare index
    unknown; ``fallback``: FPNet will not forecast (a degraded observation), so the full-disk
    probability is computed here, where the flare history is
    (:func:`~solarray.pipeline.degraded.history_fallback`)."""
    config = config or CycleConfig()
    grid = sample.grid_map()
    b = sample.magnetogram()
    notes: list[str] = []
    if b is None:
        notes.append("no hmi_m magnetogram: magnetic parameters and classes are unknown")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = find_entities(perception.masks, grid, b_los=b, config=config.region_config())
    notes += res.notes
    table = res.table
    tables = {k: table[table["kind"] == k].reset_index(drop=True) if len(table) else table
              for k in FEATURE_KINDS}
    ars = tables["AR"]
    labels = res.labels.get("AR", np.zeros((sample.size, sample.size), np.int32))
    ar_rows = [_row(r, AR_FIELDS) for r in ars.to_dict("records")] if len(ars) else []
    for row, rec in zip(ar_rows, ars.to_dict("records") if len(ars) else [], strict=True):
        x0, y0, x1, y1 = (int(rec[k]) for k in ("bbox_x0", "bbox_y0", "bbox_x1", "bbox_y1"))
        ys, xs = np.nonzero(labels[y0:y1, x0:x1] == rec["label"])
        row["pixel_x"], row["pixel_y"] = float(xs.mean()) + x0, float(ys.mean()) + y0
        row["bbox"] = [x0, y0, x1, y1]
    _classify(ar_rows, ars, labels, b, hale, mcintosh, config)
    disk = _flare_history(ar_rows, ars, sample, history, config, notes)
    logs = [r["log_r"] for r in ar_rows if r.get("log_r") is not None]
    disk.update(n_regions=len(ar_rows), n_ar=float(len(ar_rows)),
                area_msh=float(sum(r["area_msh"] or 0 for r in ar_rows)),
                log_r=max(logs) if logs else None,
                hale=most_complex([r.get("hale") for r in ar_rows], "hale"),
                mcintosh=most_complex([r.get("mcintosh") for r in ar_rows], "mcintosh"))
    fb = None
    if fallback:
        fb = history_fallback(history, sample.t_obs, lookback_hours=config.fallback_lookback_hours,
                              min_hours=config.fallback_min_hours,
                              climatology=config.climatology_p_m24)
    return Analysis(
        ars=ar_rows,
        chs=[_row(r, CH_FIELDS) for r in tables["CH"].to_dict("records")] if len(tables["CH"]) else [],
        fls=[_row(r, FL_FIELDS) for r in tables["FL"].to_dict("records")] if len(tables["FL"]) else [],
        ar_labels=labels.astype(np.int32), disk=disk, notes=notes, fallback=fb)


def _classify(ar_rows: list[dict[str, Any]], ars, labels: np.ndarray, b: np.ndarray | None,
              hale, mcintosh, config: CycleConfig) -> None:
    """Hale and McIntosh classes (+ probability) of each AR from its magnetogram crop (all
    crops of a classifier in one forward, without autograd)."""
    import torch

    crops: dict[tuple[int, float], np.ndarray] = {}  # both classifiers read the same crops
    for task, clf in (("hale", hale), ("mcintosh", mcintosh)):
        for row in ar_rows:
            row[task], row[f"{task}_probability"] = None, None
        if clf is None or not config.classify or b is None or not ar_rows:
            continue
        key = (int(clf.config.in_size), float(clf.config.expand))
        if key not in crops:
            crops[key] = region_crops(b, labels, ars["label"], size=key[0], expand=key[1])
        x = crops[key]
        with torch.inference_mode():
            proba = clf.predict_proba(x, ars["hgs_lon"].to_numpy(float))
        for row, p in zip(ar_rows, proba, strict=True):
            k = int(np.argmax(p))
            row[task], row[f"{task}_probability"] = clf.config.classes[k], float(p[k])


def _flare_history(ar_rows: list[dict[str, Any]], ars, sample: Sample,
                   history: FlareHistory | None, config: CycleConfig,
                   notes: list[str]) -> dict[str, Any]:
    """Disk flare index, counts and F10.7 (returned) and each AR's flare index (set in place).

    Unknown stays None: everything without a configured history; each AR's index when the
    history has no located flares (XRS alone cannot credit flares to regions)."""
    disk = {"flare_index": None, "n_c": None, "n_m": None, "n_x": None, "f107": None}
    for row in ar_rows:
        row.update(flare_index=None, n_c=None, n_m=None, n_x=None)
    if history is None or not history.configured:
        notes.append("no flare history configured: flare index unknown")
        return disk
    t_ref = np.datetime64(sample.t_obs.replace(tzinfo=None), "s")
    rule = {"window_hours": config.fi_window_hours, "min_class": config.fi_min_class,
            "weighting": config.fi_weighting}
    d = history.disk_index(t_ref, **rule)
    disk.update(flare_index=d["fi"], n_c=d["n_c"], n_m=d["n_m"], n_x=d["n_x"])
    disk["f107"] = _finite(history.f107_at(t_ref))
    if ar_rows and not history.located:
        notes.append("flare history has no locations: per-region flare index unknown")
    elif ar_rows:
        per = history.region_index(t_ref, ars, assign_deg=config.assign_deg, **rule)
        for row, rec in zip(ar_rows, per.to_dict("records"), strict=True):
            if _finite(rec["fi"]) is not None:
                row.update(flare_index=float(rec["fi"]), n_c=int(rec["n_c"]),
                           n_m=int(rec["n_m"]), n_x=int(rec["n_x"]))
    notes += history.notes
    return disk


def _finite(v) -> float | None:
    try:
        v = float(v)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _row(rec: Mapping[str, Any], fields: Sequence[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k in fields:
        v = rec.get(k)
        if k in ("number", "polarity"):
            out[k] = None if v is None or (isinstance(v, float) and math.isnan(v)) else int(v)
        else:
            out[k] = _finite(v)
    return out


__all__ = ["AR_FIELDS", "CH_FIELDS", "FL_FIELDS", "Analysis", "analyse"]
