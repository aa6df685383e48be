"""The epoch cache: the first pass recorded within a byte budget, replayed in order or reshuffled
per epoch, and streaming kept when the pass does not fit."""

from __future__ import annotations

import pytest
import torch

from solarray.train.epoch_cache import EpochCache


def _batches(n_batches: int, batch: int = 4):
    for b in range(n_batches):
        rows = torch.arange(b * batch, (b + 1) * batch)
        yield {"image": rows.float().reshape(-1, 1, 1, 1).expand(-1, 2, 3, 3).contiguous(),
               "id": rows}


def _bytes_per_batch(batch: int = 4) -> int:
    return batch * (2 * 3 * 3 * 4 + 8)  # float32 image + int64 id


def test_a_pass_within_the_budget_is_replayed_in_order():
    cache = EpochCache(max_bytes=3 * _bytes_per_batch(), batch_size=4)
    seen = [b["id"].tolist() for b in cache.record(_batches(3))]
    assert seen == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]]  # passed through unchanged
    assert cache.complete and cache.nbytes == 3 * _bytes_per_batch()
    replayed = list(cache.replay(epoch=1))
    assert [b["id"].tolist() for b in replayed] == seen
    assert torch.equal(replayed[2]["image"][:, 0, 0, 0], torch.tensor([8.0, 9.0, 10.0, 11.0]))


def test_shuffled_replays_are_permutations_that_change_per_epoch():
    cache = EpochCache(max_bytes=10**6, batch_size=4, shuffle=True, seed=3)
    list(cache.record(_batches(5)))
    e1 = torch.cat([b["id"] for b in cache.replay(epoch=1)])
    e2 = torch.cat([b["id"] for b in cache.replay(epoch=2)])
    assert sorted(e1.tolist()) == list(range(20)) == sorted(e2.tolist())
    assert not torch.equal(e1, e2) and not torch.equal(e1, torch.arange(20))
    assert torch.equal(e1, torch.cat([b["id"] for b in cache.replay(epoch=1)]))  # reproducible
    for b in cache.replay(epoch=1):  # rows stay together across columns
        assert torch.equal(b["image"][:, 0, 0, 0].long(), b["id"])


def test_a_pass_over_the_budget_keeps_streaming_and_keeps_nothing():
    cache = EpochCache(max_bytes=2 * _bytes_per_batch(), batch_size=4)
    assert len(list(cache.record(_batches(3)))) == 3  # every batch still reaches the loop
    assert not cache.complete and cache.nbytes == 0
    with pytest.raises(RuntimeError, match="before a complete pass"):
        next(cache.replay(epoch=1))
    off = EpochCache(max_bytes=0, batch_size=4)
    list(off.record(_batches(1)))
    assert not off.complete


def test_an_interrupted_pass_is_not_replayed():
    cache = EpochCache(max_bytes=10**6, batch_size=4)
    run = cache.record(_batches(3))
    next(run)  # the loop reached its last step mid-epoch
    assert not cache.complete
