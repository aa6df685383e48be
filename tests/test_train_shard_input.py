"""What pretraining reads from the shards, and the speed benchmark's floor decoding them alike."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from solarray.benchmarks.train_overhead import decode_shard, shard_batches, write_toy_shards
from solarray.data.dataset import open_shards, read_shards, to_training
from solarray.data.shards import shard_paths
from solarray.train.config import TrainConfig
from solarray.train.shard_input import pretraining_dataset, read_columns

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


def test_floor_decodes_the_shards_as_the_ray_path_does(ray_session, shards):
    cfg = TrainConfig(model="solarchip_vit", model_config={"preset": "tiny"})
    cfg, ds = pretraining_dataset(cfg, str(shards), split=False)
    assert cfg.channels == CH
    rows = ds.select_columns(["image", "present", "flare_m24"]).take_all()
    paths = shard_paths(str(shards))
    floor = [decode_shard(p, read_columns(["image", "present"])) for p in paths]
    ray_images = np.stack([r["image"] for r in rows])
    floor_images = np.concatenate([f["image"] for f in floor])
    order = lambda a: np.argsort(a.reshape(len(a), -1).sum(1))  # noqa: E731  Ray reads files in any order
    np.testing.assert_array_equal(ray_images[order(ray_images)], floor_images[order(floor_images)])
    np.testing.assert_array_equal(np.stack([r["present"] for r in rows]),
                                  np.concatenate([f["present"] for f in floor]))
    # SolarCHIP reads no label: the projection skipped flare_class_24h (unknown = -1) ...
    assert {r["flare_m24"] for r in rows} == {-1}
    # ... which the shards hold, and the full decode gives the same images.
    full = to_training(read_shards(str(shards))).take_all()
    assert {r["flare_m24"] for r in full} == {0, 1}
    assert sorted(float(r["image"].sum()) for r in full) == sorted(ray_images.sum((1, 2, 3)))


def test_floor_batches_run_over_epochs_and_drop_each_epochs_remainder(shards):
    paths = shard_paths(str(shards))
    first = decode_shard(paths[0], None)["image"]
    gen = shard_batches(paths, 12, {"image": torch.float32})
    batches = [next(gen) for _ in range(4)]  # 40 rows: 3 full batches per epoch, then again
    gen.close()
    assert [tuple(b["image"].shape) for b in batches] == [(12, 2, 32, 32)] * 4
    assert torch.equal(batches[0]["image"], torch.from_numpy(first[:12]))
    assert torch.equal(batches[3]["image"], batches[0]["image"])  # epoch 2 starts over
