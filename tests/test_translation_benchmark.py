"""The translation benchmark's pieces that need no training: the nine-passband Sun's channels,
the test Suns that bootstrap intervals resample, and the per-image scores they resample."""

from __future__ import annotations

import numpy as np
import pytest

from solarray.benchmarks.translation import AIA, CHANNELS, TRANSLATION_SUN, sun_groups
from solarray.translate.evaluation import per_image, score_channels


def test_the_translation_sun_holds_all_nine_aia_passbands():
    assert AIA == ("aia94", "aia131", "aia171", "aia193", "aia211", "aia304", "aia335",
                   "aia1600", "aia1700")
    assert TRANSLATION_SUN.channels == CHANNELS == ("hmi_m", *AIA)
    # two held-out Suns per held-out month: bootstrap groups exist in the test split
    assert TRANSLATION_SUN.runs_per_month[1] >= 2


def test_sun_groups_follow_the_five_day_spacing():
    ids = ["2024-01-02T00:00:00", "2024-01-06T21:00:00", "2024-01-07T00:00:00",
           "2025-01-02T03:00:00"]
    g = sun_groups(ids)
    assert g[0] == g[1] != g[2] and g[3] != g[0]
    assert len(set(g)) == 3


def test_per_image_scores_hand_values():
    rng = np.random.default_rng(0)
    y = rng.uniform(-0.5, 0.5, (3, 2, 16, 16)).astype(np.float32)
    same = per_image(y, y, ["aia171", "aia304"])
    assert same["cc"] == pytest.approx(np.ones(3))
    assert same["re_abs"] == pytest.approx(np.zeros(3))
    assert same["hf_ratio"] == pytest.approx(np.ones(3))
    # a blurred prediction (2×2 box average) keeps CC high but loses fine-scale power
    blur = y.reshape(3, 2, 8, 2, 8, 2).mean(axis=(3, 5)).repeat(2, -1).repeat(2, -2)
    got = per_image(blur, y, ["aia171", "aia304"])
    assert (got["hf_ratio"] < 0.6).all() and (got["cc"] > 0.3).all()
    table = score_channels(blur, y, ["aia171", "aia304"])
    assert table["average"]["hf_ratio"] == pytest.approx(got["hf_ratio"].mean(), rel=1e-6)
    assert table["average"]["re_abs"] >= abs(table["average"]["re_signed"])
