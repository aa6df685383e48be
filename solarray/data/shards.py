"""The ingest output directory: Parquet shards named by time range, the manifest, the settings.

A shard is written under a hidden temporary name (``.<name>.<pid>.<id>.tmp``) and renamed into
place, so a reader never sees a partial shard; :func:`clean_temp` removes the temporaries an
interrupted run left behind. Schema: ARCHITECTURE.md "Parquet shard schema".
"""

from __future__ import annotations

import csv
import glob
import io
import json
import os
from collections.abc import Sequence
from datetime import UTC, datetime

import numpy as np

from solarray.core.atomic import atomic_path, write_text

SHARD_PREFIX = "shard_"
MANIFEST = "manifest.csv"
SETTINGS = "ingest.json"
#: Columns of the manifest, one row per input file.
MANIFEST_FIELDS = ("path", "channel", "t_obs", "status", "sample_id", "shard", "reason",
                   "native_shape", "file_bytes")


def shard_paths(out_dir: str) -> list[str]:
    """Completed shards in ``out_dir``, in time order."""
    return sorted(glob.glob(os.path.join(out_dir, f"{SHARD_PREFIX}*.parquet")))


def _compact(t: datetime) -> str:
    return t.strftime("%Y%m%dT%H%M%S")


def write_shard(rows: list[dict], out_dir: str, channels: Sequence[str],
                label_columns: Sequence[str] = ()) -> str:
    """Write ``rows`` as one shard named by its time range (temp file, then atomic rename).

    Each row holds ``t_obs`` (datetime, UTC), ``sample_id``, ``image`` ``[C, H, W]``, ``present``
    ``[C]``, ``meta`` (JSON string), ``masks`` (``[3, H, W]`` uint8 or None) and ``labels`` (dict).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = sorted(rows, key=lambda r: r["t_obs"])
    t0, t1 = rows[0]["t_obs"], rows[-1]["t_obs"]
    cols: dict[str, object] = {
        "t_obs": pa.array([r["t_obs"].replace(tzinfo=UTC) for r in rows], pa.timestamp("us", tz="UTC")),
        "sample_id": pa.array([r["sample_id"] for r in rows], pa.string()),
        "channels": pa.array([list(channels)] * len(rows), pa.list_(pa.string())),
        "image": pa.FixedShapeTensorArray.from_numpy_ndarray(
            np.ascontiguousarray(np.stack([r["image"] for r in rows]).astype(np.float32))),
        "present": pa.array([r["present"].tolist() for r in rows], pa.list_(pa.bool_())),
        "meta": pa.array([r["meta"] for r in rows], pa.string()),
    }
    if rows[0].get("masks") is not None:
        cols["masks"] = pa.FixedShapeTensorArray.from_numpy_ndarray(
            np.ascontiguousarray(np.stack([r["masks"] for r in rows]).astype(np.uint8)))
    labels = [r["labels"] for r in rows]
    cols["flare_class_24h"] = pa.array([lab.get("flare_class_24h") for lab in labels], pa.string())
    for k in ("f107", "f30"):
        cols[k] = pa.array([np.nan if lab.get(k) is None else float(lab[k]) for lab in labels],
                           pa.float64())
    for k in label_columns:
        vals = [lab.get(k) for lab in labels]
        numeric = all(v is None or isinstance(v, (int, float, bool)) for v in vals)
        cols[k] = pa.array([np.nan if v is None else float(v) for v in vals], pa.float64()) if numeric \
            else pa.array([None if v is None else str(v) for v in vals], pa.string())
    table = pa.table(cols)
    name = f"{SHARD_PREFIX}{_compact(t0)}_{_compact(t1)}"
    final = os.path.join(out_dir, name + ".parquet")
    n = 1
    while os.path.exists(final):  # never overwrite a completed shard
        final = os.path.join(out_dir, f"{name}-{n}.parquet")
        n += 1
    with atomic_path(final) as tmp:
        pq.write_table(table, tmp)
    return final


def completed_samples(out_dir: str) -> dict[str, tuple[str, dict]]:
    """``{sample_id: (shard path, meta dict)}`` for every sample already in a completed shard."""
    import pyarrow.parquet as pq

    done = {}
    for p in shard_paths(out_dir):
        t = pq.read_table(p, columns=["sample_id", "meta"])
        for sid, meta in zip(t["sample_id"].to_pylist(), t["meta"].to_pylist(), strict=True):
            done[sid] = (p, json.loads(meta))
    return done


def clean_temp(out_dir: str) -> int:
    """Remove the hidden temporaries (``.*.tmp``, :mod:`solarray.core.atomic`'s naming) of an
    interrupted run; returns how many there were."""
    stale = glob.glob(os.path.join(out_dir, ".*.tmp"))
    for p in stale:
        os.remove(p)
    return len(stale)


def write_manifest(path: str, rows: list[dict]) -> None:
    """CSV, one row per input file: path, channel, t_obs, status (used|rejected), sample_id,
    shard, reason, native_shape (the file's image ``HxW`` in pixels, before resampling) and
    file_bytes (its size on disk)."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(MANIFEST_FIELDS))
    w.writeheader()
    for r in sorted(rows, key=lambda r: (r.get("t_obs") or "", r["path"])):
        w.writerow({k: ("" if r.get(k) is None else r.get(k)) for k in MANIFEST_FIELDS})
    write_text(path, buf.getvalue())


def read_manifest(out_dir: str):
    """The manifest of ``out_dir`` as a pandas DataFrame."""
    import pandas as pd

    return pd.read_csv(os.path.join(out_dir, MANIFEST), keep_default_na=False)


__all__ = ["MANIFEST", "MANIFEST_FIELDS", "SETTINGS", "SHARD_PREFIX", "clean_temp",
           "completed_samples", "read_manifest", "shard_paths", "write_manifest", "write_shard"]
