"""The latents Parquet written by ``solarray compress``: one row per sample.

Columns: ``t_obs`` (timestamp, UTC), ``sample_id`` (string), ``mu_0000`` … ``mu_{K-1}`` and
``logsigma_0000`` … (float32: the encoder's posterior mean and log standard deviation). The file's
key-value metadata ``solarray.latents`` (JSON) names the model, the checkpoint hash, the channels,
the image size and the frame, so ``decompress`` can refuse a mismatched checkpoint.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from solarray.core.atomic import atomic_path

META_KEY = b"solarray.latents"


def mu_columns(k: int) -> list[str]:
    return [f"mu_{i:04d}" for i in range(k)]


def logsigma_columns(k: int) -> list[str]:
    return [f"logsigma_{i:04d}" for i in range(k)]


@dataclass
class Latents:
    """Latents of ``N`` samples: ``mu``/``logsigma`` float32 ``[N, K]``, ``t_obs`` datetime64[s]
    ``[N]``, ``sample_id`` list of str, ``info`` (model, checkpoint hash, channels, ...)."""

    t_obs: np.ndarray
    sample_id: list[str]
    mu: np.ndarray
    logsigma: np.ndarray
    info: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.sample_id)


def write_latents(path: str | os.PathLike, latents: Latents) -> Path:
    """Write ``latents`` to ``path`` atomically."""
    n, k = latents.mu.shape
    if latents.logsigma.shape != (n, k) or len(latents.t_obs) != n or len(latents.sample_id) != n:
        raise ValueError("latents: t_obs, sample_id, mu and logsigma must have one row per sample")
    cols: dict[str, Any] = {
        "t_obs": pa.array(np.asarray(latents.t_obs).astype("datetime64[s]"),
                          type=pa.timestamp("s", tz="UTC")),
        "sample_id": pa.array([str(s) for s in latents.sample_id], type=pa.string()),
    }
    for name, col in zip(mu_columns(k), latents.mu.T, strict=True):
        cols[name] = pa.array(col.astype(np.float32))
    for name, col in zip(logsigma_columns(k), latents.logsigma.T, strict=True):
        cols[name] = pa.array(col.astype(np.float32))
    table = pa.table(cols)
    table = table.replace_schema_metadata({META_KEY: json.dumps(latents.info).encode()})
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)
    return path


def read_latents(path: str | os.PathLike) -> Latents:
    """Read a latents Parquet; ValueError naming the file when it is not one."""
    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowInvalid) as err:
        raise ValueError(f"{path}: not a readable Parquet file ({err})") from None
    names = table.column_names
    mu_names = sorted(c for c in names if c.startswith("mu_"))
    if "t_obs" not in names or not mu_names:
        raise ValueError(f"{path}: not a latents file (expected t_obs and mu_* columns from "
                         f"`solarray compress`; it has {', '.join(names[:8])})")
    ls_names = sorted(c for c in names if c.startswith("logsigma_"))
    meta = (table.schema.metadata or {}).get(META_KEY)
    mu = np.stack([table[c].to_numpy().astype(np.float32) for c in mu_names], axis=1)
    ls = (np.stack([table[c].to_numpy().astype(np.float32) for c in ls_names], axis=1)
          if len(ls_names) == len(mu_names) else np.full_like(mu, np.nan))
    t = table["t_obs"].to_numpy().astype("datetime64[s]")
    ids = (table["sample_id"].to_pylist() if "sample_id" in names
           else [str(x) for x in t])
    return Latents(t, [str(s) for s in ids], mu, ls, json.loads(meta) if meta else {})


__all__ = ["META_KEY", "Latents", "logsigma_columns", "mu_columns", "read_latents",
           "write_latents"]
