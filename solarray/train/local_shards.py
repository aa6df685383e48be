"""Ingest's Parquet shards read in the training process itself, with the Ray path's conversion.

A one-worker run on one node (the warm trainer, :mod:`solarray.train.warm_worker`) and the
benchmarks' single-process floor read the shards here instead of through Ray Data: the same
columns (``pyarrow`` reads only what the objective needs), the same time split
(:func:`solarray.data.dataset.assign_splits`), Ray Data's own block → numpy conversion, the same
batch function (:func:`solarray.data.dataset.training_batch`) and channel selection — one shard
decoded ahead in a thread. Why: a Ray Data stream needs Ray worker processes for its read and map
tasks, and a command's workers are new processes (started and importing for seconds) every time;
on a 2-core node that start dominated a short run's first step (BENCHMARKS.md, "Start-up of
`solarray pretrain`"). Ray Data remains the path of multi-worker and multi-node runs.

:class:`LocalShards` offers the part of the Ray Dataset interface the training loop uses
(``schema().names``, ``select_columns``, ``iter_torch_batches``). Its local shuffle (when the run
shuffles) permutes the shard order and the rows within each shard, seeded per epoch, instead of
Ray Data's sampling from a row buffer.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np
import torch

from solarray.data.dataset import TRAINING_COLUMNS, assign_splits, training_batch


@dataclass(frozen=True)
class LocalShards:
    """Shards at ``paths`` as training rows: ``read_columns`` read, rows of ``split`` kept
    (``None``: every row), ``channel_index`` channels kept in that order (``None``: all), the
    training ``columns`` yielded."""

    paths: tuple[str, ...]
    read_columns: tuple[str, ...]
    columns: tuple[str, ...] = ()
    channel_index: tuple[int, ...] | None = None
    split: str | None = "train"

    def __post_init__(self) -> None:
        if not self.paths:
            raise ValueError("LocalShards needs at least one shard path")
        if not self.columns:
            masks = ("masks",) if "masks" in self.read_columns else ()
            object.__setattr__(self, "columns", TRAINING_COLUMNS + masks)

    def schema(self) -> SimpleNamespace:
        """``schema().names`` as on a Ray Dataset."""
        return SimpleNamespace(names=list(self.columns))

    def select_columns(self, columns: Sequence[str]) -> LocalShards:
        unknown = [c for c in columns if c not in self.columns]
        if unknown:
            raise ValueError(f"LocalShards has no column(s) {', '.join(unknown)}; it has "
                             f"{', '.join(self.columns)}")
        return dataclasses.replace(self, columns=tuple(columns))

    def decode(self, path: str) -> dict[str, np.ndarray]:
        """One shard's rows as training columns (possibly zero rows after the split)."""
        import pyarrow as pa
        import pyarrow.compute as pc
        import pyarrow.parquet as pq
        from ray.data.block import BlockAccessor

        table = pq.read_table(path, columns=list(self.read_columns))
        if self.split is not None:
            t = pc.cast(table["t_obs"].combine_chunks(), pa.timestamp("s", tz="UTC"))
            names = assign_splits(t.to_numpy(zero_copy_only=False).astype("datetime64[s]"))
            table = table.filter(pa.array(names == self.split))
        cols = training_batch(BlockAccessor.for_block(table).to_batch_format("numpy"))
        if self.channel_index is not None:
            idx = list(self.channel_index)
            cols["image"] = np.ascontiguousarray(cols["image"][:, idx])
            cols["present"] = np.ascontiguousarray(cols["present"][:, idx])
        return {c: cols[c] for c in self.columns}

    def iter_torch_batches(self, batch_size: int, dtypes: Mapping[str, torch.dtype] | None = None,
                           device: torch.device | str = "cpu", drop_last: bool = True,
                           local_shuffle_buffer_size: int | None = None,
                           local_shuffle_seed: int | None = None
                           ) -> Iterator[dict[str, torch.Tensor]]:
        """One pass as ``{column: tensor}`` batches of ``batch_size`` rows on ``device`` (the
        rows left at the end dropped with ``drop_last``, else yielded as a last short batch)."""
        dtypes = dict(dtypes or {})
        rng = np.random.default_rng(local_shuffle_seed) if local_shuffle_buffer_size else None
        order = list(self.paths) if rng is None else [self.paths[i] for i in
                                                      rng.permutation(len(self.paths))]

        def tensors(cols: dict[str, np.ndarray], a: int, b: int) -> dict[str, torch.Tensor]:
            return {c: torch.as_tensor(v[a:b], dtype=dtypes.get(c)).to(device)
                    for c, v in cols.items()}

        carry: dict[str, np.ndarray] | None = None
        with ThreadPoolExecutor(1, thread_name_prefix="local-shards") as pool:
            nxt = pool.submit(self.decode, order[0])
            for k in range(len(order)):
                cols = nxt.result()
                if k + 1 < len(order):
                    nxt = pool.submit(self.decode, order[k + 1])
                if rng is not None:
                    perm = rng.permutation(len(next(iter(cols.values()))))
                    cols = {c: v[perm] for c, v in cols.items()}
                if carry is not None:
                    cols = {c: np.concatenate([carry[c], cols[c]]) for c in cols}
                n = len(next(iter(cols.values())))
                full = n - n % batch_size
                for a in range(0, full, batch_size):
                    yield tensors(cols, a, a + batch_size)
                carry = {c: v[full:] for c, v in cols.items()}
        if carry is not None and not drop_last and len(next(iter(carry.values()))):
            yield tensors(carry, 0, len(next(iter(carry.values()))))


__all__ = ["LocalShards"]
