"""solarray.search.parameters on hand-made patches against hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from solarray.search import parameters
from solarray.search.parameters import parameter_table

DA = (2.0 * 1e8) ** 2  # cm² of one 2-Mm pixel


def test_bipole_by_hand():
    bz = np.zeros((5, 5))
    bz[1, 1] = 100.0
    bz[1, 2] = 300.0  # positive centroid (1, 1.75)
    bz[4, 1] = -50.0  # negative centroid (4, 1)
    p = parameters(bz, 2.0)
    assert p["tpf"] == pytest.approx(400.0 * DA)
    assert p["tnf"] == pytest.approx(-50.0 * DA)
    assert p["tuf"] == pytest.approx(450.0 * DA)
    assert p["psep"] == pytest.approx(math.hypot(3.0, 0.75) * 2.0)


def test_unipolar_psep_nan_and_nan_pixels_ignored():
    bz = np.full((4, 4), np.nan)
    bz[2, 2] = 10.0
    p = parameters(bz, 1.0)
    assert p["tuf"] == pytest.approx(10.0 * 1e16)
    assert p["tnf"] == 0.0
    assert math.isnan(p["psep"])


def test_table_and_bad_input():
    bz = np.zeros((2, 3, 3))
    bz[0, 0, 0], bz[0, 2, 2] = 5.0, -5.0
    t = parameter_table(bz, 1.0)
    assert t["psep"][0] == pytest.approx(math.hypot(2, 2))
    assert math.isnan(t["psep"][1]) and t["tuf"][1] == 0.0
    with pytest.raises(ValueError, match="pixel_size_mm"):
        parameters(bz[0], 0.0)
    with pytest.raises(ValueError, match="2-D"):
        parameters(bz, 1.0)
