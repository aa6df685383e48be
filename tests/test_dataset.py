"""Reading shards: time splits without leakage, training batches, channel order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from solarray.data import dataset as D
from solarray.data.grouping import sample_id_of
from solarray.data.shards import write_shard

CH = ("aia193", "hmi_m")


def _rows(times, n=8, masks=True, classes=None):
    rng = np.random.default_rng(0)
    rows = []
    for i, t in enumerate(times):
        img = rng.uniform(-1, 1, (len(CH), n, n)).astype(np.float32)
        img[1, 0, 0] = np.nan
        rows.append({"t_obs": t, "sample_id": sample_id_of(t), "image": img,
                     "present": np.array([True, i % 2 == 0]), "meta": "{}",
                     "masks": (rng.random((3, n, n)) > 0.5).astype(np.uint8) if masks else None,
                     "labels": {"flare_class_24h": (classes or [""] * len(times))[i],
                                "f107": 100.0 + i, "f30": np.nan}})
    return rows


def test_assign_splits_months_and_gaps():
    t = np.array(["2024-01-15T00", "2024-01-31T12", "2024-02-01T06", "2024-02-02T01",
                  "2024-02-29T23", "2024-03-01T01", "2024-03-15T00", "2025-01-10T00"],
                 dtype="datetime64[s]")
    got = D.assign_splits(t, val_months=(3,), test_months=(1,), gap_hours=24)
    assert got.tolist() == ["test", "gap", "gap", "train", "gap", "gap", "val", "test"]
    assert D.assign_splits(t, gap_hours=0).tolist()[1:3] == ["test", "train"]
    with pytest.raises(ValueError, match="both"):
        D.assign_splits(t, val_months=(1,), test_months=(1,))


def test_flare_labels():
    assert D.flare_m24(["", "C9.9", "M1.0", "X2.1", None]).tolist() == [0, 0, 1, 1, -1]


def test_split_and_torch_batches(ray_session, tmp_path):
    times = [datetime(2024, 1, 20) + timedelta(hours=12 * k) for k in range(100)]  # Jan 20 → Mar 10
    rows = _rows(times, classes=["M2.0" if k % 7 == 0 else "C1.0" for k in range(100)])
    write_shard(rows[:50], str(tmp_path), CH)
    write_shard(rows[50:], str(tmp_path), CH)
    assert D.channels_of(str(tmp_path)) == list(CH)  # from the shard (no ingest.json)
    ds = D.read_shards(str(tmp_path)).materialize()
    splits = D.split_by_time(ds, val_months=(2,), test_months=(1,), gap_hours=24)
    got = {k: sorted(r["sample_id"] for r in v.select_columns(["sample_id"]).take_all())
           for k, v in splits.items()}
    expect = D.assign_splits(np.array(times, dtype="datetime64[s]"), (2,), (1,), 24)
    for name in D.SPLITS:
        assert got[name] == sorted(sample_id_of(t) for t, s in zip(times, expect, strict=True) if s == name)
    assert got["test"] and got["val"] and got["train"]
    # No leakage: every kept sample is > 24 h from every sample of another split.
    ts = {k: np.array(v, dtype="datetime64[s]") for k, v in got.items()}
    for a in D.SPLITS:
        for b in D.SPLITS:
            if a != b:
                gap = np.abs(ts[a][:, None] - ts[b][None, :]).min()
                assert gap > np.timedelta64(24, "h")

    train = D.to_training(splits["val"])
    batch = next(iter(train.iter_torch_batches(batch_size=5)))
    assert set(batch) == {"image", "present", "masks", "flare_m24", "f107", "f30", "t_unix"}
    assert tuple(batch["image"].shape) == (5, 2, 8, 8) and not batch["image"].isnan().any()
    assert batch["present"].dtype.is_floating_point and tuple(batch["present"].shape) == (5, 2)
    assert tuple(batch["masks"].shape) == (5, 3, 8, 8)
    assert batch["f30"].isnan().all() and (batch["f107"] >= 100).all()
    assert set(batch["flare_m24"].tolist()) <= {0, 1}


def test_read_shards_empty_dir(tmp_path):
    with pytest.raises(FileNotFoundError, match="solarray ingest"):
        D.read_shards(str(tmp_path))


def test_training_without_masks_or_labels(ray_session, tmp_path):
    times = [datetime(2024, 5, 1) + timedelta(hours=k) for k in range(4)]
    write_shard(_rows(times, masks=False, classes=[None] * 4), str(tmp_path), CH)
    batch = next(iter(D.to_training(D.read_shards(str(tmp_path))).iter_torch_batches(batch_size=4)))
    assert "masks" not in batch and batch["flare_m24"].tolist() == [D.LABEL_UNKNOWN] * 4
    assert batch["present"].tolist() == [[1.0, 1.0], [1.0, 0.0], [1.0, 1.0], [1.0, 0.0]]
    assert batch["t_unix"].tolist()[0] == int(times[0].replace(tzinfo=UTC).timestamp())
