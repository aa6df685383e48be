"""The SPNet benchmark's pure parts: which test Sun an image belongs to, and the paired bootstrap
of per-image scores over Suns (hand-computed values)."""

from __future__ import annotations

import numpy as np
import pytest

from solarray.benchmarks.spnet import SPNetBenchmarkConfig, image_intervals, sun_of

RUNS = [{"start": "2024-01-02T00:00", "days": 4.875, "name": "a"},
        {"start": "2024-01-07T00:00", "days": 4.875, "name": "b"}]


def test_sun_of_assigns_each_time_to_its_run():
    ids = ["2024-01-02T00:00:00", "2024-01-06T21:00:00", "2024-01-06T21:00:01",
           "2024-01-07T00:00:00", "2024-01-11T21:00:00", "2023-12-31T00:00:00"]
    # a run covers [start, start + 4.875 d]: its 40th 3-hourly step is 2024-01-06T21:00.
    assert sun_of(ids, RUNS) == ["a", "a", "?", "b", "b", "?"]


def _scores(iou: np.ndarray) -> dict[str, np.ndarray]:
    return {"iou": iou, "miou": 50 + iou / 2}


def test_image_intervals_difference_and_interval():
    # 4 images in 2 Suns, 3 features; arm a: 2 seeds, arm b: deterministic.
    a = np.zeros((2, 4, 3))
    a[0, :, 0] = [60, 70, 80, 90]
    a[1, :, 0] = [62, 72, 82, 92]  # seed mean of the per-image means: 76
    a[:, :, 1] = np.nan  # CH undefined in every image
    a[:, :, 2] = 10
    b = np.zeros((4, 3))
    b[:, 0] = [50, 50, 50, 50]
    b[:, 2] = [10, 10, 10, 10]
    out = image_intervals(_scores(a), _scores(b), ["x", "x", "y", "y"], n_boot=200)
    ar = out["AR"]["iou"]
    assert ar["difference"] == pytest.approx(26.0)
    # Resampling Suns: all-x gives 66 − 50 = 16, all-y 86 − 50 = 36, mixed 26.
    assert 16.0 <= ar["lo"] <= 26.0 <= ar["hi"] <= 36.0 and ar["beats"]
    assert out["AR"]["miou"]["difference"] == pytest.approx(13.0)
    assert out["CH"]["iou"]["difference"] is None  # nothing to score
    fl = out["FL"]["iou"]
    assert fl["difference"] == 0.0 and fl["lo"] == fl["hi"] == 0.0 and not fl["beats"]


def test_config_rejects_unknown_arm_and_sv_without_primary():
    with pytest.raises(ValueError, match="unknown"):
        SPNetBenchmarkConfig(arms=("svm",))
    with pytest.raises(ValueError, match="primary"):
        SPNetBenchmarkConfig(arms=("sv",), channels=("hmi_m", "aia193"))


def test_expert_review_accepts_true_new_components_only():
    from solarray.benchmarks.spnet_cycle import expert_review

    pred = np.zeros((1, 3, 6, 6), np.uint8)
    truth = np.zeros_like(pred)
    base = np.zeros_like(pred)
    pred[0, 0, 0:2, 0:2] = 1  # already labelled (touches base): neither accepted nor rejected
    base[0, 0, 1, 1] = 1
    pred[0, 0, 4:6, 4:6] = 1  # new, overlaps a true AR in one pixel: accepted whole
    truth[0, 0, 5, 5] = 1
    pred[0, 0, 0, 5] = 1  # new, no true feature: rejected
    truth[0, 1, 3, 3] = 255  # unknown truth is no feature
    pred[0, 1, 3, 3] = 1
    add, acc, rej = expert_review(pred, truth, base)
    assert acc == {"AR": 1, "CH": 0, "FL": 0} and rej == {"AR": 1, "CH": 1, "FL": 0}
    assert add[0, 0].sum() == 4 and add[0, 0, 4:6, 4:6].all() and add[0, 1:].sum() == 0
    # Without labels so far, the labelled component counts as new too (still needs the truth).
    _, acc, rej = expert_review(pred, truth)
    assert acc["AR"] == 1 and rej["AR"] == 2


def test_halves_alternate_suns():
    from solarray.benchmarks.spnet_cycle import halves

    assert halves(["r2", "r0", "r1", "r0", "r3"]) == (["r0", "r2"], ["r1", "r3"])


def test_reference_labels_nearest_centre():
    from solarray.benchmarks.iatools_spnet import reference_labels

    lon = np.array([[-10.0, 0.0, 10.0], [-10.0, 0.0, np.nan]])
    lat = np.zeros((2, 3))
    true_ar = np.array([[1, 1, 1], [1, 0, 1]], bool)
    ref = reference_labels(true_ar, lon, lat, np.array([[-9.0, 0.0], [8.0, 0.0]]))
    # 0° is 9° from the first centre and 8° from the second; NaN (off disk) stays 0.
    assert ref.tolist() == [[1, 2, 2], [1, 0, 0]]
    assert not reference_labels(true_ar, lon, lat, np.zeros((0, 2))).any()


def test_clustering_scores_hand_computed():
    from solarray.benchmarks.iatools_spnet import clustering_scores

    ref = np.array([[1, 1, 0, 2, 2]])
    on = np.ones_like(ref, bool)
    same = clustering_scores(np.array([[5, 5, 0, 7, 7]]), ref, on)
    assert same == {"ari": 1.0, "iou": 100.0, "n_regions": 2}
    # One region over both true ones: IoU 4/5 (the gap pixel joins), ARI of {1,1,0,2,2} vs all one
    # cluster = 0 (no agreement beyond chance).
    merged = clustering_scores(np.array([[3, 3, 3, 3, 3]]), ref, on)
    assert merged["iou"] == 80.0 and merged["ari"] == 0.0 and merged["n_regions"] == 1
    # Nothing anywhere: undefined.
    empty = clustering_scores(np.zeros_like(ref), np.zeros_like(ref), on)
    assert np.isnan(empty["ari"]) and np.isnan(empty["iou"])
