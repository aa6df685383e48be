"""EUV contrast: by hand, on the real AIA 171 file shipped with sunpy, and on the synthetic Sun."""

from __future__ import annotations

import glob
import warnings

import numpy as np
import pytest

from solarray.core.frame import radius_grid
from solarray.data.preprocess import PreprocessConfig, preprocess_file
from solarray.data.quality import REAL_AIA171_CONTRAST, euv_contrast
from solarray.data.synthetic import SynthConfig, generate


def test_euv_contrast_by_hand():
    n = 64
    r = radius_grid(n)
    img = np.full((n, n), 10.0)
    img[(r >= 0.9) & (r < 1.0)] = 25.0  # annulus 2.5× the centre
    img[r >= 1.0] = np.nan
    got = euv_contrast(img)
    assert got["limb_brightening"] == pytest.approx(2.5)
    disk = img[r < 1.0]
    assert got["p99_over_median"] == pytest.approx(np.percentile(disk, 99) / np.median(disk))


def test_euv_contrast_rejects_bad_images():
    with pytest.raises(ValueError, match="square"):
        euv_contrast(np.ones((4, 5)))
    with pytest.raises(ValueError, match="no finite pixel"):
        euv_contrast(np.full((16, 16), np.nan))


def _preprocessed(path: str, size: int = 128) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return preprocess_file(path, cfg=PreprocessConfig(size=size)).data


def test_real_aia171_contrast_is_the_recorded_reference():
    from sunpy.data.test import get_test_filepath

    got = euv_contrast(_preprocessed(get_test_filepath("aia_171_level1.fits")))
    for key, want in REAL_AIA171_CONTRAST.items():
        assert got[key] == pytest.approx(want, abs=0.02), key


def test_synthetic_171_is_as_contrasted_as_the_real_sun(tmp_path):
    """The benchmark Sun must not be easier than the real one: within 25 % of the real file
    on both figures (mean of three independent Suns, through the same FITS + preprocessing)."""
    vals = []
    for seed in range(3):
        out = tmp_path / f"s{seed}"
        generate(SynthConfig(start=f"2024-0{seed + 1}-05T00:00", hours=0, size=128, seed=seed,
                             channels=("aia171",), preview=False), out)
        fits_file = sorted(glob.glob(str(out / "fits" / "**" / "*171*.fits"), recursive=True))[0]
        vals.append(euv_contrast(_preprocessed(fits_file)))
    for key, real in REAL_AIA171_CONTRAST.items():
        mean = float(np.mean([v[key] for v in vals]))
        assert abs(mean / real - 1) <= 0.25, (key, mean, real)
