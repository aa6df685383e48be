"""The automatic-chain benchmark's baselines on pipeline features, by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from solarray.benchmarks.automatic_chain import hale_rates, persistence
from solarray.forecast.examples import Examples


def _ex(hale, n_m, label):
    n = len(label)
    rows = pd.DataFrame({"t_obs": pd.date_range("2024-01-05", periods=n, freq="6h"),
                         "ar_number": np.arange(n), "hale": hale, "n_m": n_m,
                         "n_x": [None] * n})
    return Examples(np.zeros((n, 1, 2, 2), np.float32), np.zeros((n, 0), np.float32),
                    np.zeros((n, 0), np.int64), np.asarray(label, np.int64), rows)


def test_persistence_is_a_past_m_flare_from_the_pipeline_history():
    ex = _ex(["beta"] * 4, [0, 2, None, 1], [0, 1, 0, 0])
    out = persistence({"train": ex, "val": ex, "test": ex})
    assert out["test"]["probability_raw"].tolist() == [0.0, 1.0, 0.0, 1.0]  # None = no flare
    assert out["test"]["observed"].tolist() == [0, 1, 0, 0]


def test_hale_rates_are_training_rates_of_the_predicted_class():
    train = _ex(["alpha", "beta", "beta", "beta-x", "beta-x"], [0] * 5, [0, 0, 1, 1, 1])
    test = _ex(["beta-x", "beta", "alpha", "None"], [0] * 4, [1, 0, 0, 0])
    out = hale_rates({"train": train, "val": test, "test": test})
    # beta-x 2/2, beta 1/2, alpha 0/1; a class never seen in training: the overall 3/5
    assert out["test"]["probability_raw"].tolist() == [1.0, 0.5, 0.0, 0.6]


def test_baseline_scalars_are_chosen_by_name_not_position():
    from solarray.benchmarks.automatic_chain import with_scalars

    ex = _ex(["beta"] * 3, [0, 1, 2], [0, 1, 0])
    ex.rows["log_r"] = [1.5, 2.5, None]
    ex.rows["area_msh"] = [100.0, 200.0, 300.0]
    out = with_scalars({"test": ex}, ("area_msh", "log_r", "missing"))["test"]
    np.testing.assert_array_equal(out.scalars, np.array(
        [[100, 1.5, np.nan], [200, 2.5, np.nan], [300, np.nan, np.nan]], np.float32))
    assert out.label.tolist() == [0, 1, 0] and out.rows is ex.rows


def test_truth_swapped_replaces_one_stage_on_matched_rows_only():
    from solarray.benchmarks.truth_swaps import truth_log_r, truth_swapped

    t = pd.Timestamp("2024-01-05T03:00")
    table = pd.DataFrame({
        "run": ["r1", "r1", "r2"], "ar_number": [1, 2, 1], "truth_ar": [7, -1, 7],
        "t_obs": [t, t, t + pd.Timedelta(minutes=2)], "hale": ["alpha", "beta", "alpha"],
        "mcintosh": ["A", "B", "A"], "area_msh": [100.0, 200.0, 300.0],
        "log_r": [0.0, 1.0, 2.0]})
    truth = pd.DataFrame({  # region 7 of run r1 at t, of run r2 (its own Sun) at t + 2 min
        "run": ["r1", "r2"], "ar_number": [7, 7],
        "t_obs": pd.to_datetime([t, t + pd.Timedelta(minutes=2)]).tz_localize("UTC"),
        "hale": ["beta-x", "beta"], "mcintosh": ["F", "D"], "area_msh": [900.0, 50.0]})
    true_r = np.array([0.5, np.nan, 0.0])
    classes = truth_swapped(table, truth, true_r, "classes")
    assert classes["hale"].tolist() == ["beta-x", "beta", "beta"]
    assert classes["mcintosh"].tolist() == ["F", "B", "D"]
    assert classes["area_msh"].tolist() == [100.0, 200.0, 300.0]  # other stages untouched
    assert truth_swapped(table, truth, true_r, "area")["area_msh"].tolist() == \
        [900.0, 200.0, 50.0]
    r = truth_swapped(table, truth, true_r, "r")["log_r"].to_numpy()
    np.testing.assert_allclose(r, [np.log10(5001.0), 1.0, 0.0])
    assert truth_log_r(np.array([0.0]))[0] == 0.0
    every = truth_swapped(table, truth, true_r, "all")
    assert every.loc[0, ["hale", "area_msh"]].tolist() == ["beta-x", 900.0]
    assert table["hale"].tolist() == ["alpha", "beta", "alpha"]  # the input is not modified
    with pytest.raises(ValueError, match="stage"):
        truth_swapped(table, truth, true_r, "masks")


def test_serving_set_copies_the_measured_chain_per_role(tmp_path):
    from solarray.benchmarks.automatic_chain import ChainBenchmarkConfig, serving_set

    runs = tmp_path / "runs"
    (runs / "checkpoints").mkdir(parents=True)
    for name in ("spnet.pt", "hale.pt", "mcintosh.pt"):
        (runs / "checkpoints" / name).write_bytes(name.encode())
    cfg = ChainBenchmarkConfig(runs_dir=str(runs), seeds=(2, 0, 1))
    with pytest.raises(FileNotFoundError, match="seed 2"):
        serving_set(cfg, tmp_path / "serve")
    for mode in ("ar", "full_disk"):
        (runs / f"{mode}_automatic_chain_s2").mkdir()
        (runs / f"{mode}_automatic_chain_s2" / "model.pt").write_bytes(mode.encode())
    out = serving_set(cfg, tmp_path / "serve")
    assert sorted(p.name for p in out.iterdir()) == [
        "fpnet_ar.pt", "fpnet_full_disk.pt", "hale.pt", "mcintosh.pt", "spnet.pt"]
    assert (out / "fpnet_full_disk.pt").read_bytes() == b"full_disk"
