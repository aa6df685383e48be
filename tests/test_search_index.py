"""Look-up table and exact index: `solarray pretrain --model simsiam` on patch files, the Ray Data
index, exact = brute force, and the refusals (another checkpoint, wrong size/channels)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from solarray.cli import main
from solarray.models import build, save_model
from solarray.search import ExactIndex
from solarray.search.index import brute_force
from solarray.search.lut import LookupTable, Searcher, build_lut
from solarray.search.patches import read_patches, synthetic_patches, write_patches


def test_exact_index_equals_brute_force():
    rng = np.random.default_rng(0)
    v = rng.standard_normal((500, 16)).astype(np.float32)
    index = ExactIndex(v)
    for q in rng.standard_normal((5, 16)):
        ids, sims = index.query(q, 7)
        ref_ids, ref_sims = brute_force(v, q, 7)
        assert ids.tolist() == ref_ids.tolist()
        np.testing.assert_allclose(sims, ref_sims, rtol=1e-5)
    ids, _ = index.query(rng.standard_normal((3, 16)), 4)
    assert ids.shape == (3, 4)
    with pytest.raises(ValueError, match=r"\[16\]"):
        index.query(np.ones(8), 3)


@pytest.fixture(scope="module")
def trained(tmp_path_factory, ray_session):
    root = tmp_path_factory.mktemp("search")
    write_patches(synthetic_patches(1, days=1.0), root / "patches")
    rc = main(["pretrain", "--data", str(root / "patches"), "--model", "simsiam", "--preset",
               "tiny", "--workers", "0", "--steps", "2", "--batch-size", "8", "--no-split",
               "--storage", str(root / "runs"), "--run-name", "ss", "--checkpoint-every", "2"])
    assert rc == 0
    ckpt = next((root / "runs" / "ss").glob("checkpoint_*"))
    lut = build_lut(ckpt, root / "patches", root / "lut.parquet", batch_size=16)
    return root, ckpt, lut


def test_index_built_with_ray_data_and_queried(trained, capsys):
    root, ckpt, lut_path = trained
    images, meta, channels = read_patches(root / "patches")
    lut = LookupTable(lut_path)
    assert len(lut.meta) == len(meta) and channels == ["hmi_m"]
    searcher = Searcher(lut_path)
    # A real patch (back in G) finds itself first.
    q = images[5, 0] * 1500.0
    best = searcher.search(q, k=3)
    assert best["region"].iloc[0] == meta["region"].iloc[5]
    assert best["similarity"].iloc[0] == pytest.approx(1.0, abs=1e-4)
    ids, _ = brute_force(lut.latents, searcher.embed(images[5:6] )[0], 3)
    assert best["id"].tolist() == ids.tolist()
    np.save(root / "q.npy", q)
    assert main(["search", "query", "--index", str(lut_path), "--image", str(root / "q.npy"),
                 "--k", "2", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert len(out["matches"]) == 2 and {"t_obs", "hgs_lon", "tuf", "similarity"} <= set(
        out["matches"][0])


def test_refusals(trained, tmp_path, capsys):
    _, _, lut_path = trained
    other = save_model(build("simsiam", preset="tiny"), tmp_path / "other.pt")
    with pytest.raises(ValueError, match="was built with checkpoint"):
        Searcher(lut_path, other)
    searcher = Searcher(lut_path)
    with pytest.raises(ValueError, match=r"expected a patch \[1, 32, 32\]"):
        searcher.search(np.zeros((16, 16)))
    with pytest.raises(ValueError, match="channels"):
        searcher.search(np.zeros((1, 32, 32)), channels=["aia171"])
    np.save(tmp_path / "bad.npy", np.zeros((2, 32, 32)))
    assert main(["search", "query", "--index", str(lut_path), "--image",
                 str(tmp_path / "bad.npy")]) == 2
    assert "expected a patch" in capsys.readouterr().err
