"""Index forecasting: series/feature loading, gaps, month splits without leakage, persistence,
Extra Trees on informative vs noise features, and `solarray forecast-index` end to end."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from solarray.cli import main
from solarray.data.tables.indices import read_index_series
from solarray.forecast.index_forecast import fit_extra_trees, forecast_index, rmse
from solarray.forecast.index_series import downsample_pixels, load_features, make_samples, split_of


def _world(tmp_path, days: int = 500, seed: int = 0, gaps=()):
    """A daily index driven by a hidden activity a(t) that images 'see' 3 days ahead:
    y(t) = 100 + 20·a(t) + noise, features at t = a(t + 3) + noise (e.g. far-side regions)."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2021-01-01", periods=days, freq="D")
    a = np.convolve(rng.standard_normal(days + 20), np.ones(5) / 5, "same")
    y = 100 + 20 * a[:days] + rng.normal(0, 0.5, days)
    ser = pd.DataFrame({"date": dates.date, "f30": y, "f107": 2 * y})
    ser = ser.drop(index=list(gaps))
    ser.to_csv(tmp_path / "series.csv", index=False)
    # two rows per day (averaged), informative feature columns and a logsigma to ignore
    t = np.concatenate([dates + pd.Timedelta(hours=1), dates + pd.Timedelta(hours=13)])
    lead = np.concatenate([a[3:days + 3]] * 2)
    feats = pd.DataFrame({"t_obs": pd.to_datetime(t, utc=True),
                          "mu_0000": lead + rng.normal(0, 0.05, 2 * days),
                          "mu_0001": rng.normal(0, 1, 2 * days),
                          "logsigma_0000": rng.normal(0, 1, 2 * days)})
    feats.to_parquet(tmp_path / "latents.parquet")
    noise = feats.copy()
    noise["mu_0000"] = rng.normal(0, 1, 2 * days)
    noise.to_parquet(tmp_path / "noise.parquet")
    return tmp_path / "series.csv", tmp_path / "latents.parquet", tmp_path / "noise.parquet"


def test_loading_averages_days_and_picks_mu(tmp_path):
    s, f, _ = _world(tmp_path, days=40, gaps=(5, 6))
    series = read_index_series(s, "f30")
    assert len(series) == 38 and series.index.is_monotonic_increasing
    feats = load_features(f)
    assert list(feats.columns) == ["mu_0000", "mu_0001"] and len(feats) == 40
    raw = pd.read_parquet(f)
    day0 = raw[raw.t_obs.dt.date == raw.t_obs.dt.date.iloc[0]]["mu_0000"].mean()
    assert feats["mu_0000"].iloc[0] == pytest.approx(day0)
    assert list(load_features(f, prefix="logsigma_").columns) == ["logsigma_0000"]


def test_embed_vectors_are_expanded_into_features(tmp_path):
    """A `solarray embed` file (fixed-length list columns) is a feature set: the `embedding`
    vector is expanded element by element and averaged per day; ragged lists are refused."""
    t = pd.date_range("2024-02-01", periods=4, freq="12h")
    emb = [np.arange(3, dtype=np.float32) + i for i in range(4)]
    pd.DataFrame({"sample_id": [str(x) for x in t], "t_obs": t, "embedding": emb,
                  "cls_aia": [e[:2] for e in emb]}).to_parquet(tmp_path / "emb.parquet")
    feats = load_features(tmp_path / "emb.parquet")
    assert list(feats.columns) == ["embedding_0", "embedding_1", "embedding_2"]
    assert feats["embedding_2"].tolist() == [2.5, 4.5]  # (2 + 3) / 2, (4 + 5) / 2
    pd.DataFrame({"t_obs": t[:2], "v": [[1.0], [1.0, 2.0]]}).to_parquet(tmp_path / "rag.parquet")
    with pytest.raises(ValueError, match="no numeric feature columns"):
        load_features(tmp_path / "rag.parquet")


def test_gaps_dropped_and_counted(tmp_path):
    s, f, _ = _world(tmp_path, days=60, gaps=(10,))
    smp = make_samples(read_index_series(s, "f30"), load_features(f), 2)
    # day 10 missing: issue dates 10 (no y(t)) and 8 (no y(t+2)) dropped
    assert smp.dropped_gaps == 2
    assert np.datetime64("2021-01-11") not in smp.t and np.datetime64("2021-01-09") not in smp.t
    assert len(smp.t) + smp.dropped_gaps + smp.dropped_boundary == 58


@pytest.mark.parametrize("h", [1, 2, 4, 7])
def test_no_issue_date_within_a_horizon_of_another_splits_targets(tmp_path, h):
    s, f, _ = _world(tmp_path, days=500)
    smp = make_samples(read_index_series(s, "f30"), load_features(f), h)
    assert set(smp.split) == {"train", "val", "test"}
    months = smp.t.astype("datetime64[M]").astype(int) % 12 + 1
    assert np.all((smp.split == "val") == (months == 3))
    assert np.all((smp.split == "test") == (months == 1))
    targets = smp.t + np.timedelta64(h, "D")
    for a in ("train", "val", "test"):
        for b in ("train", "val", "test"):
            if a == b:
                continue
            ta = smp.t[smp.split == a].astype(np.int64)
            tb = targets[smp.split == b].astype(np.int64)
            gap = np.abs(ta[:, None] - tb[None, :]).min()
            assert gap > h, (a, b, gap)
    # every target lies in its issue date's split
    assert np.all(split_of(targets) == smp.split)


def test_split_rule_and_pixels():
    d = np.array(["2020-01-31", "2020-02-01", "2020-03-15", "2021-01-02"], dtype="datetime64[D]")
    assert list(split_of(d)) == ["test", "train", "val", "test"]
    x = np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4)
    assert downsample_pixels(x, 2).tolist() == [[2.5, 4.5, 10.5, 12.5]]
    with pytest.raises(ValueError, match="must divide"):
        downsample_pixels(x, 3)


def test_extra_trees_on_latents_beats_noise_and_persistence(tmp_path):
    s, f, noise = _world(tmp_path, days=600)
    good = forecast_index(s, "f30", f, [3], grid=(50, 100), use_target=False)
    bad = forecast_index(s, "f30", noise, [3], grid=(50, 100), use_target=False)
    g, b = good["horizons"][0], bad["horizons"][0]
    assert g["rmse_model"] < 0.7 * b["rmse_model"], (g, b)
    assert g["improvement"] > 0.2 and g["n_estimators"] in (50, 100)
    # persistence is the same on both (same issue dates)
    assert g["rmse_persistence"] == pytest.approx(b["rmse_persistence"])
    m, n, v = fit_extra_trees(np.arange(20.0)[:, None], np.arange(20.0), np.array([[3.0]]),
                              np.array([3.0]), grid=(5,))
    assert n == 5 and v == pytest.approx(rmse([3.0], m.predict([[3.0]])))


def test_cli_json_plot_and_baseline(tmp_path, capsys):
    s, f, noise = _world(tmp_path, days=450)
    out = tmp_path / "out"
    assert main(["forecast-index", "--series", str(s), "--target", "f107", "--features", str(f),
                 "--baseline-features", str(noise), "--horizons", "1", "2",
                 "--n-estimators", "20", "40", "--json", "--out", str(out)]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["target"] == "f107" and res["dropped"] == 0 and len(res["horizons"]) == 2
    row = res["horizons"][0]
    assert {"horizon", "n_train", "n_val", "n_test", "rmse_persistence", "rmse_model",
            "improvement", "n_estimators", "rmse_baseline"} <= set(row)
    assert row["improvement"] == pytest.approx(1 - row["rmse_model"] / row["rmse_persistence"])
    assert (out / "index_forecast.png").stat().st_size > 0
    assert json.loads((out / "index_forecast.json").read_text()) == res


def _fails(argv, capsys, text):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert text in err and len(err.strip().splitlines()) == 1, err


def test_bad_inputs(tmp_path, capsys):
    s, f, _ = _world(tmp_path, days=40)
    nodate = tmp_path / "nodate.parquet"
    pd.DataFrame({"mu_0000": [1.0, 2.0]}).to_parquet(nodate)
    _fails(["forecast-index", "--series", str(s), "--features", str(nodate)], capsys,
           "no 't_obs' or 'date' column")
    _fails(["forecast-index", "--series", str(s), "--features", str(f), "--horizons", "60"],
           capsys, "horizon 60 d is not shorter than the series (40 days")
    _fails(["forecast-index", "--series", str(s), "--target", "kp"], capsys, "no column 'kp'")
    bad_series = tmp_path / "s.csv"
    pd.DataFrame({"day": ["2020-01-01"], "f30": [1.0]}).to_csv(bad_series, index=False)
    _fails(["forecast-index", "--series", str(bad_series)], capsys, "no 'date' column")
    _fails(["forecast-index", "--series", str(tmp_path / "none.csv")], capsys, "no such file")
    # 40 days from January 1: no March (validation) samples
    _fails(["forecast-index", "--series", str(s), "--features", str(f), "--horizons", "1"],
           capsys, "only 0 val samples")
    _fails(["forecast-index", "--series", str(s), "--horizons", "0"], capsys, "≥ 1 day")
