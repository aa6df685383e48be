"""`forecast-index` follows the seed's protocol by default (Extra Trees on image features only;
`--target-input` adds y(t)), and every improvement over persistence carries a bootstrap interval
over test days."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch

from solarray.cli import main
from solarray.forecast.index_forecast import forecast_index, improvement, improvement_interval
from solarray.models.resnet import ResNet18Features, calibrate_batchnorm, extract_features


def _world(tmp_path, days: int = 450, seed: int = 0):
    """y(t) = 100 + 20·a(t) with a slow hidden activity a; 'good' features see a(t + 2), 'noise'
    features see nothing."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2021-01-01", periods=days, freq="D")
    a = np.convolve(rng.standard_normal(days + 30), np.ones(9) / 3, "same")
    y = 100 + 20 * a[:days] + rng.normal(0, 0.3, days)
    pd.DataFrame({"date": dates.date, "f30": y}).to_csv(tmp_path / "s.csv", index=False)
    t = pd.to_datetime(dates + pd.Timedelta(hours=12), utc=True)
    pd.DataFrame({"t_obs": t, "mu_0000": a[2:days + 2] + rng.normal(0, 0.02, days)}
                 ).to_parquet(tmp_path / "good.parquet")
    pd.DataFrame({"t_obs": t, "mu_0000": rng.normal(0, 1, days)}
                 ).to_parquet(tmp_path / "noise.parquet")
    return tmp_path / "s.csv", tmp_path / "good.parquet", tmp_path / "noise.parquet"


def _run(argv, capsys) -> dict:
    assert main(["forecast-index", *argv, "--n-estimators", "30", "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_default_is_features_only_and_target_input_adds_y(tmp_path, capsys):
    s, _, noise = _world(tmp_path)
    base = ["--series", str(s), "--features", str(noise), "--horizons", "1", "--n-boot", "200"]
    only = _run(base, capsys)
    with_y = _run([*base, "--target-input"], capsys)
    assert only["use_target"] is False and with_y["use_target"] is True
    r0, r1 = only["horizons"][0], with_y["horizons"][0]
    # noise features alone cannot follow the index; with y(t) the trees get persistence back
    assert r0["rmse_model"] > 2 * r1["rmse_model"], (r0["rmse_model"], r1["rmse_model"])
    assert r0["improvement_ci"]["hi"] < 0 < r0["rmse_model"]
    # the old flag is still accepted and is the default
    assert _run([*base, "--no-target-input"], capsys)["horizons"][0]["rmse_model"] == \
        pytest.approx(r0["rmse_model"])
    with pytest.raises(SystemExit):  # argparse: the two flags exclude each other
        main(["forecast-index", *base, "--target-input", "--no-target-input"])
    capsys.readouterr()
    assert main(["forecast-index", "--series", str(s)]) == 2
    assert "--target-input" in capsys.readouterr().err


def test_intervals_over_test_days_and_paired_baseline(tmp_path):
    s, good, noise = _world(tmp_path)
    res = forecast_index(s, "f30", good, [2], baseline_path=noise, grid=(40,), n_boot=300)
    row = res["horizons"][0]
    ci = row["improvement_ci"]
    assert ci["n_groups"] == row["n_test"] == len(row["test"]["t"])
    assert ci["lo"] <= row["improvement"] <= ci["hi"] and ci["value"] == pytest.approx(
        row["improvement"])
    assert ci["lo"] > 0.3, ci  # features that see 2 days ahead beat persistence at 2 days
    assert row["improvement_baseline_ci"]["hi"] < 0  # noise features do not
    assert row["model_vs_baseline"]["beats"] and row["model_vs_baseline"]["difference"] == \
        pytest.approx(row["rmse_baseline"] - row["rmse_model"])
    t = row["test"]
    assert set(t) == {"t", "y", "persistence", "model", "baseline"}
    assert all(d[5:7] == "01" for d in t["t"])  # test days are January days


def test_improvement_by_hand():
    y = np.array([1.0, 2.0, 3.0, 4.0])
    pair = np.stack([y + 1.0, y + 2.0], axis=1)  # RMSE 1 against RMSE 2
    assert improvement(y, pair) == pytest.approx(0.5)
    assert improvement(y, np.stack([y + 1.0, y], axis=1)) is None  # exact reference
    ci = improvement_interval(y, y + 1.0, y + 2.0, np.array(["a", "b", "c", "d"]), n_boot=50)
    assert ci["lo"] == ci["hi"] == pytest.approx(0.5) and ci["n_groups"] == 4


def test_resnet18_extractor_is_resnet18(one_torch_thread):
    """The seed's comparison extractor: torchvision's resnet18 has 11,689,512 parameters with
    3 input channels and the 1000-way classifier (512·1000 + 1000); ours takes one channel
    (211 Å; 2 · 64·49 fewer) and stops at the pooled 512 features."""
    assert sum(p.numel() for p in ResNet18Features(3).parameters()) == 11_689_512 - 513_000
    torch.manual_seed(0)
    net = ResNet18Features(1)
    assert sum(p.numel() for p in net.parameters()) == 11_689_512 - 513_000 - 2 * 64 * 49
    convs = [m for m in net.modules() if isinstance(m, torch.nn.Conv2d)]
    assert len(convs) == 1 + 16 + 3  # stem, 8 blocks × 2, 3 projections
    imgs = np.random.default_rng(0).normal(3.0, 2.0, (12, 1, 64, 64)).astype(np.float32)
    calibrate_batchnorm(net, imgs[:8])
    assert not net.training and float(net.stem[1].running_mean.abs().sum()) > 0
    feats = extract_features(net, imgs)
    assert feats.shape == (12, 512) and np.isfinite(feats).all() and feats.std() > 0
