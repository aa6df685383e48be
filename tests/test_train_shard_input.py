"""What pretraining reads from the shards; the in-process reader (the warm trainer's and the speed
benchmark floor's) decoding them as the Ray Data path does."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from solarray.benchmarks.train_overhead import write_toy_shards
from solarray.data.dataset import open_shards, read_shards, to_training
from solarray.data.shards import shard_paths
from solarray.train.config import TrainConfig
from solarray.train.local_shards import LocalShards
from solarray.train.shard_input import (
    local_pretraining_source,
    pretraining_dataset,
    read_columns,
)

CH = ("aia171", "hmi_m")


def test_read_columns_keeps_what_to_training_needs_and_the_sources_of_the_rest():
    assert read_columns(["image", "present"]) == ["t_obs", "image", "present"]
    assert read_columns(["image", "masks", "flare_m24"], available=["t_obs", "image",
                        "present", "flare_class_24h"]) == ["t_obs", "image", "present",
                                                          "flare_class_24h"]


@pytest.fixture(scope="module")
def shards(tmp_path_factory):
    return write_toy_shards(tmp_path_factory.mktemp("toy") / "shards", 40, CH, 32,
                            rows_per_shard=16)


def test_toy_shards_are_ingest_shards(shards):
    s = open_shards("--data", str(shards))
    assert (s.channels, s.image_size, len(s.paths)) == (CH, 32, 3)


def _by_content(images: np.ndarray) -> np.ndarray:
    return images[np.argsort(images.reshape(len(images), -1).sum(1))]  # Ray reads in any order


def test_local_reader_decodes_the_shards_as_the_ray_path_does(ray_session, shards):
    cfg = TrainConfig(model="solarchip_vit", model_config={"preset": "tiny"})
    cfg, ds = pretraining_dataset(cfg, str(shards), split=False)
    assert cfg.channels == CH
    rows = ds.select_columns(["image", "present", "flare_m24"]).take_all()
    local = LocalShards(tuple(shard_paths(str(shards))), tuple(read_columns(["image", "present"])),
                        split=None)
    floor = [local.decode(p) for p in local.paths]
    ray_images = np.stack([r["image"] for r in rows])
    floor_images = np.concatenate([f["image"] for f in floor])
    np.testing.assert_array_equal(_by_content(ray_images), _by_content(floor_images))
    np.testing.assert_array_equal(np.stack([r["present"] for r in rows]),
                                  np.concatenate([f["present"] for f in floor]))
    # SolarCHIP reads no label: the projection skipped flare_class_24h (unknown = -1) ...
    assert {r["flare_m24"] for r in rows} == {-1}
    assert set(np.concatenate([f["flare_m24"] for f in floor])) == {-1}
    # ... which the shards hold, and the full decode gives the same images.
    full = to_training(read_shards(str(shards))).take_all()
    assert {r["flare_m24"] for r in full} == {0, 1}
    assert sorted(float(r["image"].sum()) for r in full) == sorted(ray_images.sum((1, 2, 3)))


def test_local_source_matches_pretraining_dataset_with_split_and_a_channel_subset(ray_session,
                                                                                   tmp_path):
    cfg = TrainConfig(model="solarchip_vit", model_config={"preset": "tiny"},
                      channels=("hmi_m", "aia171"))
    shards = write_toy_shards(tmp_path / "year", 40, CH, 32, rows_per_shard=16,
                              spacing_hours=240)  # 13 months: validation and test months too
    shard_set = open_shards("--data", str(shards))
    cfg_ray, ds = pretraining_dataset(cfg, shard_set, split=True)
    cfg_local, local = local_pretraining_source(cfg, shard_set, split=True)
    assert cfg_ray == cfg_local and local.channel_index == (1, 0)
    ray_images = np.stack([r["image"] for r in ds.take_all()])
    local_images = np.concatenate([local.decode(p)["image"] for p in local.paths])
    assert 20 <= len(local_images) < 40  # the time split keeps the training months
    np.testing.assert_array_equal(_by_content(ray_images), _by_content(local_images))
    every = local_pretraining_source(cfg, shard_set, split=False)[1]
    assert sum(len(every.decode(p)["image"]) for p in every.paths) == 40
    with pytest.raises(ValueError, match="no column"):
        local.select_columns(["image", "bogus"])


def test_local_batches_drop_each_passs_remainder_and_shuffle_reproducibly(shards):
    paths = tuple(shard_paths(str(shards)))
    local = LocalShards(paths, ("t_obs", "image", "present"), split=None).select_columns(["image"])
    first = local.decode(paths[0])["image"]
    batches = list(local.iter_torch_batches(12, {"image": torch.float32}))
    assert [tuple(b["image"].shape) for b in batches] == [(12, 2, 32, 32)] * 3  # 40 rows
    assert torch.equal(batches[0]["image"], torch.from_numpy(first[:12]))
    assert [len(b["image"]) for b in local.iter_torch_batches(12, drop_last=False)] == [12] * 3 + [4]
    sums = lambda seed: torch.cat([b["image"].sum((1, 2, 3)) for b in local.iter_torch_batches(  # noqa: E731
        8, local_shuffle_buffer_size=64, local_shuffle_seed=seed)])
    plain = torch.cat([b["image"].sum((1, 2, 3)) for b in local.iter_torch_batches(8)])
    assert torch.equal(sums(1), sums(1)) and not torch.equal(sums(1), sums(2))
    assert torch.equal(sums(1).sort().values, plain.sort().values)  # same rows, another order
