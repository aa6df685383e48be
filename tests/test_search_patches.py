"""AR patches cut from ingest's shards: around the shards' truth masks, or around a label version
(SPNet's predicted masks), with the channels asked for; the command line reaches both."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pytest

from solarray.cli import main
from solarray.core import channels as chans
from solarray.data.labels import LabelStore
from solarray.data.shards import write_shard
from solarray.search.patches import patches_from_shards, read_patches

N = 64
CH = ("hmi_m", "aia171")


def _box(mask: np.ndarray, r: int, c: int, half: int = 3) -> None:
    mask[r - half:r + half, c - half:c + half] = 1


def _shards(out, with_masks: bool = True, per_shard: int = 3) -> list[str]:
    """Three hourly samples (``per_shard`` per shard file): a bipole at (24, 24) and one at
    (40, 36), in the truth masks."""
    hmi = chans.get("hmi_m")
    rows, ids = [], []
    for k in range(3):
        t = datetime(2024, 2, 1) + timedelta(hours=k)
        bz = np.zeros((N, N), np.float32)
        bz[22:25, 21:27], bz[25:28, 21:27] = 800.0, -600.0
        bz[38:41, 33:39], bz[41:44, 33:39] = 300.0, -300.0
        image = np.stack([hmi.scale(bz), np.full((N, N), 0.1, np.float32)]).astype(np.float32)
        masks = np.zeros((3, N, N), np.uint8)
        _box(masks[0], 24, 24)
        _box(masks[0], 40, 36)
        sid = t.strftime("%Y-%m-%dT%H:%M:%S")
        ids.append(sid)
        rows.append({"t_obs": t, "sample_id": sid, "image": image, "present": np.ones(2, bool),
                     "meta": "{}", "masks": masks if with_masks else None, "labels": {}})
    for i in range(0, len(rows), per_shard):
        write_shard(rows[i:i + per_shard], str(out), CH)
    return ids


def test_patches_from_truth_masks_and_from_a_label_version(tmp_path):
    data = tmp_path / "shards"
    data.mkdir()
    ids = _shards(data)
    rows = patches_from_shards(data, size=16, channels=CH)
    assert len(rows) == 6 and {r["region"] for r in rows} == {1, 2}  # linked over the 3 hours
    strong = [r for r in rows if abs(r["row"] - 23.5) < 1]
    assert len(strong) == 3 and all(r["image"].shape == (2, 16, 16) for r in rows)
    assert all(r["tuf"] > 0 and r["tnf"] < 0 for r in rows)
    assert strong[0]["tuf"] > max(r["tuf"] for r in rows if r not in strong)

    # a label version that marks only the second region (in two of the three samples)
    store = LabelStore(tmp_path / "labels")
    masks = np.zeros((2, 3, N, N), np.uint8)
    for m in masks:
        _box(m[0], 40, 36)
    store.write(ids[:2], masks, {"source": "test"})
    bare = tmp_path / "bare"
    bare.mkdir()
    _shards(bare, with_masks=False, per_shard=1)  # the label set is read across three files
    with pytest.raises(ValueError, match="no masks column.*--labels"):
        patches_from_shards(bare)
    got = patches_from_shards(bare, size=16, labels=store.read())
    assert len(got) == 2 and all(abs(r["row"] - 39.5) < 1 for r in got)
    assert [r["sample_id"].split("_")[0] for r in got] == ids[:2]


def test_patches_command_with_labels_and_channels(tmp_path, capsys):
    data = tmp_path / "shards"
    data.mkdir()
    ids = _shards(data, with_masks=False)
    store = LabelStore(tmp_path / "labels")
    masks = np.zeros((3, 3, N, N), np.uint8)
    for m in masks:
        _box(m[0], 24, 24)
    store.write(ids, masks, {"source": "test"})
    out = tmp_path / "patches"
    assert main(["search", "patches", "--data", str(data), "--labels", str(store.root),
                 "--channels", "hmi_m,aia171", "--size", "16", "--out", str(out)]) == 0
    assert "Wrote 3 patches of 1 regions" in capsys.readouterr().out
    images, meta, channels = read_patches(out)
    assert images.shape == (3, 2, 16, 16) and list(channels) == list(CH)
    assert main(["search", "patches", "--data", str(data), "--labels", str(tmp_path / "none"),
                 "--out", str(tmp_path / "p2")]) == 2
    assert "--labels" in capsys.readouterr().err
    assert main(["search", "patches", "--data", str(data), "--channels", "aia171",
                 "--labels", str(store.root), "--out", str(tmp_path / "p3")]) == 2
    assert "hmi_m" in capsys.readouterr().err
