"""`solarray compress / decompress / sample / evaluate reconstruction` end to end on a tiny
sigma_vae, and their bad-input errors."""

from __future__ import annotations

import argparse
import json
import re

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from astropy.io import fits

from solarray.cli import main
from solarray.commands._eval_reconstruction import RECONSTRUCTION
from solarray.compress.codec import checkpoint_hash
from solarray.compress.latents import read_latents
from solarray.data.synthetic.toy import toy_samples
from solarray.models import build, save_model
from tests.vae_helpers import CH, train_in_process, untrained, write_toy_shards


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    import torch

    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("vae")
    data = write_toy_shards(root / "shards", 24)
    imgs = toy_samples(64, CH, size=32, seed=11)["image"]
    trained, _ = train_in_process(imgs, steps=200)
    ckpt = save_model(trained, root / "trained.pt")
    raw = save_model(untrained(), root / "untrained.pt")
    return root, data, ckpt, raw


def _fails(argv, capsys, match):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert re.search(match, err), err
    assert len(err.strip().splitlines()) == 1  # one line naming the problem


def _evaluate(ckpt, data, capsys, limit=None):
    help_, add, run = RECONSTRUCTION
    p = argparse.ArgumentParser()
    add(p)
    args = p.parse_args(["--checkpoint", str(ckpt), "--data", str(data), "--json"]
                        + (["--limit", str(limit)] if limit else []))
    assert run(args) == 0 and "compression" in help_
    return json.loads(capsys.readouterr().out)


def test_compress_decompress_round_trip(setup, tmp_path, capsys):
    root, data, ckpt, _ = setup
    out = tmp_path / "latents.parquet"
    assert main(["compress", "--checkpoint", str(ckpt), "--data", str(data),
                 "--out", str(out)]) == 0
    assert "Wrote 24 latents (16 dims)" in capsys.readouterr().out
    table = pq.read_table(out)
    assert table.num_rows == 24 and "t_obs" in table.column_names
    assert {"mu_0000", "mu_0015", "logsigma_0015"} <= set(table.column_names)
    lat = read_latents(out)
    digest = checkpoint_hash(ckpt)
    assert lat.info["hash"] == digest and lat.info["channels"] == list(CH)
    assert np.all(np.diff(lat.t_obs.astype(np.int64)) > 0)

    fits_dir = tmp_path / "fits"
    assert main(["decompress", "--checkpoint", str(ckpt), "--latents", str(out),
                 "--out", str(fits_dir), "--limit", "2"]) == 0
    files = sorted(fits_dir.glob("*.fits"))
    assert len(files) == 2 * len(CH)
    with fits.open(files[0]) as hdul:
        hdr, img = hdul[0].header, hdul[0].data
    assert hdr["ORIGIN"] == f"reconstructed by sigma_vae@{digest}"
    assert hdr["CHANNEL"] in CH and hdr["DATE-OBS"].startswith("2024-06-01T00:00:00")
    assert hdr["FRAME"] == pytest.approx(1.1) and img.shape == (32, 32)
    assert hdr["BUNIT"] in ("DN/s", "Gauss") and "CDELT1" in hdr

    # Latents of another checkpoint are refused unless forced.
    other = build("sigma_vae", preset="tiny", channels=CH)
    save_model(other, tmp_path / "other.pt")
    _fails(["decompress", "--checkpoint", str(tmp_path / "other.pt"), "--latents", str(out),
              "--out", str(tmp_path / "x")], capsys, "written by sigma_vae@")


def test_sample_writes_fits_and_png_grids(setup, tmp_path, capsys):
    _, _, ckpt, _ = setup
    assert main(["sample", "--checkpoint", str(ckpt), "--n", "4", "--out", str(tmp_path),
                 "--seed", "3"]) == 0
    assert len(list(tmp_path.glob("*.fits"))) == 4 * len(CH)
    assert sorted(p.name for p in tmp_path.glob("*.png")) == sorted(
        f"samples_{c}.png" for c in CH)
    with fits.open(next(tmp_path.glob("*.fits"))) as hdul:
        assert hdul[0].header["ORIGIN"].startswith("sampled from N(0,I) by sigma_vae@")
    _fails(["sample", "--checkpoint", str(ckpt), "--n", "0", "--out", str(tmp_path)], capsys,
           "--n must be")


def test_evaluate_reconstruction_trained_beats_untrained(setup, capsys):
    _, data, ckpt, raw = setup
    good = _evaluate(ckpt, data, capsys)
    bad = _evaluate(raw, data, capsys)
    assert good["n_samples"] == 24 and [r["channel"] for r in good["rows"]] == list(CH)
    for g, b in zip(good["rows"], bad["rows"], strict=True):
        assert g["pixel_correlation"] > b["pixel_correlation"] + 0.1, (g, b)
    comp = good["compression_shards"]
    assert comp["original_mb"] == pytest.approx(24 * 3 * 32 * 32 * 4 / 1e6)
    assert comp["latent_mb"] == pytest.approx(24 * 16 * 4 / 1e6)
    assert comp["percent"] > 0


def test_bad_inputs(setup, tmp_path, capsys):
    _, data, ckpt, _ = setup
    out = ["--out", str(tmp_path / "l.parquet")]
    # channels the checkpoint was not trained on
    other = write_toy_shards(tmp_path / "other", 4, channels=("aia171", "aia193"))
    _fails(["compress", "--checkpoint", str(ckpt), "--data", str(other), *out], capsys,
           r"channels \['aia304', 'hmi_m'\] are not in the shards")
    big = write_toy_shards(tmp_path / "big", 4, size=64)
    _fails(["compress", "--checkpoint", str(ckpt), "--data", str(big), *out], capsys,
           "64 px images, the checkpoint was trained on 32 px")
    _fails(["compress", "--checkpoint", str(tmp_path / "nope.pt"), "--data", str(data), *out],
           capsys, "no such checkpoint")
    cnn = save_model(build("cnn_ae", preset="tiny", in_channels=3), tmp_path / "cnn.pt")
    _fails(["sample", "--checkpoint", str(cnn), "--out", str(tmp_path)], capsys,
           "holds model 'cnn_ae', not sigma_vae")
    bogus = tmp_path / "bogus.parquet"
    pq.write_table(pa.table({"x": [1.0]}), bogus)
    _fails(["decompress", "--checkpoint", str(ckpt), "--latents", str(bogus),
            "--out", str(tmp_path / "d")], capsys, "not a latents file")
    _fails(["compress", "--checkpoint", str(ckpt), "--data", str(tmp_path / "none"), *out],
           capsys, "--data: no such directory")
