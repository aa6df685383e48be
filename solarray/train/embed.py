"""Embedding export: Ray Data batch inference of a checkpointed model over Parquet shards."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from solarray.models import load_model

#: Identifier columns copied from the input rows to the output when present.
ID_COLUMNS = ("sample_id", "t_obs")


class Embedder:
    """Callable class for ``Dataset.map_batches``: loads a checkpoint once per actor.

    ``data_channels`` are the channel names of the input ``image`` column, in order; the model's
    channels are picked from them by name. Output: the ID columns, one fixed-size list column per
    ``model.embed`` output (SolarCHIP: ``cls_aia``, ``cls_hmi``, ``z_aia``, ``z_hmi``) and
    ``embedding`` = the concatenated class tokens.
    """

    def __init__(self, checkpoint: str, data_channels: list[str] | tuple[str, ...],
                 device: str = "cpu"):
        import torch

        self.torch = torch
        self.device = torch.device(device)
        self.model = load_model(checkpoint).to(self.device).eval()
        model_channels = list(getattr(self.model.config, "channels", ()) or data_channels)
        missing = [c for c in model_channels if c not in data_channels]
        if missing:
            raise ValueError(f"checkpoint {checkpoint} needs channel(s) {', '.join(missing)} "
                             f"missing from the data ({', '.join(data_channels)})")
        self.index = [list(data_channels).index(c) for c in model_channels]

    def __call__(self, batch: dict[str, np.ndarray]):
        import pyarrow as pa

        torch = self.torch
        image = _stack(batch["image"]).astype(np.float32)[:, self.index]
        if "present" in batch:  # absent channels count as zeros, as in training
            present = _stack(batch["present"]).astype(np.float32)[:, self.index]
            image = image * present[:, :, None, None]
        with torch.no_grad():
            x = torch.nan_to_num(torch.from_numpy(np.ascontiguousarray(image)).to(self.device))
            out = {k: v.float().cpu().numpy() for k, v in self.model.embed(x).items()}
        cls_keys = [k for k in out if k.startswith("cls")]
        out["embedding"] = np.concatenate([out[k] for k in cls_keys], axis=1)
        cols: dict[str, Any] = {c: pa.array(batch[c]) for c in ID_COLUMNS if c in batch}
        for k, v in out.items():
            cols[k] = pa.FixedSizeListArray.from_arrays(pa.array(v.reshape(-1)), v.shape[1])
        return pa.table(cols)


def _stack(column: np.ndarray) -> np.ndarray:
    """A tensor column (ndarray) or an object array of per-row arrays → one ndarray."""
    if column.dtype == object:
        return np.stack([np.asarray(v) for v in column])
    return np.asarray(column)


def embed_dataset(ds, checkpoint: str | os.PathLike, data_channels, batch_size: int = 32,
                  num_actors: int = 1, use_gpu: bool = False):
    """Lazily map ``ds`` (rows with ``image [C, H, W]``) to embeddings with an actor pool."""
    import ray.data

    return ds.map_batches(
        Embedder,
        fn_constructor_kwargs={"checkpoint": str(checkpoint), "data_channels": list(data_channels),
                               "device": "cuda" if use_gpu else "cpu"},
        batch_size=batch_size,
        batch_format="numpy",
        compute=ray.data.ActorPoolStrategy(size=num_actors),
        num_gpus=1 if use_gpu else 0,
    )


def write_parquet_file(ds, out: str | os.PathLike) -> int:
    """Collect a (small) Dataset into one Parquet file, written atomically; returns the row count."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    import ray

    tables = [t for t in ray.get(ds.to_arrow_refs()) if t.num_rows]
    if not tables:
        raise ValueError("no rows to write: the input data set is empty")
    table = pa.concat_tables(tables)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp{os.getpid()}")
    pq.write_table(table, tmp)
    os.replace(tmp, out)
    return table.num_rows
