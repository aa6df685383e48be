"""Compression against the native-resolution data the shards came from, and Brown 2023's Table 1
for the four bottlenecks.

The native size is read from the ingest manifest (``manifest.csv`` beside the shards): every
used input file's ``native_shape`` (``HxW`` before resampling) and ``file_bytes``. Native bytes =
Σ H·W·4 over the evaluated samples' files (float32 pixels, the unit the seed's Table 1 counts in:
its "original dataset size" is exactly N·12·128²·4 bytes for the N its latent rows imply), and the
FITS files' on-disk bytes are reported beside it.

Table 1 rows per bottleneck K: model = bytes of the float32 parameters of the checkpoint's
architecture rebuilt with ``bottleneck=K`` (:func:`solarray.models.sigma_vae.parameter_mib`),
latents = N·K·4 bytes (float32 μ, what ``decompress`` needs); sizes in MiB (2**20 bytes), the unit
that reproduces the seed's model sizes.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import pandas as pd
import torch

from solarray.data.shards import MANIFEST
from solarray.models.sigma_vae import BOTTLENECKS, SigmaVAE, SigmaVAEConfig, parameter_mib

MIB = 2**20


def native_sizes(data_dir: str | os.PathLike, sample_ids: Sequence[str],
                 channels: Sequence[str]) -> dict[str, Any]:
    """``{"n_samples", "n_files", "float32_bytes", "file_bytes", "shapes"}`` of the native files
    of ``sample_ids`` × ``channels`` per the manifest of ``data_dir`` (``shapes``: how many files
    of each native ``HxW``). Raises ``ValueError`` when the directory has no manifest, when the
    manifest predates the native columns, or when an evaluated sample has no used file in it."""
    path = os.path.join(os.fspath(data_dir), MANIFEST)
    if not os.path.isfile(path):
        raise ValueError(f"{data_dir}: no {MANIFEST} beside the shards, so the native-resolution "
                         "size is unknown (shards written by `solarray ingest` have one)")
    man = pd.read_csv(path, keep_default_na=False, dtype=str)
    if "native_shape" not in man.columns or "file_bytes" not in man.columns:
        raise ValueError(f"{path} records no native_shape/file_bytes (written by an ingest older "
                         "than the native-size manifest): re-run `solarray ingest` into a new "
                         "directory to measure compression against the native data")
    ids = {str(s) for s in sample_ids}
    used = man[(man["status"] == "used") & man["sample_id"].isin(ids)
               & man["channel"].isin(list(channels))]
    missing = ids - set(used["sample_id"])
    if missing:
        raise ValueError(f"{path}: {len(missing)} evaluated sample(s) have no used file in the "
                         f"manifest, e.g. {sorted(missing)[0]}")
    if (used["native_shape"] == "").any():
        raise ValueError(f"{path}: {int((used['native_shape'] == '').sum())} used file(s) "
                         "without native_shape")
    hw = used["native_shape"].str.split("x", expand=True).astype(int)
    return {"n_samples": len(ids), "n_files": int(len(used)),
            "float32_bytes": int((hw[0] * hw[1]).sum() * 4),
            "file_bytes": int(pd.to_numeric(used["file_bytes"], errors="coerce").fillna(0).sum()),
            "shapes": {k: int(v) for k, v in used["native_shape"].value_counts().items()}}


def model_mib(config: SigmaVAEConfig, bottleneck: int | None = None) -> float:
    """Parameter MiB of the sigma-VAE of ``config`` (with ``bottleneck`` when given), built on
    the meta device (no memory for the weights)."""
    cfg = config if bottleneck is None else replace(config, bottleneck=int(bottleneck))
    with torch.device("meta"):
        return parameter_mib(SigmaVAE(cfg))


def table1(config: SigmaVAEConfig, n_samples: int, native_bytes: int | None,
           shard_bytes: int, bottlenecks: Sequence[int] = BOTTLENECKS) -> list[dict[str, Any]]:
    """Brown 2023 Table 1 per bottleneck for ``n_samples`` (MiB): ``original_mib`` (native
    float32; None without a native size), ``model_mib``, ``latent_mib``, ``total_mib``,
    ``percent`` (total / native · 100) and ``percent_shards`` (total / the ingested
    ``shard_bytes``: the per-shard ratio)."""
    rows = []
    for k in bottlenecks:
        model = model_mib(config, k)
        latent = n_samples * int(k) * 4 / MIB
        total = model + latent
        rows.append({"bottleneck": int(k),
                     "original_mib": None if native_bytes is None else native_bytes / MIB,
                     "model_mib": model, "latent_mib": latent, "total_mib": total,
                     "percent": None if not native_bytes else 100.0 * total * MIB / native_bytes,
                     "percent_shards": 100.0 * total * MIB / shard_bytes})
    return rows


__all__ = ["MIB", "model_mib", "native_sizes", "table1"]
