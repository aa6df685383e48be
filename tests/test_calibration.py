"""Probability calibration: Platt and isotonic against scikit-learn, held-out improvement, the
0.5 operating point, serialisation, degenerate validation sets."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

from solarray.metrics import calibration as cal
from solarray.metrics import verification as v


def _miscalibrated(seed: int, n: int = 3000, rate_shift: float = -2.5):
    """Raw forecasts p = σ(z) whose true event probability is σ(0.5·z + rate_shift): an
    over-confident, over-forecasting model of a rare event (base rate ≈ 10 %)."""
    rng = np.random.default_rng(seed)
    z = rng.normal(0.0, 2.5, n)
    p_raw = 1.0 / (1.0 + np.exp(-z))
    truth = 1.0 / (1.0 + np.exp(-(0.5 * z + rate_shift)))
    o = (rng.random(n) < truth).astype(int)
    return o, p_raw


def test_platt_matches_sklearn_logistic_regression():
    o, p = _miscalibrated(0)
    ours = cal.fit_platt(o, p, smooth_targets=False)
    z = np.log(p) - np.log1p(-p)
    lr = LogisticRegression(C=1e12, tol=1e-12, max_iter=10_000).fit(z[:, None], o)
    assert ours.a == pytest.approx(lr.coef_[0, 0], rel=1e-4)
    assert ours.b == pytest.approx(lr.intercept_[0], rel=1e-4)
    # and recovers the generating map σ(0.5 z − 2.5)
    assert ours.a == pytest.approx(0.5, abs=0.1) and ours.b == pytest.approx(-2.5, abs=0.3)
    smoothed = cal.fit_platt(o, p)
    assert smoothed.a == pytest.approx(ours.a, rel=0.02)


def test_platt_never_inverts_the_ranking():
    """Validation forecasts that rank backwards (a small, unrepresentative validation set) must
    not flip the model's ranking on new data: the slope is held at 0 and the map returns the
    validation base rate as Platt's smoothed targets average it."""
    o, p = _miscalibrated(1)
    backwards = cal.fit_platt(o, 1.0 - p)
    assert backwards.a == 0.0
    n_pos, n = o.sum(), len(o)
    t_mean = (n_pos * (n_pos + 1) / (n_pos + 2) + (n - n_pos) / (n - n_pos + 2)) / n
    assert backwards(np.array([0.1, 0.9])) == pytest.approx([t_mean, t_mean])
    assert cal.fit_platt(o, p).a > 0  # the same data the right way round keeps its slope


def test_isotonic_matches_sklearn():
    o, p = _miscalibrated(1, n=800)
    p = np.round(p, 2)  # ties
    ours = cal.fit_isotonic(o, p)
    ref = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(p, o)
    grid = np.linspace(0, 1, 501)
    np.testing.assert_allclose(ours(grid), ref.predict(grid), atol=1e-12)
    assert np.all(np.diff(ours(grid)) >= 0)
    # isotonic minimises the training Brier score among monotone maps (identity is one)
    assert v.brier_score(o, ours(p)) <= v.brier_score(o, p)


@pytest.mark.parametrize("method", ["platt", "isotonic"])
def test_calibration_improves_held_out_reliability(method):
    o_val, p_val = _miscalibrated(2)
    o_test, p_test = _miscalibrated(3)
    c = cal.fit_calibration(o_val, p_val, method)
    raw, fixed = v.verify(o_test, p_test), v.verify(o_test, c(p_test))
    assert fixed.bs < 0.8 * raw.bs
    assert fixed.bss > 0.1 > raw.bss
    assert fixed.reliability.reliability < 0.25 * raw.reliability.reliability
    # Platt is strictly monotone: ranking and ROCA unchanged. Isotonic pools neighbouring
    # forecasts into ties (a step function), which costs a little ROCA (here ≈ 0.011).
    if method == "platt":
        assert fixed.roca == pytest.approx(raw.roca, abs=1e-12)
    else:
        assert raw.roca - 0.02 < fixed.roca <= raw.roca


def test_threshold_map():
    m = cal.ThresholdMap(0.2)
    np.testing.assert_allclose(m([0.0, 0.1, 0.2, 0.6, 1.0]), [0.0, 0.25, 0.5, 0.75, 1.0])
    o, p = _miscalibrated(4)
    for t in (0.05, 0.2, 0.37):
        mp = cal.ThresholdMap(t)(p)
        assert v.ConfusionCounts.from_forecasts(o, mp, 0.5) == v.ConfusionCounts.from_forecasts(
            o, p, t
        )
    with pytest.raises(ValueError, match=r"\(0, 1\)"):
        cal.ThresholdMap(1.0)


def test_tss_operating_point_puts_the_optimum_at_half():
    o_val, p_val = _miscalibrated(5)
    o_test, p_test = _miscalibrated(6)
    reliable = cal.fit_calibration(o_val, p_val, "isotonic", "reliable")
    tss = cal.fit_calibration(o_val, p_val, "isotonic", "tss")
    assert isinstance(tss, cal.ChainCalibrator)
    # on validation 0.5 is now the best TSS threshold (up to the 0.01 grid)
    thr, best = v.threshold_sweep(o_val, tss(p_val), np.linspace(0.01, 0.99, 99)).best("tss")
    at_half = v.ConfusionCounts.from_forecasts(o_val, tss(p_val), 0.5)
    assert at_half.tss == pytest.approx(best.tss, abs=1e-9)
    # on held-out data: better TSS at 0.5 than the reliable calibration, same ranking
    r_rel = v.verify(o_test, reliable(p_test))
    r_tss = v.verify(o_test, tss(p_test))
    assert r_tss.counts.tss > r_rel.counts.tss + 0.1
    assert r_tss.roca == pytest.approx(r_rel.roca, abs=1e-9)


def test_serialisation_round_trip():
    o, p = _miscalibrated(7, n=500)
    for c in (
        cal.fit_calibration(o, p, "platt"),
        cal.fit_calibration(o, p, "isotonic", "tss"),
        cal.fit_calibration(o, p, "none", "f1"),
        cal.IdentityCalibrator(),
    ):
        back = cal.calibrator_from_dict(json.loads(json.dumps(c.to_dict())))
        assert back == c
        np.testing.assert_array_equal(back(p), c(p))
    with pytest.raises(ValueError, match="unknown calibrator kind"):
        cal.calibrator_from_dict({"kind": "beta"})


def test_degenerate_validation_sets():
    for o in ([0, 0, 0], [1, 1, 1]):
        for method in ("platt", "isotonic"):
            with pytest.raises(ValueError, match="events and non-events"):
                cal.fit_calibration(o, [0.1, 0.5, 0.9], method)
    with pytest.raises(ValueError, match="NaN"):
        cal.fit_platt([0, 1], [0.1, np.nan])
    with pytest.raises(ValueError, match="method"):
        cal.fit_calibration([0, 1], [0.1, 0.9], "beta")
    with pytest.raises(ValueError, match="operating_point"):
        cal.fit_calibration([0, 1], [0.1, 0.9], "platt", "pod")
    # perfectly separated validation set: smoothed Platt stays finite and ordered
    c = cal.fit_platt([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9])
    out = c(np.array([0.0, 0.15, 0.85, 1.0]))
    assert np.all(np.isfinite(out)) and np.all(np.diff(out) > 0)
    # calibrated outputs stay in [0, 1] for inputs at the ends
    o, p = _miscalibrated(8, n=300)
    for method in ("platt", "isotonic"):
        q = cal.fit_calibration(o, p, method)(np.array([0.0, 1.0]))
        assert np.all((q >= 0) & (q <= 1))
