"""Label sets meet ingested shards: read samples, a first version from the shards' masks, the
training dataset of a label version, the shards' image size."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from solarray.core.features import FEATURE_KINDS, MASK_UNKNOWN
from solarray.data import dataset as data_api
from solarray.data.labels.features import drop_small_features
from solarray.data.labels.store import LABELS_FILE, LabelStore, tensor_column_to_numpy
from solarray.data.shards import shard_paths


def load_samples(data_dir: str | os.PathLike, split: str | None = None,
                 columns: Sequence[str] = ("sample_id", "image", "present", "masks"),
                 ) -> dict[str, Any]:
    """Rows of ingested shards as numpy arrays (Ray Data; needs a Ray session), sorted by time.

    ``split`` ``None``/``"all"`` or one of ``train``/``val``/``test``
    (:func:`solarray.data.dataset.split_by_time` defaults). Returns the requested columns plus
    ``channels`` (list of names). ``image`` keeps NaN (off-frame/missing); ``present`` float32.
    """
    ds = data_api.read_shards(os.fspath(data_dir))
    names = ds.schema().names
    missing = [c for c in columns if c not in names]
    if missing:
        raise ValueError(f"{data_dir}: shards lack column(s) {', '.join(missing)} "
                         f"(have {', '.join(names)})")
    if split not in (None, "all"):
        if split not in data_api.SPLITS:
            raise ValueError(f"split must be one of all, {', '.join(data_api.SPLITS)}; got {split!r}")
        ds = data_api.split_by_time(ds)[split]
    ds = ds.select_columns(list(columns))
    parts: dict[str, list] = {c: [] for c in columns}
    for batch in ds.iter_batches(batch_size=256, batch_format="numpy"):
        for c in columns:
            parts[c].append(batch[c])
    out: dict[str, Any] = {"channels": data_api.channels_of(os.fspath(data_dir))}
    for c in columns:
        if not parts[c] or not sum(len(p) for p in parts[c]):
            out[c] = np.zeros((0,)) if c != "sample_id" else []
            continue
        if c == "sample_id":
            out[c] = [str(s) for p in parts[c] for s in p]
        elif c == "present":
            out[c] = np.concatenate([np.stack([np.asarray(x, np.float32) for x in p])
                                     for p in parts[c]])
        else:
            out[c] = np.concatenate(parts[c])
    if out.get("sample_id"):
        order = np.argsort(np.asarray(out["sample_id"]))
        for c in columns:
            out[c] = [out[c][i] for i in order] if c == "sample_id" else out[c][order]
    return out


def init_from_data(store: LabelStore, data_dir: str | os.PathLike, split: str | None = None,
                   min_area: int = 0, drop_fraction: float = 1.0, seed: int = 0) -> str:
    """A first label version from the shards' ``masks`` (human/truth labels).

    Samples whose masks are unknown (255) are skipped. To simulate an incomplete human label set,
    components smaller than ``min_area`` px are dropped with probability ``drop_fraction``.
    """
    data = load_samples(data_dir, split, columns=("sample_id", "masks"))
    masks = np.asarray(data["masks"])
    if masks.size == 0:
        raise ValueError(f"{data_dir}: no samples (split {split or 'all'})")
    known = ~(masks == MASK_UNKNOWN).any(axis=(1, 2, 3))
    ids = [s for s, k in zip(data["sample_id"], known, strict=True) if k]
    masks = masks[known]
    if not len(ids):
        raise ValueError(f"{data_dir}: no sample has known masks")
    dropped = {f: 0 for f in FEATURE_KINDS}
    if min_area > 0:
        masks, dropped = drop_small_features(masks, min_area, drop_fraction, seed)
    prov = {"kind": "init", "data": os.fspath(data_dir), "split": split or "all",
            "min_area": min_area, "drop_fraction": drop_fraction, "seed": seed,
            "dropped_features": dropped}
    return store.write(ids, masks, prov)


def data_image_size(data_dir: str | os.PathLike) -> int:
    """Image size N of the shards' ``image`` column ``[C, N, N]`` (from the Parquet schema)."""
    import pyarrow.parquet as pq

    paths = shard_paths(os.fspath(data_dir))
    if not paths:
        raise FileNotFoundError(f"no shard_*.parquet files in {data_dir}")
    t = pq.read_schema(paths[0]).field("image").type
    shape = getattr(t, "shape", None)
    if not shape:
        raise ValueError(f"{paths[0]}: image column is not a fixed-shape tensor ({t})")
    return int(shape[-1])


def _join_labels(batch: dict[str, np.ndarray], labels_path: str) -> dict[str, np.ndarray]:
    import pyarrow.parquet as pq

    ids = [str(s) for s in batch["sample_id"]]
    table = pq.read_table(labels_path, filters=[("sample_id", "in", ids)])
    got = {s: i for i, s in enumerate(table["sample_id"].to_pylist())}
    keep = np.array([s in got for s in ids], dtype=bool)
    out = {k: (np.asarray(v)[keep] if not isinstance(v, list) else
               [x for x, k_ in zip(v, keep, strict=True) if k_]) for k, v in batch.items()}
    if got:
        lab = tensor_column_to_numpy(table["masks"]).astype(np.uint8)
        out["masks"] = lab[[got[s] for s in ids if s in got]]
    else:
        shape = batch["image"].shape[2:]
        out["masks"] = np.zeros((0, len(FEATURE_KINDS), *shape), np.uint8)
    return out


def training_dataset(store: LabelStore, version: str | None, data_dir: str | os.PathLike,
                     split: str | None = "train"):
    """Ray Dataset in ``to_training`` layout whose ``masks`` come from a label version (inner join
    on ``sample_id``; shard samples without a label are dropped)."""
    v = store.resolve(version)
    ds = data_api.read_shards(os.fspath(data_dir))
    if split not in (None, "all"):
        ds = data_api.split_by_time(ds)[split]
    ds = ds.select_columns(["sample_id", "t_obs", "image", "present"])
    ds = ds.map_batches(_join_labels, batch_format="numpy",
                        fn_kwargs={"labels_path": str(store.path(v) / LABELS_FILE)})
    return data_api.to_training(ds.drop_columns(["sample_id"]))


__all__ = ["data_image_size", "init_from_data", "load_samples", "training_dataset"]
