"""`evaluate reconstruction` compression against the native-resolution data named in the ingest
manifest, the per-shard ratio beside it, and the seed's Table 1 for the four bottlenecks."""

from __future__ import annotations

import argparse
import json

import pandas as pd
import pytest

from solarray.cli import main
from solarray.commands._eval_reconstruction import RECONSTRUCTION
from solarray.compress.native import MIB, model_mib, native_sizes, table1
from solarray.data.shards import MANIFEST, write_manifest
from solarray.models import save_model
from solarray.models.sigma_vae import BOTTLENECKS, SigmaVAEConfig
from tests.vae_helpers import CH, untrained, write_toy_shards

N = 6


def _ids(data) -> list[str]:
    return sorted(str(s) for f in sorted(data.glob("shard_*.parquet"))
                  for s in pd.read_parquet(f, columns=["sample_id"])["sample_id"])


@pytest.fixture()
def shards(tmp_path):
    data = write_toy_shards(tmp_path / "shards", N)
    rows = [{"path": f"/in/{sid}_{ch}.fits", "channel": ch, "t_obs": sid, "status": "used",
             "sample_id": sid, "shard": "x", "native_shape": "512x512" if ch != "hmi_m" else
             "1024x1024", "file_bytes": 1000} for sid in _ids(data) for ch in CH]
    rows.append({"path": "/in/bad.fits", "channel": "aia171", "t_obs": "", "status": "rejected",
                 "reason": "corrupt", "native_shape": "4096x4096"})  # not counted
    write_manifest(str(data / MANIFEST), rows)
    ckpt = save_model(untrained(), tmp_path / "vae.pt")
    return data, ckpt


def _evaluate(ckpt, data, capsys, *extra):
    _, add, run = RECONSTRUCTION
    p = argparse.ArgumentParser()
    add(p)
    assert run(p.parse_args(["--checkpoint", str(ckpt), "--data", str(data), *extra])) == 0
    return capsys.readouterr().out


def test_native_size_from_the_manifest(shards, capsys, one_torch_thread):
    data, ckpt = shards
    native_px = N * (2 * 512**2 + 1024**2)
    got = native_sizes(data, _ids(data), CH)
    assert got["float32_bytes"] == native_px * 4 and got["file_bytes"] == N * 3 * 1000
    assert got["shapes"] == {"512x512": 2 * N, "1024x1024": N}
    rep = json.loads(_evaluate(ckpt, data, capsys, "--json"))
    nat, per_shard = rep["compression_native"], rep["compression_shards"]
    assert nat["original_mb"] == pytest.approx(native_px * 4 / 1e6)
    assert per_shard["original_mb"] == pytest.approx(N * 3 * 32 * 32 * 4 / 1e6)
    assert nat["total_mb"] == pytest.approx(per_shard["total_mb"])  # same latents + model
    assert nat["percent"] == pytest.approx(100 * nat["total_mb"] / nat["original_mb"])
    assert nat["percent"] < per_shard["percent"] / 300  # 512²/1024² vs 32² pixels
    # Table 1 of this dataset: the four bottlenecks, by hand
    t1 = rep["table1"]
    assert [r["bottleneck"] for r in t1] == list(BOTTLENECKS)
    for r in t1:
        assert r["latent_mib"] == pytest.approx(N * r["bottleneck"] * 4 / MIB)
        assert r["percent"] == pytest.approx(100 * r["total_mib"] * MIB / (native_px * 4))
    # the tiny model with a bottleneck of 16 → 256: the three linear layers grow by 3·F·240
    cfg = untrained().config
    flat = cfg.filters[-1] * cfg.feature_size**2
    assert model_mib(cfg, 256) - model_mib(cfg, 16) == pytest.approx(
        (3 * flat * 240 + 2 * 240) * 4 / MIB)
    text = _evaluate(ckpt, data, capsys)
    assert "vs native-resolution data" in text and "per-shard" in text
    assert "| Model size |" in text and "512x512" in text


def test_seed_table1_at_the_seed_dataset(one_torch_thread):
    """The seed's Table 1 from our `paper` sizes at the N its latent rows imply (2481.0 MB of
    2048-d float32 latents): the percentages 0.19 / 0.33 / 0.61 / 1.17 come back when the
    original is N × 12 × 128² float32 values."""
    cfg = SigmaVAEConfig(**SigmaVAEConfig.PRESETS["paper"])
    n = round(2481.0 * MIB / (2048 * 4))
    rows = table1(cfg, n, n * 12 * 128 * 128 * 4, n * 12 * 128 * 128 * 4)
    assert [round(r["percent"], 2) for r in rows] == [0.19, 0.33, 0.61, 1.17]
    assert rows[0]["original_mib"] == pytest.approx(238174.5, rel=1e-3)


def test_manifest_without_native_sizes_leaves_the_native_figures_out(shards, capsys):
    data, ckpt = shards
    old = pd.read_csv(data / MANIFEST).drop(columns=["native_shape", "file_bytes"])
    old.to_csv(data / MANIFEST, index=False)
    # shards ingested before the manifest recorded native sizes: the report still stands
    assert main(["evaluate", "reconstruction", "--checkpoint", str(ckpt), "--data",
                 str(data)]) == 0
    out = capsys.readouterr().out
    assert "records no native_shape" in out and "re-run `solarray ingest`" in out
    assert "per-shard" in out
    write_manifest(str(data / MANIFEST), [{"path": "p", "channel": "aia171", "status": "used",
                                           "sample_id": "other", "native_shape": "8x8"}])
    with pytest.raises(ValueError, match="have no used file"):
        native_sizes(data, ["x"], CH)
    (data / MANIFEST).unlink()
    with pytest.raises(ValueError, match="no manifest.csv"):
        native_sizes(data, ["x"], CH)
