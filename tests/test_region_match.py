"""Detected regions against the truth: one-to-one matching by great-circle distance, the
small-truth ("don't care") rule and the rounded report, on hand-placed regions."""

import numpy as np
import pandas as pd
import pytest

from solarray.core.geometry import great_circle_deg
from solarray.metrics.region_match import match_regions


def _r(lon, lat, area):
    return {"hgs_lon": lon, "hgs_lat": lat, "area_msh": area}


def test_great_circle_hand_computed():
    assert great_circle_deg(0, 0, 0, 90) == pytest.approx(90.0)  # equator to pole
    assert great_circle_deg(0, 0, 90, 0) == pytest.approx(90.0)
    assert great_circle_deg(179, 0, -179, 0) == pytest.approx(2.0)  # across the ±180° seam
    assert great_circle_deg(0, 0, 180, 0) == pytest.approx(180.0)
    assert great_circle_deg(30, 60, 30, 60) == pytest.approx(0.0, abs=1e-6)
    # Near the pole 90° of longitude is a short way: both at colatitude 1° → chord ≈ √2 °.
    assert great_circle_deg(0, 89, 90, 89) == pytest.approx(np.sqrt(2), rel=1e-3)
    d = great_circle_deg(np.array([[0.0], [10.0]]), 0, np.array([[0.0, 5.0]]), 0)
    np.testing.assert_allclose(d, [[0, 5], [10, 5]], atol=1e-9)


def test_three_truth_two_detected_one_far():
    truth = [_r(0, 0, 1000), _r(20, 10, 500), _r(-30, -15, 800)]
    detected = [_r(60, 40, 300), _r(1, 0, 900)]  # the first is far from every truth
    m = match_regions(detected, truth)
    assert (m.n_matched, m.n_missed, m.n_false) == (1, 2, 1)
    (p,) = m.pairs
    assert (p.detected, p.truth) == (1, 0)
    assert p.distance_deg == pytest.approx(1.0) and p.area_ratio == pytest.approx(0.9)
    assert m.missed == (1, 2) and m.false == (0,)
    assert m.recall == pytest.approx(1 / 3) and m.precision == pytest.approx(0.5)
    assert m.median_area_ratio == pytest.approx(0.9) and m.median_distance_deg == pytest.approx(1)
    d = m.to_dict()
    assert d["recall"] == 0.333 and d["precision"] == 0.5 and d["n_ignored"] == 0
    assert d["pairs"] == [{"detected": 1, "truth": 0, "distance_deg": 1.0, "area_ratio": 0.9}]


def test_assignment_maximises_matches_not_greedy():
    # d0–A 1°, d0–B 3°, d1–A 3.5°, d1–B 7.5°: closest-first would pair d0–A and strand d1.
    truth = [_r(0, 0, 1000), _r(4, 0, 2000)]
    detected = [_r(1, 0, 1500), _r(-3.5, 0, 1234)]
    m = match_regions(detected, truth)
    assert [(p.detected, p.truth) for p in m.pairs] == [(1, 0), (0, 1)]
    assert m.n_missed == 0 and m.n_false == 0 and m.recall == 1.0
    assert m.median_distance_deg == pytest.approx(3.25)
    assert m.median_area_ratio == pytest.approx((1.234 + 0.75) / 2)
    d = m.to_dict()
    assert [p["area_ratio"] for p in d["pairs"]] == [1.23, 0.75]
    assert d["median_area_ratio"] == 0.992  # (1.234 + 0.75) / 2
    # Two pairs at 4.9° each beat one perfect pair: the count comes before the distance.
    m = match_regions([_r(0, 0, 1), _r(-4.9, 0, 1)], [_r(0, 0, 1), _r(4.9, 0, 1)])
    assert [(p.detected, p.truth) for p in m.pairs] == [(1, 0), (0, 1)]


def test_max_distance_is_the_limit():
    truth = [_r(0, 0, 1000)]
    assert match_regions([_r(0, 4.9, 1000)], truth).n_matched == 1
    m = match_regions([_r(0, 5.1, 1000)], truth)
    assert (m.n_matched, m.n_missed, m.n_false) == (0, 1, 1)
    assert m.median_area_ratio is None and m.median_distance_deg is None
    assert match_regions([_r(0, 5.1, 1000)], truth, max_distance_deg=6).n_matched == 1
    with pytest.raises(ValueError, match="max_distance_deg"):
        match_regions([], truth, max_distance_deg=0)


def test_small_truth_is_neither_missed_nor_a_false_positive():
    truth = [_r(0, 0, 1000), _r(10, 0, 100), _r(-20, 0, 150)]  # two below 300 MSH
    detected = [_r(0.5, 0, 1100), _r(10.5, 0, 120)]  # the second finds a small region
    m = match_regions(detected, truth, min_truth_area_msh=300)
    assert m.n_truth == 1 and (m.n_matched, m.n_missed, m.n_false) == (1, 0, 0)
    assert [(p.detected, p.truth) for p in m.ignored] == [(1, 1)]
    assert m.recall == 1.0 and m.precision == 1.0  # the ignored detection is out of both
    # Without the threshold every truth region counts: one more match, one miss.
    m0 = match_regions(detected, truth)
    assert m0.n_truth == 3 and (m0.n_matched, m0.n_missed, m0.n_false) == (2, 1, 0)
    assert m0.recall == pytest.approx(2 / 3)


def test_counted_truth_gets_the_detection_before_a_closer_small_one():
    truth = [_r(1, 0, 100), _r(4, 0, 1000)]
    detected = [_r(0, 0, 900)]  # 1° from the small region, 4° from the large one
    m = match_regions(detected, truth, min_truth_area_msh=300)
    assert [(p.detected, p.truth) for p in m.pairs] == [(0, 1)] and m.ignored == ()
    assert m.missed == () and m.recall == 1.0
    # Counting every region, the nearer (small) one wins and the large one is missed.
    m0 = match_regions(detected, truth)
    assert [(p.detected, p.truth) for p in m0.pairs] == [(0, 0)] and m0.missed == (1,)


def test_dataframes_empty_inputs_and_missing_values():
    truth = pd.DataFrame([_r(0, 0, 1000), _r(30, 0, 0.0)], index=[10, 20])
    detected = pd.DataFrame([_r(float("nan"), 0, 500), _r(30.2, 0, 50), _r(179, 0, 100)])
    m = match_regions(detected, truth)
    assert [(p.detected, p.truth) for p in m.pairs] == [(1, 1)]  # positions, not labels
    assert m.pairs[0].area_ratio is None and m.median_area_ratio is None  # truth area 0
    assert m.missed == (0,) and m.false == (0, 2)
    none = match_regions([], truth)
    assert none.recall == 0.0 and none.precision is None and none.n_missed == 2
    nothing = match_regions(detected, [])
    assert nothing.recall is None and nothing.n_false == 3 and nothing.precision == 0.0
    with pytest.raises(ValueError, match="area_msh"):
        match_regions([{"hgs_lon": 0, "hgs_lat": 0}], truth)
    with pytest.raises(ValueError, match=r"truth lacks column\(s\) \['hgs_lat'\]"):
        match_regions([], truth.drop(columns="hgs_lat"))
