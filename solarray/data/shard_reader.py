"""Reading single samples back from ingest's shards (the service, batch forecasting, plots).

Training reads shards through Ray Data (:mod:`solarray.data.dataset`); this module reads one row
at a time with pyarrow, for places that need a particular observation:

* :func:`sample_ids` — every ``sample_id`` of a shard directory, oldest first;
* :func:`read_row` — one sample as a :class:`ShardRow` (image ``[C, N, N]``, channels, flags,
  time, parsed ``meta``); :func:`iter_rows` — many, oldest first, each shard read once;
* :func:`meta_header` / :func:`meta_frame` — the FITS header subset and the frame half-width that
  ingest recorded in a row's ``meta``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from solarray.core.frame import FRAME_RSUN
from solarray.data.shards import shard_paths


@dataclass
class ShardRow:
    """One ingested sample: ``image`` float32 ``[C, N, N]`` (scaled, NaN unknown), ``present``
    bool ``[C]``, ``t_obs`` naive UTC, ``meta`` the parsed ``meta`` JSON."""

    sample_id: str
    t_obs: datetime
    channels: tuple[str, ...]
    image: np.ndarray
    present: np.ndarray
    meta: dict[str, Any]


def sample_ids(shard_dir: str | os.PathLike) -> list[str]:
    """Every ``sample_id`` of the shard directory, oldest first (ISO times sort)."""
    paths = shard_paths(os.fspath(shard_dir))
    if not paths:
        raise FileNotFoundError(f"{shard_dir}: no shard_*.parquet files (run `solarray ingest`)")
    ids: set[str] = set()
    for p in paths:
        ids.update(pq.read_table(p, columns=["sample_id"])["sample_id"].to_pylist())
    return sorted(ids)


def _image(col: pa.ChunkedArray | pa.Array, n_channels: int) -> np.ndarray:
    col = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    if hasattr(col, "to_numpy_ndarray"):  # fixed-shape tensor column (ingest writes these)
        image = np.asarray(col.to_numpy_ndarray()[0], dtype=np.float32)
    else:
        image = np.asarray(col.to_pylist()[0], dtype=np.float32)
    if image.ndim == 1:  # flattened tensor
        n = int(round((image.size / n_channels) ** 0.5))
        image = image.reshape(n_channels, n, n)
    return image


def _row(table: pa.Table) -> ShardRow:
    row = table.drop_columns(["image"]).to_pylist()[0]
    channels = tuple(row["channels"])
    t_obs = row["t_obs"]
    if isinstance(t_obs, datetime) and t_obs.tzinfo is not None:
        t_obs = t_obs.astimezone(UTC).replace(tzinfo=None)
    return ShardRow(str(row["sample_id"]), t_obs, channels,
                    _image(table.column("image"), len(channels)),
                    np.asarray(row["present"], dtype=bool), json.loads(row.get("meta") or "{}"))


def read_row(shard_dir: str | os.PathLike, sample_id: str) -> ShardRow | None:
    """Sample ``sample_id`` of the shard directory, or None when no shard holds it."""
    for shard in shard_paths(os.fspath(shard_dir)):
        table = pq.read_table(shard, filters=[("sample_id", "=", str(sample_id))])
        if table.num_rows:
            return _row(table.slice(0, 1))
    return None


def iter_rows(shard_dir: str | os.PathLike, wanted: Collection[str] | None = None,
              batch_rows: int = 8) -> Iterator[ShardRow]:
    """The samples of the shard directory in storage order — oldest first: shards are named by
    time range and :func:`~solarray.data.shards.write_shard` sorts rows by time — reading each
    shard once, ``batch_rows`` rows at a time; only the ``wanted`` sample ids when given."""
    keep = None if wanted is None else {str(w) for w in wanted}
    for shard in shard_paths(os.fspath(shard_dir)):
        for batch in pq.ParquetFile(shard).iter_batches(batch_size=batch_rows):
            table = pa.Table.from_batches([batch])
            for i, sid in enumerate(table.column("sample_id").to_pylist()):
                if keep is None or sid in keep:
                    yield _row(table.slice(i, 1))


def meta_header(meta: Mapping[str, Any] | str | bytes | None) -> dict[str, Any]:
    """The first channel header subset found in an ingest ``meta`` (JSON string or dict); a flat
    ``meta`` gives its scalar entries; None gives ``{}``."""
    if meta is None:
        return {}
    if isinstance(meta, str | bytes):
        meta = json.loads(meta)
    if "channels" in meta and isinstance(meta["channels"], Mapping):
        for entry in meta["channels"].values():
            hdr = entry.get("header") if isinstance(entry, Mapping) else None
            if hdr:
                return dict(hdr)
    return {k: v for k, v in meta.items() if isinstance(v, int | float | str)}


def meta_frame(meta: Mapping[str, Any]) -> float:
    """Frame half-width (R☉) ingest preprocessed the sample with (``meta["preprocess"]``)."""
    return float((meta.get("preprocess") or {}).get("frame", FRAME_RSUN))


__all__ = ["ShardRow", "iter_rows", "meta_frame", "meta_header", "read_row", "sample_ids"]
