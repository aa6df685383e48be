"""Reconstruction, compression and sample-realism metrics against hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from solarray.metrics.reconstruction import (
    compression_table,
    histogram_distance,
    pixel_correlation,
    ppe,
    radial_power_spectrum,
    reconstruction_table,
    rmse,
    sample_realism,
    spectrum_distance,
)


def test_pixel_metrics_by_hand():
    real = np.array([[1.0, 2.0], [3.0, 4.0]])
    recon = np.array([[1.05, 2.5], [3.0, 8.0]])
    # |err| / |real| = 0.05, 0.25, 0, 1.0 → within 10 %: 2 of 4; within 50 %: 3 of 4
    assert ppe(real, recon, 0.1) == 0.5
    assert ppe(real, recon, 0.5) == 0.75
    assert rmse(real, recon) == pytest.approx(math.sqrt((0.05**2 + 0.25 + 0 + 16) / 4))
    assert pixel_correlation(real, 2 * real + 1) == pytest.approx(1.0)
    assert pixel_correlation(real, -real) == pytest.approx(-1.0)
    # x = (1, 2, 3), y = (1, 3, 2): r = 0.5
    assert pixel_correlation(np.array([1.0, 2, 3]), np.array([1.0, 3, 2])) == pytest.approx(0.5)


def test_mask_and_nan_are_left_out():
    real = np.array([[1.0, 2.0], [3.0, np.nan]])
    recon = np.array([[1.0, 2.0], [100.0, 5.0]])
    mask = np.array([[True, True], [False, True]])
    assert rmse(real, recon, mask) == 0.0  # (1,0) off the mask, (1,1) NaN
    assert ppe(real, recon, 0.0, mask) == 1.0
    assert math.isnan(pixel_correlation(np.ones((2, 2)), np.ones((2, 2))))
    with pytest.raises(ValueError, match="mask shape"):
        rmse(real, recon, np.ones((3, 3), bool))
    with pytest.raises(ValueError, match="differ in shape"):
        rmse(real, recon[:1])


def test_reconstruction_table_per_channel():
    real = np.stack([np.full((2, 2), 10.0), np.arange(4.0).reshape(2, 2)])[None]  # [1, 2, 2, 2]
    recon = real.copy()
    recon[0, 0] += 2.0  # channel a: every pixel 20 % off
    rows = reconstruction_table(real, recon, ["a", "b"])
    assert rows[0]["channel"] == "a" and rows[0]["rmse"] == pytest.approx(2.0)
    assert rows[0]["ppe10"] == 0.0 and rows[0]["ppe50"] == 1.0
    assert rows[1]["pixel_correlation"] == pytest.approx(1.0) and rows[1]["rmse"] == 0.0
    with pytest.raises(ValueError, match="expected images"):
        reconstruction_table(real, recon, ["a"])


def test_compression_table_by_hand():
    # 1000 samples, 100 MB original, 256 float32 latents each = 1.024 MB, 5 MB model
    t = compression_table(1000, 100_000_000, 256, 5_000_000)
    assert t["latent_mb"] == pytest.approx(1.024)
    assert t["total_mb"] == pytest.approx(6.024)
    assert t["percent"] == pytest.approx(6.024)
    assert t["latent_percent"] == pytest.approx(1.024)
    # The seed's Table 1 at bottleneck 256: (310.1 + 131.1) / 238174.5 = 0.185 %
    assert 100 * (310.1 + 131.1) / 238174.5 == pytest.approx(0.1852, abs=1e-4)
    with pytest.raises(ValueError):
        compression_table(10, 0, 256, 1)


def test_histogram_and_spectrum_distances():
    a = np.array([0.0, 0.0, 1.0, 1.0])
    assert histogram_distance(a, a, bins=2) == 0.0
    assert histogram_distance(np.zeros(4), np.ones(4), bins=2) == 1.0
    # p = (1/2, 1/2), q = (3/4, 1/4) → ½(1/4 + 1/4) = 1/4
    assert histogram_distance(a, np.array([0.0, 0.0, 0.0, 1.0]), bins=2) == pytest.approx(0.25)
    rng = np.random.default_rng(0)
    img = rng.standard_normal((4, 16, 16))
    assert spectrum_distance(img, img) == 0.0
    # 10× the amplitude = 100× the power at every frequency → |log10 ratio| = 2
    assert spectrum_distance(img, 10 * img) == pytest.approx(2.0, abs=1e-9)
    # a single cosine along x puts its power at radius 2
    x = np.cos(2 * np.pi * 2 * np.arange(16) / 16)[None, :].repeat(16, 0)
    spec = radial_power_spectrum(x)
    assert spec.argmax() == 2 and spec.shape == (8,)
    rows = sample_realism(img[:, None], img[:, None], ["aia171"])
    assert rows == [{"channel": "aia171", "histogram_tv": 0.0, "spectrum_dlog": 0.0}]
