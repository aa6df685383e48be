"""Label store: versions, provenance, review (corrections) merging, rejection, diff; CLI."""

import json

import numpy as np
import pytest

from solarray.cli import main
from solarray.data import labels as lab


def _masks(n=3, size=32):
    m = np.zeros((n, 3, size, size), np.uint8)
    m[:, 0, 5:9, 5:9] = 1  # one AR per sample
    m[:, 1, 20:26, 20:26] = 1  # one CH per sample
    return m


def _store(tmp_path, n=3):
    store = lab.LabelStore(tmp_path / "labels")
    ids = [f"2024-01-0{i + 1}T00:00:00" for i in range(n)]
    v1 = store.write(ids, _masks(n), {"kind": "init", "data": "here"})
    return store, ids, v1


def test_write_read_and_provenance(tmp_path):
    store, ids, v1 = _store(tmp_path)
    assert v1 == "v1" and store.versions() == ["v1"]
    got = store.read("v1")
    assert got.sample_ids == ids and np.array_equal(got.masks, _masks())
    prov = store.provenance("v1")
    assert prov["version"] == "v1" and prov["parent"] is None and prov["kind"] == "init"
    assert prov["feature_counts"] == {"AR": 3, "CH": 3, "FL": 0} and prov["shape"] == [3, 32, 32]
    assert "created" in prov
    with pytest.raises(KeyError, match="no version 'v9'"):
        store.read("v9")
    with pytest.raises(ValueError, match="0/1"):
        store.write(ids, _masks() * 255, {})
    with pytest.raises(ValueError, match="duplicate"):
        store.write([ids[0]] * 3, _masks(), {})


def _corrections(tmp_path, samples, name="corr.json"):
    path = tmp_path / name
    path.write_text(json.dumps({"format": "solarray.corrections/1", "reviewer": "tester",
                                "samples": samples}))
    return path


def test_review_merges_polygons_and_png_masks_into_a_new_version(tmp_path):
    store, ids, _ = _store(tmp_path)
    fl = np.zeros((32, 32), np.uint8)
    fl[10, 12:20] = 1  # a thin filament drawn as a mask
    lab.write_png_mask(fl, tmp_path / "fl.png")
    corr = _corrections(tmp_path, {
        ids[0]: {"AR": {"add": [[[14, 14], [17, 14], [17, 17], [14, 17]]],  # 4×4 px square
                        "remove": [[[4.5, 4.5], [9, 4.5], [9, 9], [4.5, 9]]]},
                 "FL": {"add_mask": "fl.png"}},
        ids[2]: {"CH": {"remove": [[[19, 19], [27, 19], [27, 27], [19, 27]]]}},
    })
    v2 = lab.review(store, corr)
    assert v2 == "v2" and store.versions() == ["v1", "v2"]
    old, new = store.read("v1"), store.read("v2")
    assert np.array_equal(old.masks, _masks())  # the old version is untouched
    assert new.masks[0, 0, 5:9, 5:9].sum() == 0 and new.masks[0, 0, 14:18, 14:18].sum() == 16
    assert np.array_equal(new.masks[0, 2], fl)
    assert new.masks[2, 1].sum() == 0 and np.array_equal(new.masks[1], old.masks[1])
    prov = store.provenance("v2")
    assert prov["parent"] == "v1" and prov["kind"] == "review"
    assert prov["corrections"]["reviewer"] == "tester" and prov["corrections"]["n_samples"] == 2
    assert (store.path("v2") / lab.CORRECTIONS_COPY).exists()

    d = lab.diff(store, "v1", "v2")
    assert d.added == {"AR": 1, "CH": 0, "FL": 1}
    assert d.removed == {"AR": 1, "CH": 1, "FL": 0}
    assert d.pixels_added["AR"] == 16 and d.pixels_removed["CH"] == 36
    assert d.samples_changed == 2 and "AR" in d.text()


def test_unknown_sample_is_rejected_and_nothing_is_merged(tmp_path):
    store, ids, _ = _store(tmp_path)
    corr = _corrections(tmp_path, {
        ids[0]: {"AR": {"add": [[[1, 1], [3, 1], [3, 3]]]}},
        "2031-05-05T00:00:00": {"CH": {"add": [[[1, 1], [3, 1], [3, 3]]]}},
    })
    with pytest.raises(lab.CorrectionsError, match="2031-05-05T00:00:00"):
        lab.review(store, corr)
    assert store.versions() == ["v1"]
    assert not [p for p in store.root.iterdir() if p.name != "v1"]  # no partial version left


@pytest.mark.parametrize("entry, match", [
    ({"XX": {"add": []}}, "unknown class"),
    ({"AR": {"paint": []}}, "unknown key"),
    ({"AR": {"add": [[[1, 1], [2, 2]]]}}, "3 finite"),
    ({"AR": {"add_mask": "missing.png"}}, "not found"),
])
def test_bad_corrections_are_rejected(tmp_path, entry, match):
    store, ids, _ = _store(tmp_path)
    with pytest.raises(lab.CorrectionsError, match=match):
        lab.review(store, _corrections(tmp_path, {ids[1]: entry}))
    assert store.versions() == ["v1"]


def test_wrong_size_mask_png_is_rejected(tmp_path):
    store, ids, _ = _store(tmp_path)
    lab.write_png_mask(np.ones((16, 16)), tmp_path / "small.png")
    with pytest.raises(lab.CorrectionsError, match="16×16 px, expected 32×32"):
        lab.review(store, _corrections(tmp_path, {ids[0]: {"CH": {"add_mask": "small.png"}}}))


def test_polygon_pixel_convention():
    m = lab.polygon_mask([[2, 1], [4, 1], [4, 3], [2, 3]], (6, 6))
    assert m.sum() == 9 and m[1, 2] and m[3, 4] and not m[0, 2] and not m[1, 5]


def test_drop_small_features():
    m = np.zeros((1, 3, 20, 20), np.uint8)
    m[0, 0, 1, 1] = 1  # 1 px
    m[0, 0, 10:15, 10:15] = 1  # 25 px
    out, dropped = lab.drop_small_features(m, min_area=4)
    assert dropped["AR"] == 1 and out[0, 0].sum() == 25
    assert lab.count_features(out)[0, 0] == 1


def test_cli_review_diff_and_rejection(tmp_path, capsys):
    store, ids, _ = _store(tmp_path)
    good = _corrections(tmp_path, {ids[1]: {"FL": {"add": [[[2, 2], [6, 2], [6, 3], [2, 3]]]}}})
    assert main(["label", "review", "--labels", str(store.root), "--corrections", str(good)]) == 0
    out = capsys.readouterr().out
    assert "Wrote label version v2" in out and "FL" in out
    assert main(["label", "diff", "--labels", str(store.root), "v1", "v2", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["added"]["FL"] == 1
    bad = _corrections(tmp_path, {"1999-01-01T00:00:00": {"AR": {"add": []}}}, "bad.json")
    assert main(["label", "review", "--labels", str(store.root), "--corrections", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "1999-01-01T00:00:00" in err and "nothing was merged" in err
    assert store.versions() == ["v1", "v2"]
    assert main(["label", "diff", "--labels", str(store.root), "v1", "v7"]) == 2
    assert "no version 'v7'" in capsys.readouterr().err
