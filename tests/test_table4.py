"""SA-AI 2025 Table 4: the two operating points against hand-computed scores, the bootstrap
threshold scores, the SVM baseline on named features, and the table layout."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from solarray.benchmarks.table4 import COLUMNS, label, markdown
from solarray.forecast.baselines import svm_baseline, with_features
from solarray.forecast.examples import Examples
from solarray.metrics.calibration import fit_calibration, operating_points, threshold_score
from solarray.metrics.verification import roc_auc

# Test set: events at 0.9 and 0.3; non-events at 0.6, 0.2, 0.1.
TEST_OBS = np.array([1, 1, 0, 0, 0])
TEST_P = np.array([0.9, 0.3, 0.6, 0.2, 0.1])
# Validation: TSS = 1 for every threshold in (0.2, 0.35] → the lowest candidate is 0.21.
VAL_OBS = np.array([1, 0, 0, 1])
VAL_P = np.array([0.35, 0.2, 0.1, 0.8])


def test_operating_points_hand_computed():
    out = operating_points(VAL_OBS, VAL_P, TEST_OBS, TEST_P, method="none")
    half = out["th_0.5"]
    # At 0.5: TP 1 (0.9), FN 1 (0.3), FP 1 (0.6), TN 2.
    assert (half["tp"], half["tn"], half["fp"], half["fn"]) == (1, 2, 1, 1)
    assert half["threshold"] == 0.5
    assert half["f1"] == pytest.approx(2 / 4)  # 2TP / (2TP + FP + FN)
    assert half["tss"] == pytest.approx(1 / 2 - 1 / 3)
    assert half["hss"] == pytest.approx(2 * (1 * 2 - 1 * 1) / (2 * 3 + 2 * 3))
    assert half["precision"] == pytest.approx(0.5)
    assert half["recall"] == pytest.approx(0.5)
    assert half["far"] == pytest.approx(0.5)
    assert half["accuracy"] == pytest.approx(3 / 5)
    assert half["csi"] == pytest.approx(1 / 3)
    assert half["bs"] == pytest.approx((0.01 + 0.49 + 0.36 + 0.04 + 0.01) / 5)
    assert half["bss"] == pytest.approx(1 - 0.182 / (0.4 * 0.6))
    assert half["roca"] == pytest.approx(5 / 6)
    tuned = out["th_val"]
    assert tuned["threshold"] == pytest.approx(0.21)
    # At 0.21: 0.9, 0.3 and 0.6 are "yes": TP 2, FP 1, TN 2, FN 0.
    assert (tuned["tp"], tuned["tn"], tuned["fp"], tuned["fn"]) == (2, 2, 1, 0)
    assert tuned["f1"] == pytest.approx(4 / 5)
    assert tuned["tss"] == pytest.approx(1 - 1 / 3)
    # Threshold-free columns are the same in both rows (the seed repeats them).
    assert tuned["bs"] == half["bs"] and tuned["roca"] == half["roca"]


def test_operating_points_calibrate_before_thresholding():
    rng = np.random.default_rng(0)
    y = rng.random(400) < 0.2
    raw = np.clip(0.05 + 0.3 * y + 0.1 * rng.standard_normal(400), 0.001, 0.999)  # under-confident
    val, test = slice(0, 200), slice(200, 400)
    out = operating_points(y[val], raw[val], y[test], raw[test])
    cal = fit_calibration(y[val], raw[val], "platt")
    p = cal(raw[test])
    assert out["th_0.5"]["tp"] == int(((p >= 0.5) & y[test]).sum())
    assert out["th_0.5"]["tp"] != int(((raw[test] >= 0.5) & y[test]).sum())  # not raw 0.5
    assert out["th_0.5"]["roca"] == pytest.approx(roc_auc(y[test], raw[test]))  # monotone map


def test_threshold_score():
    f1 = threshold_score("f1", 0.5)
    assert f1(TEST_OBS, TEST_P) == pytest.approx(0.5)
    assert threshold_score("tss", 0.21)(TEST_OBS, TEST_P) == pytest.approx(2 / 3)
    assert threshold_score("precision", 0.95)(TEST_OBS, TEST_P) is None  # no "yes" forecasts


def _examples(n: int, seed: int, shuffle: bool = False) -> Examples:
    rng = np.random.default_rng(seed)
    mc = rng.choice(list("ABCDEFH"), n)
    f107 = rng.uniform(70, 250, n)
    # Flares come from complex groups (E, F) on an active Sun.
    p = np.where(np.isin(mc, ["E", "F"]), 0.6, 0.03) * (f107 / 250)
    label = (rng.random(n) < p).astype(np.int64)
    if shuffle:
        label = rng.permutation(label)
    rows = pd.DataFrame({"t_obs": pd.date_range("2024-01-01", periods=n, freq="h"),
                         "ar_number": np.arange(n), "mcintosh": mc, "f107": f107,
                         "hale": "beta"})
    return Examples(np.zeros((n, 1, 2, 2), np.float32), np.zeros((n, 0), np.float32),
                    np.zeros((n, 0), np.int64), label, rows)


@pytest.mark.parametrize("shuffle", [False, True])
def test_svm_baseline_learns_mcintosh_and_f107(shuffle):
    splits = {"train": _examples(400, 0, shuffle), "val": _examples(200, 1),
              "test": _examples(300, 2)}
    ex = with_features(splits, ["f107"], ["mcintosh"])
    assert ex["train"].scalars.shape == (400, 1) and ex["train"].categories.shape == (400, 1)
    assert set(np.unique(ex["train"].categories)) <= set(range(1, 8))
    fc = svm_baseline(ex, ["f107"], [], ["mcintosh"])
    test = fc["test"]
    assert set(test.columns) >= {"time", "ar", "observed", "probability", "probability_raw"}
    roca = roc_auc(test["observed"], test["probability"])
    if shuffle:  # nothing to learn: no skill
        assert roca < 0.65
    else:
        assert roca > 0.75


def test_markdown_layout():
    row = operating_points(VAL_OBS, VAL_P, TEST_OBS, TEST_P, method="none")
    text = markdown({"fpnet_truth": [row, row], "svm_chain": row})
    lines = text.splitlines()
    assert len(lines) == 2 + 2 * 2  # heading, rule, two operating points per arm
    assert lines[0].count("|") == len(COLUMNS) + 2
    assert lines[2].startswith("| FPNet* (truth inputs) (Th=0.50) | 0.500 ± 0.000")
    assert lines[5].startswith("| SVM McIntosh + F10.7 (chain inputs) (Th=0.21) | 0.800 |")
    assert label("climatology_truth") == "climatology (truth inputs)"
