"""Group bootstrap intervals: hand-checkable cases."""

from __future__ import annotations

import numpy as np

from solarray.metrics.bootstrap import bss, interval, paired_interval, roca


def test_perfect_ranking_has_a_point_interval_and_groups_are_counted():
    y = np.array([0, 1, 0, 1, 0, 1])
    p = np.array([0.1, 0.9, 0.2, 0.8, 0.3, 0.7])
    out = interval(roca, y, p, groups=["a", "a", "b", "b", "c", "c"], n_boot=200)
    assert out["value"] == 1.0 and out["lo"] == 1.0 and out["hi"] == 1.0
    assert out["n_groups"] == 3


def test_bss_by_hand_and_undefined_for_one_class():
    y = np.array([0, 0, 1, 1])
    p = np.array([0.0, 0.5, 0.5, 1.0])
    # BS = (0 + .25 + .25 + 0)/4 = 0.125; climatology 0.5·0.5 = 0.25 → BSS 0.5
    assert bss(y, p) == 0.5
    assert bss(np.zeros(3), np.zeros(3)) is None and roca(np.ones(3), np.ones(3)) is None


def test_paired_interval_separates_skill_from_noise_and_ties():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 400)
    good = np.clip(y * 0.6 + rng.random(400) * 0.4, 0, 1)
    noise = rng.random(400)
    groups = np.repeat(np.arange(100), 4)  # 100 regions seen 4 times each
    d = paired_interval(roca, y, good, noise, groups, n_boot=300)
    assert d["beats"] and d["lo"] > 0.3
    same = paired_interval(roca, y, good, good, groups, n_boot=50)
    assert same["difference"] == 0.0 and not same["beats"]


def test_paired_interval_averages_seeds_of_a_2d_forecast():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 200)
    seeds = np.stack([np.clip(y * 0.5 + rng.random(200) * 0.5, 0, 1) for _ in range(3)])
    base = rng.random(200)
    d = paired_interval(roca, y, seeds, base, np.arange(200) // 2, n_boot=100)
    want = np.mean([roca(y, s) for s in seeds]) - roca(y, base)
    assert abs(d["difference"] - want) < 1e-12 and d["beats"]
