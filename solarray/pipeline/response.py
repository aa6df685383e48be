"""The JSON body of a forecast (what ``POST /v1/forecast`` returns and ``solarray demo`` writes).

Unknown is not zero: a region's flare index, R value or Hale/McIntosh class that could not be
computed is ``null`` (FPNet reads it through its "missing" embedding,
:func:`solarray.forecast.features.feature_arrays`), and ``warnings`` says which values are unknown
and why (the analysis notes that explain it).

Missing inputs are not hidden either: ``degraded`` is true when the observation lacked a channel
the models read, ``missing`` names those channels, ``fallback`` names the full-disk method used
instead of FPNet (``"flare history"``, ``"climatology"``, ``"none"``; null when FPNet forecast)
with ``fallback_detail``, and a ``DEGRADED`` warning says the same in words
(:mod:`solarray.pipeline.degraded`).
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from solarray.pipeline.analysis_stage import Analysis
from solarray.pipeline.degraded import InputStatus, status_warnings
from solarray.pipeline.forecast_stage import Forecast
from solarray.pipeline.model_set import UNTRAINED
from solarray.pipeline.sample import Sample


def new_id() -> str:
    """A fresh forecast id (32 hex characters)."""
    return uuid.uuid4().hex


def build_response(result_id: str, sample: Sample, analysis: Analysis, fc: Forecast,
                   versions: Mapping[str, str], timings: Mapping[str, float],
                   warnings_: Sequence[str] = (), inputs: InputStatus | None = None
                   ) -> dict[str, Any]:
    """The JSON body of a forecast (NaN → null); models whose version says
    :data:`~solarray.pipeline.model_set.UNTRAINED` put a warning first, a degraded observation
    (``inputs``, :func:`~solarray.pipeline.degraded.assess`) the next."""
    inputs = inputs or InputStatus()
    fb = analysis.fallback
    regions = []
    for r in analysis.ars:
        row = dict(r)
        row["p_m24"] = fc.regions.get(r["number"])
        regions.append(row)
    untrained = sorted(k for k, v in versions.items() if UNTRAINED in v)
    warn = status_warnings(inputs, fb) + list(warnings_)
    if untrained:
        warn.insert(0, f"UNTRAINED models ({', '.join(untrained)}): probabilities, masks and "
                       "classes are not meaningful")
    warn += list((sample.source or {}).get("warnings") or [])
    warn += unknown_warnings(analysis.ars, analysis.disk, analysis.notes)
    return _json_safe({
        "id": result_id,
        "observation_time": sample.t_obs.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "sample_id": sample.sample_id,
        "channels": list(sample.channels),
        "channels_present": [c for c, p in zip(sample.channels, sample.present, strict=True) if p],
        "image_size": sample.size,
        "full_disk": {"p_m24": fc.full_disk, "p_m24_from_regions": fc.from_regions,
                      **analysis.disk},
        "regions": regions,
        "coronal_holes": analysis.chs,
        "filaments": analysis.fls,
        "model_versions": dict(versions),
        "untrained": bool(untrained),
        "degraded": inputs.degraded,
        "missing": list(inputs.missing),
        "fallback": None if fb is None else fb.method,
        "fallback_detail": None if fb is None else dict(fb.detail),
        "timings_s": {k: round(float(v), 4) for k, v in timings.items()},
        "warnings": warn,
        "notes": list(analysis.notes),
        "map_url": f"/v1/forecast/{result_id}/map.png",
    })


#: Region fields that may be unknown: (field, label, words of the analysis notes that explain it).
UNKNOWABLE = (("flare_index", "flare index", ("flare",)),
              ("r", "R value", ("magnet",)),
              ("hale", "Hale class", ("class", "magnet", "classifier")),
              ("mcintosh", "McIntosh class", ("class", "magnet", "classifier")))


def _unknown(v) -> bool:
    return v is None or (isinstance(v, float) and not math.isfinite(v))


def unknown_warnings(regions: Sequence[Mapping[str, Any]], disk: Mapping[str, Any],
                     notes: Sequence[str]) -> list[str]:
    """One warning per value that is unknown (``null``), naming why from ``notes``."""
    out = []

    def why(words) -> str:
        hits = [n for n in notes if any(w in n.lower() for w in words)]
        return "; ".join(hits) if hits else "not computed for this observation"

    if _unknown(disk.get("flare_index")):
        out.append(f"full-disk flare index unknown (null): {why(('flare',))}")
    for field, label, words in UNKNOWABLE:
        n = sum(_unknown(r.get(field)) for r in regions)
        if n:
            out.append(f"{label} unknown (null) for {n} of {len(regions)} regions, read by FPNet "
                       f"as missing: {why(words)}")
    return out


def _json_safe(obj):
    if isinstance(obj, dict):
        return {str(k): _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


__all__ = ["UNKNOWABLE", "build_response", "new_id", "unknown_warnings"]
