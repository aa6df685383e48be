"""The classifier benchmark's comparisons: dual CNN against the majority class and, when the
single-CNN arm ran, against the single CNN (SA-AI 2025: dual F1 0.61 vs single 0.54)."""

from __future__ import annotations

import pytest

from solarray.benchmarks.classifier import comparisons


def _r(macro, weighted):
    return {"macro_f1": macro, "weighted_f1": weighted}


def test_dual_vs_single_comparison():
    per_seed = {"hale": {"cnn": [_r(0.60, 0.62), _r(0.62, 0.63), _r(0.61, 0.61)],
                         "majority": [_r(0.23, 0.37)] * 3,
                         "cnn_single": [_r(0.55, 0.54), _r(0.52, 0.55), _r(0.54, 0.53)]}}
    c = comparisons(per_seed)["hale"]
    assert c["macro_f1"]["beats"]
    d = c["dual_vs_single_macro_f1"]["difference"]
    assert d["mean"] == pytest.approx((0.05 + 0.10 + 0.07) / 3) and c["dual_vs_single_macro_f1"][
        "beats"]
    # a single CNN as good as the dual one does not lose to it
    per_seed["hale"]["cnn_single"] = per_seed["hale"]["cnn"]
    assert not comparisons(per_seed)["hale"]["dual_vs_single_weighted_f1"]["beats"]
    del per_seed["hale"]["cnn_single"]
    assert set(comparisons(per_seed)["hale"]) == {"macro_f1", "weighted_f1"}
