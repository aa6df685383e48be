"""The benchmark Sun's configuration, the FPNet benchmark's ablations and scoring, channel
subsets for pretraining (pure parts; the full benchmarks are scripts in benchmarks/)."""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd
import pytest

from solarray.benchmarks.fpnet import comparisons, noise_frames, scores, shuffle_physics
from solarray.commands.pretrain import add_arguments, build_config
from solarray.data.dataset import assign_splits, channel_index, to_training
from solarray.data.synthetic.benchmark_sun import BenchmarkSunConfig, _component_sizes
from solarray.forecast.frames import Frames, select_channels


def test_benchmark_sun_runs_put_several_suns_in_every_split():
    cfg = BenchmarkSunConfig()
    runs = cfg.runs()
    assert len({r.seed for r in runs}) == len(runs) == 36
    starts = np.array([np.datetime64(r.start) for r in runs])
    ends = starts + np.timedelta64(int(cfg.days * 86400), "s")
    split = assign_splits(starts)
    assert (split == assign_splits(ends)).all()  # no sample of a run falls in a split gap
    assert {s: int((split == s).sum()) for s in ("train", "val", "test")} == \
        {"train": 16, "val": 8, "test": 12}
    # Suns never share a time step (sample ids are times), and the test Suns span activity
    spans = sorted(zip(starts, ends, strict=True))
    assert all(e0 < s1 for (_, e0), (s1, _) in zip(spans, spans[1:], strict=False))
    for name in ("test", "val"):
        assert {r.activity for r, s in zip(runs, split, strict=True) if s == name} == \
            {0.3, 0.65, 1.0, 1.35}


@pytest.mark.parametrize("kwargs,needle", [({"size": 64}, "size"), ({"days": 20}, "days"), ({"days": 5.0}, "next Sun"),
                                           ({"runs_per_month": {1: 1, 3: 3}}, "month 1"),
                                           ({"channels": ("hmi_m", "aia193")}, "aia171")])
def test_benchmark_sun_config_errors(kwargs, needle):
    with pytest.raises(ValueError, match=needle):
        BenchmarkSunConfig(**kwargs)


def test_component_sizes_by_hand():
    masks = np.zeros((3, 16, 16), np.uint8)
    masks[0, 1:3, 1:4] = 1  # 6 px
    masks[0, 10, 10] = 1  # 1 px
    masks[0, 11, 11] = 1  # diagonal neighbour: same 8-connected component
    masks[1, 5:10, 5:10] = 1  # 25 px
    masks[2, 0, 15] = 255  # unknown: not a feature
    got = _component_sizes(masks)
    assert sorted(got["AR"]) == [2, 6] and got["CH"] == [25] and got["FL"] == []


def _frames(n=40, seed=0):
    rng = np.random.default_rng(seed)
    img = rng.normal(0.2, 0.1, (n, 2, 8, 8)).astype(np.float32)
    img[:, 1] += 1.0
    t = np.datetime64("2024-02-01T00:00", "s") + np.arange(n) * np.timedelta64(3600, "s")
    return Frames(img, t, np.zeros(n, np.int64), np.full(n, 100.0, np.float32), ("hmi_m", "aia304"))


def test_noise_frames_keep_channel_statistics_and_drop_the_content():
    fr = _frames()
    nz = noise_frames(fr, seed=1)
    assert nz.image.shape == fr.image.shape and nz.channels == fr.channels
    for c in range(2):
        assert nz.image[:, c].mean() == pytest.approx(fr.image[:, c].mean(), abs=0.02)
        assert nz.image[:, c].std() == pytest.approx(fr.image[:, c].std(), rel=0.05)
    for c in range(2):  # within a channel, the pixels no longer follow the frames
        assert abs(np.corrcoef(nz.image[:, c].ravel(), fr.image[:, c].ravel())[0, 1]) < 0.1


def test_shuffle_physics_permutes_the_physics_jointly_and_keeps_the_rest():
    tab = pd.DataFrame({"t_obs": np.arange(50), "ar_number": np.arange(50), "label": np.arange(50) % 2,
                        "flare_index": np.arange(50.0), "area_msh": np.arange(50.0) * 10,
                        "hale": ["alpha", "beta"] * 25})
    sh = shuffle_physics(tab, seed=0)
    assert (sh[["t_obs", "ar_number", "label"]] == tab[["t_obs", "ar_number", "label"]]).all().all()
    assert (sh["area_msh"] == sh["flare_index"] * 10).all()  # rows moved together
    assert not (sh["flare_index"] == tab["flare_index"]).all()
    assert sorted(sh["flare_index"]) == sorted(tab["flare_index"])


def test_scores_and_comparisons():
    rng = np.random.default_rng(0)
    obs = (rng.random(400) < 0.2).astype(int)
    good = np.clip(0.2 + 0.5 * (obs - 0.2) + rng.normal(0, 0.15, 400), 0.01, 0.99)
    val = pd.DataFrame({"observed": obs[:200], "probability_raw": good[:200]})
    test = pd.DataFrame({"observed": obs[200:], "probability_raw": good[200:]})
    s = scores(val, test)
    assert s["roca"] > 0.85 and s["bss"] > 0.2 and s["tss"] > 0.4
    noise = scores(val.assign(probability_raw=rng.random(200)),
                   test.assign(probability_raw=rng.random(200)))
    assert noise["roca"] < 0.65
    per_seed = {"ar": {"fpnet": [s, s, s], "climatology": [noise, noise, noise]}}
    c = comparisons(per_seed)["ar"]["fpnet"]["climatology"]
    assert c["roca"]["beats"] is True  # differences identical: std 0, mean > 0
    c = comparisons({"ar": {"fpnet": [noise] * 3, "climatology": [s] * 3}})
    assert c["ar"]["fpnet"]["climatology"]["roca"]["beats"] is False
    # PPAM on FPNet's input is compared with random dropping (and fpnet with both)
    c = comparisons({"ar": {"fpnet": [s] * 3, "fpnet_input_random": [noise] * 3,
                            "fpnet_input_ppam": [s] * 3, "climatology": [noise] * 3}})["ar"]
    assert c["fpnet_input_ppam"]["fpnet_input_random"]["roca"]["beats"] is True
    assert {"fpnet_input_random", "fpnet_input_ppam"} <= set(c["fpnet"])
    assert "fpnet_input_ppam" not in c["fpnet_input_random"]


def test_channel_subsets_for_frames_and_training(ray_session):
    fr = select_channels(_frames(), ["aia304"])
    assert fr.channels == ("aia304",) and fr.image.shape[1] == 1 and fr.image.mean() > 0.9
    with pytest.raises(ValueError, match=r"\['aia171'\]"):
        channel_index(("hmi_m", "aia304"), ["aia171"])
    import ray.data

    rows = [{"image": np.stack([np.full((4, 4), 1.0), np.full((4, 4), 2.0), np.full((4, 4), 3.0)]
                               ).astype(np.float32), "present": np.array([1, 0, 1], bool),
             "t_obs": np.datetime64("2024-02-01T00:00", "us").item()} for _ in range(3)]
    batch = to_training(ray.data.from_items(rows), [2, 0]).take_batch(3, batch_format="numpy")
    assert batch["image"].shape == (3, 2, 4, 4)
    assert batch["image"][0, 0, 0, 0] == 3.0 and batch["image"][0, 1, 0, 0] == 1.0
    assert batch["present"][0].tolist() == [1.0, 1.0]


def test_pretrain_flags_set_image_size_and_channels():
    p = argparse.ArgumentParser()
    add_arguments(p)
    cfg = build_config(p.parse_args(["--data", "d", "--model", "mae_vit", "--preset", "tiny",
                                     "--image-size", "128", "--channels", "hmi_m,aia304"]))
    assert cfg.model_config["image_size"] == 128 and cfg.model_config["preset"] == "tiny"
    assert tuple(cfg.channels) == ("hmi_m", "aia304")
