"""The look-up table (LUT): the SimSiam latent of every real patch, with its metadata, and the
searcher that answers a query patch with its nearest real patches.

``build_lut`` embeds a patch file/directory with Ray Data batch inference (``map_batches`` over
an actor pool that loads the checkpoint once) and writes one Parquet file: ``latent``
(fixed-size list) and :data:`~solarray.search.patches.META_COLUMNS`, with the checkpoint's
identity (model name, config, SHA-256 of its weights file, path) in the file's schema metadata.
A :class:`Searcher` refuses a LUT built with another checkpoint: latents of two models are not
comparable, so mixing them would return confident nonsense.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import torch

from solarray.core import channels as chans
from solarray.core.atomic import atomic_path
from solarray.core.checkpoints import model_file
from solarray.data.shards import shard_paths
from solarray.models import config_dict, load_model
from solarray.search.index import ExactIndex
from solarray.search.patches import META_COLUMNS

LUT_KEY = b"solarray.search.lut"


def checkpoint_identity(checkpoint: str | os.PathLike) -> dict[str, Any]:
    """``{"path", "sha256", "model", "config"}`` of a model checkpoint file or directory."""
    path = model_file(checkpoint)
    if not path.exists():
        raise FileNotFoundError(f"model checkpoint not found: {path}")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    model = load_model(path)
    return {"path": str(path.resolve()), "sha256": digest, "model": model.model_name,
            "config": config_dict(model)}


def check_image(x: np.ndarray, config: Any, channels: list[str] | None = None,
                where: str = "query") -> np.ndarray:
    """A query patch in physical units (G for ``hmi_m``) → scaled ``[C, S, S]`` float32 for a
    model with ``config.channels`` and ``config.image_size``; ValueError on a mismatch."""
    want_c, size = list(config.channels), int(config.image_size)
    x = np.asarray(x, dtype=np.float32)
    if x.ndim == 2 and len(want_c) == 1:
        x = x[None]
    if channels is not None and list(channels) != want_c:
        raise ValueError(f"{where}: channels {list(channels)} but the index was built on "
                         f"{want_c}")
    if x.ndim != 3 or x.shape != (len(want_c), size, size):
        raise ValueError(f"{where}: expected a patch [{len(want_c)}, {size}, {size}] "
                         f"({', '.join(want_c)}, physical units), got shape {list(x.shape)}")
    if not np.isfinite(x).any():
        raise ValueError(f"{where}: the patch holds no finite value")
    out = np.stack([chans.get(c).scale(np.nan_to_num(x[i], nan=0.0)) for i, c in enumerate(want_c)])
    return out.astype(np.float32)


class PatchEmbedder:
    """``map_batches`` callable: loads the checkpoint once per actor; rows → latent + metadata."""

    def __init__(self, checkpoint: str, channels: list[str]):
        self.model = load_model(checkpoint).eval()
        want = list(self.model.config.channels)
        if list(channels) != want:
            raise ValueError(f"checkpoint {checkpoint} was trained on channels {want}, "
                             f"the patches hold {list(channels)}")

    def __call__(self, batch: dict[str, np.ndarray]) -> pa.Table:
        image = np.stack([np.asarray(v) for v in batch["image"]]) \
            if batch["image"].dtype == object else np.asarray(batch["image"])
        with torch.no_grad():
            z = self.model(torch.from_numpy(np.ascontiguousarray(image, np.float32)),
                           mode="embed").numpy()
        cols = {c: pa.array(batch[c]) for c in META_COLUMNS}
        cols["latent"] = pa.FixedSizeListArray.from_arrays(pa.array(z.reshape(-1)), z.shape[1])
        return pa.table(cols)


def build_lut(checkpoint: str | os.PathLike, patches: str | os.PathLike, out: str | os.PathLike,
              batch_size: int = 64, num_actors: int = 1) -> Path:
    """Embed every patch of ``patches`` (file or directory) with Ray Data and write the LUT."""
    import ray
    import ray.data

    ident = checkpoint_identity(checkpoint)
    src = Path(patches)
    paths = shard_paths(os.fspath(src)) if src.is_dir() else [os.fspath(src)]
    if not paths or not all(os.path.exists(p) for p in paths):
        raise FileNotFoundError(f"{patches}: no patch Parquet files (run `solarray search patches`)")
    channels = pq.read_table(paths[0], columns=["channels"])["channels"][0].as_py()
    ds = ray.data.read_parquet(paths, columns=["image", *META_COLUMNS])
    ds = ds.map_batches(PatchEmbedder, fn_constructor_kwargs={
        "checkpoint": ident["path"], "channels": channels}, batch_size=batch_size,
        batch_format="numpy", compute=ray.data.ActorPoolStrategy(size=num_actors))
    tables = [t for t in ray.get(ds.to_arrow_refs()) if t.num_rows]
    if not tables:
        raise ValueError(f"{patches}: no patches to index")
    table = pa.concat_tables(tables)
    meta = {"checkpoint": ident, "channels": channels, "patches": [str(Path(p).resolve())
                                                                  for p in paths]}
    table = table.replace_schema_metadata({LUT_KEY: json.dumps(meta).encode()})
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(out) as tmp:
        pq.write_table(table, tmp)
    return out


class LookupTable:
    """A LUT file: ``latents`` ``[N, D]``, ``meta`` (DataFrame), ``identity`` (checkpoint)."""

    def __init__(self, path: str | os.PathLike):
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"index not found: {path} (build it with `solarray search index`)")
        table = pq.read_table(path)
        raw = (table.schema.metadata or {}).get(LUT_KEY)
        if raw is None or "latent" not in table.column_names:
            raise ValueError(f"{path}: not a search index (no latent column / checkpoint record)")
        info = json.loads(raw)
        self.path, self.identity, self.channels = path, info["checkpoint"], info["channels"]
        self.latents = table.column("latent").combine_chunks().flatten().to_numpy().reshape(
            table.num_rows, -1).astype(np.float32)
        self.meta = table.drop_columns(["latent"]).to_pandas()
        self.index = ExactIndex(self.latents)

    def check_checkpoint(self, identity: dict[str, Any]) -> None:
        """ValueError unless ``identity`` is the checkpoint this LUT was built with."""
        if identity["sha256"] != self.identity["sha256"]:
            raise ValueError(f"index {self.path} was built with checkpoint "
                             f"{self.identity['path']} (sha256 {self.identity['sha256'][:12]}…), "
                             f"not {identity['path']} (sha256 {identity['sha256'][:12]}…); "
                             "rebuild it with `solarray search index`")

    def matches(self, latent: np.ndarray, k: int) -> pd.DataFrame:
        ids, sims = self.index.query(latent, k)
        out = self.meta.iloc[ids].reset_index(drop=True).copy()
        out.insert(0, "similarity", sims.astype(float))
        out.insert(0, "id", ids.astype(int))
        return out


class Searcher:
    """A LUT and the checkpoint that built it: ``search(patch, k)`` → matches DataFrame."""

    def __init__(self, index: str | os.PathLike, checkpoint: str | os.PathLike | None = None):
        self.lut = LookupTable(index)
        ckpt = checkpoint or self.lut.identity["path"]
        self.lut.check_checkpoint(checkpoint_identity(ckpt))
        self.model = load_model(ckpt).eval()

    @property
    def config(self):
        return self.model.config

    def embed(self, scaled: np.ndarray) -> np.ndarray:
        """Latents ``[N, D]`` of scaled patches ``[N, C, S, S]``."""
        with torch.no_grad():
            return self.model(torch.from_numpy(np.ascontiguousarray(scaled, np.float32)),
                              mode="embed").numpy()

    def search(self, patch: np.ndarray, k: int = 10, channels: list[str] | None = None
               ) -> pd.DataFrame:
        """The ``k`` nearest real patches of one query ``patch`` (physical units)."""
        x = check_image(patch, self.config, channels)
        return self.lut.matches(self.embed(x[None])[0], k)


__all__ = ["LUT_KEY", "LookupTable", "PatchEmbedder", "Searcher", "build_lut", "check_image",
           "checkpoint_identity"]
