"""Translation metrics (Park 2019) against hand-computed values on constructed arrays."""

from __future__ import annotations

import numpy as np
import pytest

from solarray.metrics.translation import (
    average_re,
    cc,
    high_frequency_power,
    high_frequency_ratio,
    ppe,
    radial_power_spectrum,
    relative_error,
    scores,
)


def test_cc_hand_values():
    t = np.array([[1.0, 2.0], [3.0, 4.0]])
    assert cc(2 * t + 5, t) == pytest.approx(1.0)
    assert cc(-t, t) == pytest.approx(-1.0)
    # p = [1, 3, 2, 4] vs t = [1, 2, 3, 4]: centred p·t = 4, |p|² = |t|² = 5 → r = 0.8
    p = np.array([[1.0, 3.0], [2.0, 4.0]])
    assert cc(p, t) == pytest.approx(0.8)
    assert np.isnan(cc(np.ones((2, 2)), t))


def test_relative_error_and_ppe_hand_values():
    t = np.array([[10.0, 20.0], [30.0, 40.0]])  # Σ = 100
    p = np.array([[11.0, 20.0], [27.0, 52.0]])  # Σ = 110
    assert relative_error(p, t) == pytest.approx(0.1)
    # |p − t| = 1, 0, 3, 12 ≤ 0.1·|t| = 1, 2, 3, 4 → 3 of 4 pixels
    assert ppe(p, t) == pytest.approx(0.75)
    assert ppe(p, t, tol=0.5) == pytest.approx(1.0)
    assert ppe(p, t, tol=0.0) == pytest.approx(0.25)
    s = scores(p, t)
    assert s["re"] == pytest.approx(0.1) and s["ppe10"] == pytest.approx(0.75)


def test_mask_and_nan_pixels_are_left_out():
    t = np.array([[10.0, 20.0], [30.0, 40.0]])
    p = np.array([[10.0, 20.0], [30.0, 1000.0]])
    mask = np.array([[True, True], [True, False]])
    assert relative_error(p, t, mask) == pytest.approx(0.0)
    assert ppe(p, t, mask=mask) == pytest.approx(1.0)
    assert cc(p, t, mask) == pytest.approx(1.0)
    p_nan = p.copy()
    p_nan[1, 1] = np.nan
    assert relative_error(p_nan, t) == pytest.approx(0.0)
    # the mask broadcasts over a stack of images
    stack_p, stack_t = np.stack([p, p]), np.stack([t, t])
    assert ppe(stack_p, stack_t, mask=mask) == pytest.approx(1.0)


def test_bad_input_is_a_clear_error():
    with pytest.raises(ValueError, match="differ in shape"):
        cc(np.zeros((2, 2)), np.zeros((3, 3)))
    with pytest.raises(ValueError, match="mask shape"):
        ppe(np.ones((2, 2)), np.ones((2, 2)), mask=np.ones((3, 3), bool))
    with pytest.raises(ValueError, match="no finite pixel"):
        cc(np.full((2, 2), np.nan), np.ones((2, 2)))


#: Park 2019's per-passband RE (1700, 1600, 304, 171, 193, 211, 335, 94, 131 Å), Models A and B
PARK_RE_A = (0.01, 0.11, -0.18, -0.05, 0.07, 0.08, -0.03, -0.03, -0.04)
PARK_RE_B = (0.02, 0.11, -0.17, -0.04, 0.07, 0.08, 0.04, -0.02, -0.03)


def test_average_re_is_the_mean_of_absolute_values_as_in_park_2019():
    # Park's Average row (0.07 A, 0.06 B) is the mean of |RE| (0.60/9, 0.58/9); the signed
    # mean is ~0 (-0.06/9, +0.06/9): errors of opposite sign cancel
    a, b = average_re(PARK_RE_A), average_re(PARK_RE_B)
    assert a["abs"] == pytest.approx(0.60 / 9) and round(a["abs"], 2) == 0.07
    assert b["abs"] == pytest.approx(0.58 / 9) and round(b["abs"], 2) == 0.06
    assert a["signed"] == pytest.approx(-0.06 / 9) and b["signed"] == pytest.approx(0.06 / 9)
    # per-image REs +0.1 and -0.1: mean |RE| 0.1, signed 0; NaN left out
    assert average_re([0.1, -0.1, float("nan")]) == pytest.approx({"abs": 0.1, "signed": 0.0})
    assert np.isnan(average_re([float("nan")])["abs"])


def _stripes(n: int, low: float, high: float) -> np.ndarray:
    """``low``·cos(2π x / n) (1 cycle per image) + ``high``·(−1)^x (the Nyquist frequency)."""
    x = np.arange(n)[None, :].repeat(n, 0)
    return low * np.cos(2 * np.pi * x / n) + high * (-1.0) ** x


def test_radial_power_spectrum_hand_values():
    # 8 px: the cosine (amplitude 2) puts 2²/2 = 2 at k = 1/4 Nyquist, the alternation
    # (amplitude 1) puts 1² = 1 at k = 1 (Nyquist); Σ power = variance = 3
    k, p = radial_power_spectrum(_stripes(8, 2.0, 1.0) + 5.0)
    assert k[1] == pytest.approx(0.25) and k[4] == pytest.approx(1.0)
    assert p[1] == pytest.approx(2.0) and p[4] == pytest.approx(1.0)
    assert p.sum() == pytest.approx(3.0) and p[0] == pytest.approx(0.0)
    assert high_frequency_power(_stripes(8, 2.0, 1.0), cutoff=0.5) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="square"):
        radial_power_spectrum(np.zeros((4, 8)))


def test_high_frequency_ratio_sees_blur_that_cc_forgives():
    target = _stripes(8, 2.0, 1.0)
    blurred = _stripes(8, 2.0, 0.5)  # half the fine-scale amplitude: a quarter of its power
    assert high_frequency_ratio(blurred, target) == pytest.approx(0.25)
    assert high_frequency_ratio(target, target) == pytest.approx(1.0)
    assert high_frequency_ratio(_stripes(8, 2.0, 2.0), target) == pytest.approx(4.0)
    # a stack: the mean of the per-image ratios (0.25 and 1)
    assert high_frequency_ratio(np.stack([blurred, target]),
                                np.stack([target, target])) == pytest.approx(0.625)
    assert cc(blurred, target) > 0.95  # CC barely notices the lost fine structure
    assert np.isnan(high_frequency_ratio(target, _stripes(8, 2.0, 0.0)))
