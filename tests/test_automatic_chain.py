"""The automatic-chain benchmark's baselines on pipeline features, by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd

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
