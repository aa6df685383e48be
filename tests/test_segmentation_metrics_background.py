"""Segmentation scores with background (the seed's "mean IoU" read as the 2-class mean):
hand-computed background IoU, mean IoU and mean accuracy."""

from __future__ import annotations

import numpy as np
import pytest

from solarray.core.frame import disk_mask
from solarray.metrics import segmentation as seg


def test_background_iou_and_mean_hand_computed():
    size = 64
    truth = np.zeros((1, 3, size, size), np.uint8)
    pred = np.zeros_like(truth)
    truth[0, 0, 30:34, 30:34] = 1  # 16 px
    pred[0, 0, 30:34, 32:36] = 1  # 16 px, 8 overlap: union 24
    truth[0, 1, 20:22, 20:30] = 1  # CH: 20 px, missed entirely
    s = seg.segmentation_scores(pred, truth)
    n = disk_mask(size).sum()
    # AR: background = on-disk pixels in neither mask (n − 24) over those in either's
    # complement (n − 8); background accuracy = (n − 24) true negatives of n − 16.
    iou_bg = 100 * (n - 24) / (n - 8)
    assert s["iou_bg"][0, 0] == pytest.approx(iou_bg)
    assert s["miou"][0, 0] == pytest.approx((100 * 8 / 24 + iou_bg) / 2)
    assert s["macc"][0, 0] == pytest.approx((50.0 + 100 * (n - 24) / (n - 16)) / 2)
    # CH missed: feature IoU 0, background IoU (n − 20)/n, mean of the two.
    assert s["miou"][0, 1] == pytest.approx((0.0 + 100 * (n - 20) / n) / 2)
    # FL empty in both: feature IoU undefined, the mean is the background's (100).
    assert np.isnan(s["iou"][0, 2]) and s["miou"][0, 2] == pytest.approx(100.0)
    summ = seg.summarize(s)
    assert summ["AR"].miou_mean == pytest.approx((100 * 8 / 24 + iou_bg) / 2)
    # a tiny feature: mean IoU with background sits far above the feature IoU
    assert summ["AR"].miou_mean > summ["AR"].iou_mean + 30


def test_summary_without_background_keys():
    summ = seg.summarize({"iou": np.array([[50.0, 1.0, 2.0]]), "acc": np.ones((1, 3))})
    assert np.isnan(summ["AR"].miou_mean) and summ["AR"].iou_mean == 50.0
