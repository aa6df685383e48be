"""Translation metrics (Park 2019) against hand-computed values on constructed arrays."""

from __future__ import annotations

import numpy as np
import pytest

from solarray.metrics.translation import cc, ppe, relative_error, scores


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
