"""The forecast store: every forecast the live service issued, and its outcome once known.

Layout (Parquet, partitioned by the observation day; one small file per forecast so a write is
one atomic rename and a crash never leaves half a row)::

    STORE/forecasts/day=YYYY-MM-DD/<YYYYmmddTHHMMSS>.parquet   one row: the forecast
    STORE/outcomes/day=YYYY-MM-DD/<YYYYmmddTHHMMSS>.parquet    one row: what happened
    STORE/skipped/<key>.json                                   inputs recorded and skipped
    STORE/scores.json                                          the running scores (latest)

A forecast is keyed by its observation time (whole seconds, UTC): :meth:`ForecastStore.add`
refuses a time that is already stored, so a restarted watcher never forecasts a time twice.

Forecast row: ``observation_time`` (timestamp, window start), ``issued_at`` (wall clock UTC),
``latency_s`` (newest input file landing → forecast stored), ``p_full_disk`` (P(≥M in 24 h),
NaN when the full-disk model is absent), ``p_from_regions``, ``model_version`` (one string naming
every model's version), ``n_regions``, ``regions`` (JSON list: number, hgs_lon, hgs_lat,
area_msh, p_m24), ``inputs`` (JSON list of file names), ``response`` (the API response JSON),
``degraded`` (bool: an input the models read was missing), ``missing`` (JSON list of those
channels), ``fallback`` (the full-disk method used instead of FPNet, "" when FPNet forecast; also
appended to ``model_version`` as ``;fallback=<method>``, so its scores are kept apart). Rows
written before these three columns existed read as complete (``degraded`` False).
Outcome row: ``observation_time``, ``observed`` (0/1: ≥M flare in [t, t + 24 h) by the NOAA rule
on GOES XRS), ``max_class``, ``regions_observed`` (JSON {number: 0/1}, empty when flares carry no
positions), ``source``, ``verified_at``.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from solarray.core.atomic import atomic_path, write_text

WINDOW_HOURS = 24.0
FORECAST_COLUMNS = ("observation_time", "issued_at", "latency_s", "p_full_disk", "p_from_regions",
                    "model_version", "n_regions", "regions", "inputs", "response", "degraded",
                    "missing", "fallback")
#: Values of the degraded-input columns in rows stored before they existed.
DEGRADED_DEFAULTS = {"degraded": False, "missing": "[]", "fallback": ""}
OUTCOME_COLUMNS = ("observation_time", "observed", "max_class", "regions_observed", "source",
                   "verified_at")


class StoreError(ValueError):
    """The store holds something it should not (a duplicate time, an unreadable file)."""


def stamp(t: datetime | pd.Timestamp) -> str:
    """``YYYYmmddTHHMMSS`` of a UTC time (the key of a forecast)."""
    return pd.Timestamp(t).strftime("%Y%m%dT%H%M%S")


def _naive_utc(t: Any) -> pd.Timestamp:
    ts = pd.Timestamp(t)
    return ts.tz_convert("UTC").tz_localize(None) if ts.tzinfo is not None else ts


def model_version(versions: Mapping[str, str]) -> str:
    """One comparable string for a set of model versions (sorted ``role=version``)."""
    return ";".join(f"{k}={v}" for k, v in sorted(versions.items()))


class ForecastStore:
    """Read and append forecasts and outcomes under ``root`` (created on first write)."""

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root).expanduser().resolve()
        if self.root.exists() and not self.root.is_dir():
            raise StoreError(f"forecast store {self.root} is not a directory")

    def _path(self, kind: str, t: datetime) -> Path:
        ts = _naive_utc(t)
        return self.root / kind / f"day={ts:%Y-%m-%d}" / f"{stamp(ts)}.parquet"

    def has_forecast(self, t: datetime) -> bool:
        return self._path("forecasts", t).exists()

    def has_outcome(self, t: datetime) -> bool:
        return self._path("outcomes", t).exists()

    def _write_row(self, kind: str, t: datetime, row: dict[str, Any]) -> Path:
        path = self._path(kind, t)
        if path.exists():
            raise StoreError(f"{path}: a {kind[:-1]} for {_naive_utc(t)} is already stored")
        table = pa.Table.from_pylist([row])
        with atomic_path(path) as tmp:
            pq.write_table(table, tmp)
        return path

    def add_forecast(self, response: Mapping[str, Any], inputs: Sequence[str],
                     latency_s: float, issued_at: datetime | None = None) -> Path:
        """Store one cycle's API response (``observation_time`` is the key)."""
        t = _naive_utc(response["observation_time"])
        disk = response.get("full_disk") or {}
        regions = [{k: r.get(k) for k in ("number", "hgs_lon", "hgs_lat", "area_msh", "p_m24")}
                   for r in response.get("regions", [])]
        p = disk.get("p_m24")
        fallback = response.get("fallback") or ""
        version = model_version(response.get("model_versions", {}))
        row = {
            "observation_time": t.to_pydatetime(),
            "issued_at": _naive_utc(issued_at or datetime.now(UTC)).to_pydatetime(),
            "latency_s": float(latency_s),
            "p_full_disk": float("nan") if p is None else float(p),
            "p_from_regions": float("nan") if disk.get("p_m24_from_regions") is None
            else float(disk["p_m24_from_regions"]),
            "model_version": version + (f";fallback={fallback}" if fallback else ""),
            "n_regions": len(regions),
            "regions": json.dumps(regions),
            "inputs": json.dumps([os.path.basename(p) for p in inputs]),
            "response": json.dumps(response),
            "degraded": bool(response.get("degraded", False)),
            "missing": json.dumps(list(response.get("missing") or [])),
            "fallback": fallback,
        }
        return self._write_row("forecasts", t, row)

    def add_outcome(self, t: datetime, observed: bool, max_class: str,
                    regions_observed: Mapping[int, int], source: str) -> Path:
        row = {"observation_time": _naive_utc(t).to_pydatetime(), "observed": int(bool(observed)),
               "max_class": max_class,
               "regions_observed": json.dumps({str(k): int(v) for k, v in
                                               regions_observed.items()}),
               "source": source,
               "verified_at": _naive_utc(datetime.now(UTC)).to_pydatetime()}
        return self._write_row("outcomes", t, row)

    def record_skipped(self, path: str, reason: str) -> Path:
        """Record an input that was skipped (corrupt, incomplete); once per path and reason."""
        key = hashlib.sha1(f"{path}\n{reason}".encode()).hexdigest()[:16]
        out = self.root / "skipped" / f"{key}.json"
        if not out.exists():
            write_text(out, json.dumps({"path": str(path), "reason": reason,
                                        "recorded_at": datetime.now(UTC).isoformat()}))
        return out

    def skipped(self) -> list[dict[str, str]]:
        d = self.root / "skipped"
        return [json.loads(p.read_text()) for p in sorted(d.glob("*.json"))] if d.is_dir() else []

    def _read(self, kind: str, columns: Sequence[str]) -> pd.DataFrame:
        files = sorted((self.root / kind).glob("day=*/*.parquet"))
        if not files:
            return pd.DataFrame(columns=list(columns))
        frames = []
        for f in files:
            try:
                frames.append(pq.read_table(f).to_pandas())
            except Exception as err:  # noqa: BLE001  a foreign or damaged file: name it
                raise StoreError(f"{f}: unreadable {kind[:-1]} file ({err})") from err
        out = pd.concat(frames, ignore_index=True)
        return out.sort_values("observation_time", ignore_index=True)

    def forecasts(self, since: datetime | None = None) -> pd.DataFrame:
        """Every stored forecast (columns :data:`FORECAST_COLUMNS`), oldest first; ``since``
        keeps observation times ≥ it."""
        df = self._read("forecasts", FORECAST_COLUMNS)
        for col, default in DEGRADED_DEFAULTS.items():  # rows from before degraded forecasts
            df[col] = df[col].astype(object).where(df[col].notna(), default) \
                if col in df.columns else pd.Series([default] * len(df), dtype=object)
        df["degraded"] = df["degraded"].astype(bool)
        if since is not None and len(df):
            df = df[df["observation_time"] >= _naive_utc(since)].reset_index(drop=True)
        return df

    def outcomes(self) -> pd.DataFrame:
        return self._read("outcomes", OUTCOME_COLUMNS)

    def joined(self, since: datetime | None = None) -> pd.DataFrame:
        """Forecasts with their outcome columns (NaN ``observed`` while unknown)."""
        fc = self.forecasts(since)
        oc = self.outcomes()
        if not len(fc):
            return fc.assign(**{c: pd.Series(dtype=object) for c in OUTCOME_COLUMNS[1:]})
        return fc.merge(oc, on="observation_time", how="left")

    def write_scores(self, scores: Mapping[str, Any]) -> Path:
        path = self.root / "scores.json"
        write_text(path, json.dumps(scores, indent=2, default=str))
        return path


__all__ = ["DEGRADED_DEFAULTS", "FORECAST_COLUMNS", "OUTCOME_COLUMNS", "WINDOW_HOURS", "ForecastStore", "StoreError",
           "model_version", "stamp"]
