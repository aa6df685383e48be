"""Keep a worker's first epoch of training batches in memory and replay it for later epochs.

Why: every epoch of the generic loop starts a new Ray Data stream (``iter_torch_batches`` on the
worker's shard: a new execution that reads the Parquet shards and converts them again). For the
data sets that fit in a worker's memory — most of what a laptop or a benchmark trains on — that
restart costs seconds per epoch and dominates short steps (BENCHMARKS.md, "Ray Train loop vs the
plain PyTorch loop": 1.2× the floor within an epoch, 1.9× across one). The first epoch streams
as before and is recorded while it is consumed; when it ends within ``max_bytes``, later epochs
replay it from memory (reshuffled each epoch when the run shuffles). A shard larger than
``max_bytes`` stops being recorded the moment it passes the budget and every epoch streams.

Augmentation lives in the objectives (applied per step), so replayed batches are augmented afresh.
Each worker replays its own first-epoch rows: with several workers the partition of the data
between them stays fixed after the first epoch.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import torch


class EpochCache:
    """Records the batches of one pass (:meth:`record`) and replays them (:meth:`replay`)."""

    def __init__(self, max_bytes: int, batch_size: int, shuffle: bool = False, seed: int = 0):
        self.max_bytes = int(max_bytes)
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.seed = int(seed)
        self._rows: dict[str, list[torch.Tensor]] = {}
        self._columns: dict[str, torch.Tensor] | None = None  # the rows, joined at first replay
        self._bytes = 0
        self._overflow = self.max_bytes <= 0
        self.complete = False  # a whole pass was recorded within the budget

    @property
    def nbytes(self) -> int:
        return self._bytes

    def record(self, batches: Iterable[dict[str, torch.Tensor]]
               ) -> Iterator[dict[str, torch.Tensor]]:
        """Yield ``batches`` unchanged, keeping CPU copies while they fit in ``max_bytes``;
        :attr:`complete` once the pass ends within the budget."""
        for batch in batches:
            if not self._overflow:
                self._keep(batch)
            yield batch
        if not self._overflow and self._rows:
            self.complete = True

    def _keep(self, batch: dict[str, torch.Tensor]) -> None:
        size = sum(v.element_size() * v.nelement() for v in batch.values())
        if self._bytes + size > self.max_bytes:
            self._overflow, self._rows, self._bytes = True, {}, 0  # stream every epoch
            return
        for k, v in batch.items():
            self._rows.setdefault(k, []).append(v.detach().to("cpu", copy=True))
        self._bytes += size

    def replay(self, epoch: int, device: torch.device | str = "cpu"
               ) -> Iterator[dict[str, torch.Tensor]]:
        """The recorded rows as full batches on ``device``: in recorded order, or permuted with
        ``seed`` and ``epoch`` when shuffling."""
        if not self.complete:
            raise RuntimeError("EpochCache.replay before a complete pass was recorded")
        if self._columns is None:
            self._columns, self._rows = {k: torch.cat(v) for k, v in self._rows.items()}, {}
        columns = self._columns
        n = len(next(iter(columns.values())))
        if self.shuffle:
            order = torch.randperm(n, generator=torch.Generator().manual_seed(
                self.seed + 1000 * epoch))
        else:
            order = torch.arange(n)
        for start in range(0, n - self.batch_size + 1, self.batch_size):
            idx = order[start:start + self.batch_size]
            yield {k: v[idx].to(device, non_blocking=True) for k, v in columns.items()}


__all__ = ["EpochCache"]
