"""IATools evaluation (SA-AI 2025 §3.2.4): daily flare-index pairs and their Pearson correlation,
against hand-computed values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from solarray.analysis.flare_index import daily_flare_index
from solarray.benchmarks.iatools_eval import agreement, pearson, run_splits


def _t(*rows):
    return pd.DataFrame(rows, columns=["t_obs", "run", "flare_index"])


def test_daily_max_is_the_last_observation_of_the_day():
    pred = _t(("2024-01-01T03:00", "a", 50.0), ("2024-01-01T21:00", "a", 10.0),
              ("2024-01-01T21:00", "a", 20.0), ("2024-01-02T21:00", "a", 1.0),
              ("2024-01-01T21:00", "b", 3.0))
    truth = _t(("2024-01-01T21:00", "a", 30.0), ("2024-01-02T03:00", "a", 7.0))
    d = daily_flare_index(pred, truth, how="max")
    got = {(r.run, str(r.day.date())): (r.pred, r.truth) for r in d.itertuples()}
    # day 1 of Sun a: 21:00 is last; regions 10 and 20 → max 20; truth 30 (the 03:00 50 is old)
    assert got[("a", "2024-01-01")] == (20.0, 30.0)
    # day 2: last observation 21:00 where the truth has no region → 0 (not the 03:00 7)
    assert got[("a", "2024-01-02")] == (1.0, 0.0)
    assert got[("b", "2024-01-01")] == (3.0, 0.0)  # Suns kept apart
    assert len(d) == 3


def test_daily_disk_needs_both_tables():
    pred = _t(("2024-01-01T18:00", "a", 4.0), ("2024-01-01T21:00", "a", 5.0))
    truth = _t(("2024-01-01T18:00", "a", 6.0)).rename(columns={"flare_index": "disk"})
    d = daily_flare_index(pred, truth, truth_column="disk", how="first")
    assert d[["pred", "truth"]].to_numpy().tolist() == [[4.0, 6.0]]  # 21:00 has no truth row
    with pytest.raises(ValueError, match="how"):
        daily_flare_index(pred, truth, how="sum")


def test_pearson_hand_computed():
    # x = (1, 2, 3), y = (1, 3, 2): cov = 0.5 (ddof 1), var = 1 each → r = 0.5
    assert pearson(np.array([1, 2, 3]), np.array([1, 3, 2])) == pytest.approx(0.5)
    assert pearson(np.array([1, 2]), np.array([5, 5])) is None
    pairs = pd.DataFrame({"pred": [0, 10, 20, 0, 100.0], "truth": [0, 10, 30, 10, 100.0]})
    a = agreement(pairs, n_boot=200)
    assert a["pearson"] == pytest.approx(np.corrcoef(pairs["pred"], pairs["truth"])[0, 1])
    assert a["lo"] <= a["pearson"] <= a["hi"] and a["n_days"] == 5 and a["days_with_fi"] == 4


def test_run_splits_by_start_month():
    runs = pd.Series(["run00_2024-01-02_s1000", "run01_2024-02-05_s1001",
                      "run02_2024-03-10_s1002", "run00_2024-01-02_s1000"])
    assert run_splits(runs).tolist() == ["test", "train", "val", "test"]
