"""Schrijver R on hand-built bipoles, fluxes and polarity separation against hand computations."""

from __future__ import annotations

import numpy as np
import pytest

from solarray.analysis import magnetic as M


def _bipole(size=128, b0=500.0):
    b = np.zeros((size, size))
    b[:, : size // 2] = b0  # field everywhere: the Gaussian weight never leaves the field
    b[:, size // 2:] = -b0
    mask = np.zeros((size, size), dtype=bool)
    mask[40:88, 40:88] = True
    return b, mask


def test_pil_map_of_a_bipole_is_two_columns():
    b, _ = _bipole()
    pil = M.pil_map(b, threshold_g=150, dilation_px=1)
    cols = np.nonzero(pil.any(axis=0))[0]
    assert list(cols) == [63, 64] and pil.sum() == 2 * 128


def test_schrijver_r_hand_built_bipole():
    b, mask = _bipole()
    # 1.44 Mm pixels: dilation 1 px; σ = 15/2.3548/1.44 = 4.42 px, the mask grows by ceil(2σ) = 9
    # px → PIL = 2 columns × (48 + 2·9) rows = 132 px. The normalised Gaussian keeps each PIL
    # pixel's unit weight on |B| = 500 G, so R = 500 × 132 = 66 000.
    out = M.schrijver_r(b, 1.44, mask=mask)
    assert out["pil_pixels"] == 132
    assert out["r"] == pytest.approx(500 * 132, rel=1e-6)
    assert out["log_r"] == pytest.approx(np.log10(66000), rel=1e-9)
    # Twice coarser pixels: σ = 2.21 px, grow 5 px → 2 × 58 PIL px, each worth 4 reference px.
    out2 = M.schrijver_r(b, 2.88, mask=mask)
    assert out2["pil_pixels"] == 116
    assert out2["r"] == pytest.approx(500 * 116 * 4, rel=1e-6)


def test_schrijver_threshold_scales_on_pixels_coarser_than_the_reference():
    cfg = M.RValueConfig()
    assert cfg.threshold_at(1.44) == 150.0 and cfg.threshold_at(0.36) == 150.0  # HMI: unchanged
    assert cfg.threshold_at(2.88) == pytest.approx(150.0 * 0.5**0.45)  # 109.8 G
    assert cfg.threshold_at(11.9625) == pytest.approx(150.0 * (1.44 / 11.9625) ** 0.45)  # 57.9 G
    b, mask = _bipole(b0=100.0)  # below the 2.88-Mm threshold (109.8 G) too
    assert M.schrijver_r(b, 2.88, mask=mask)["r"] == 0.0
    b, mask = _bipole(b0=115.0)  # above the 2.88-Mm threshold only
    assert M.schrijver_r(b, 1.44, mask=mask)["r"] == 0.0
    assert M.schrijver_r(b, 2.88, mask=mask)["pil_pixels"] == 116
    fixed = M.RValueConfig(resolution_exponent=0.0)
    assert M.schrijver_r(b, 2.88, mask=mask, config=fixed)["r"] == 0.0


def test_schrijver_r_below_threshold_and_unipolar_are_zero():
    b, mask = _bipole(b0=149.0)
    assert M.schrijver_r(b, 1.44, mask=mask) == {"r": 0.0, "log_r": 0.0, "pil_pixels": 0}
    uni = np.full((64, 64), 800.0)
    assert M.schrijver_r(uni, 1.44)["r"] == 0.0
    with pytest.raises(ValueError, match="pixel_mm"):
        M.schrijver_r(uni, 0.0)


def test_region_fluxes_hand_computed():
    b = np.zeros((10, 10))
    b[2, 2:7] = 100.0  # 5 px
    b[5, 2:5] = -300.0  # 3 px
    b[8, 8] = np.nan
    area = np.full((10, 10), 2e17)  # cm²
    mask = np.ones((10, 10), dtype=bool)
    f = M.region_fluxes(b, mask, area)
    assert f["flux_pos"] == pytest.approx(5 * 100 * 2e17)
    assert f["flux_neg"] == pytest.approx(-3 * 300 * 2e17)
    assert f["flux_unsigned"] == pytest.approx(1e20 + 1.8e20)
    mu = np.full((10, 10), 0.5)
    assert M.region_fluxes(b, mask, area, mu=mu, radial=True)["flux_pos"] == pytest.approx(2e20)


def test_polarity_separation_of_two_points():
    lon = np.array([[0.0, 10.0]])
    lat = np.array([[0.0, 0.0]])
    b = np.array([[500.0, -500.0]])
    area = np.ones((1, 2))
    d = M.polarity_separation(b, np.ones((1, 2), bool), lon, lat, area, 6.96e8)
    assert d == pytest.approx(np.deg2rad(10) * 696.0, rel=1e-9)  # Mm along the great circle
    assert np.isnan(M.polarity_separation(np.abs(b), np.ones((1, 2), bool), lon, lat, area, 6.96e8))


def test_strong_field_area_counts_pixels_at_or_above_the_line_in_radial_field():
    from solarray.analysis.magnetic import strong_field_area

    b = np.array([[150.0, -120.0, 50.0], [60.0, np.nan, -300.0]])
    mu = np.array([[1.0, 1.0, 0.5], [0.5, 1.0, 0.05]])  # |B|/μ: 150 120 100 | 120 nan 3000
    area = np.array([[1.0, 2.0, 4.0], [8.0, 16.0, 32.0]])
    mask = np.array([[True, True, True], [True, True, False]])
    # in the mask and |B|/μ ≥ 100: 1 + 2 + 4 + 8 (the NaN pixel and the masked-out one excluded)
    assert strong_field_area(b, mask, area, mu) == 15.0
    assert strong_field_area(b, mask, area, mu, gauss=121.0) == 1.0
    assert strong_field_area(b, ~mask, area, mu) == 32.0  # μ clipped at 0.1: 3000 G
