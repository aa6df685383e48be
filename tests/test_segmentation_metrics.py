"""IoU/accuracy on hand-computed masks, on-disk counting, the loss and the threshold baseline."""

import numpy as np
import pytest
import torch

from solarray.core.frame import disk_mask
from solarray.losses.segmentation import (
    SegmentationLossConfig,
    segmentation_loss,
    soft_dice_loss,
    weighted_bce,
)
from solarray.metrics import segmentation as seg


def test_disk_mask_geometry():
    d = disk_mask(64, 1.1)
    # Pixel centres within 1 R☉: area ≈ π (64 / 2.2)² ≈ 2659 px.
    assert abs(d.sum() - np.pi * (64 / 2.2) ** 2) < 40
    assert d[32, 32] and not d[0, 0] and not d[32, 1]
    with pytest.raises(ValueError, match="size > 0"):
        disk_mask(0)


def test_iou_and_accuracy_hand_computed():
    size = 64
    truth = np.zeros((1, 3, size, size), np.uint8)
    pred = np.zeros_like(truth)
    truth[0, 0, 30:34, 30:34] = 1  # 16 px
    pred[0, 0, 30:34, 32:36] = 1  # 16 px, 8 overlap → IoU 8/24
    truth[0, 1, 20:22, 20:30] = 1  # CH: 20 px, predicted perfectly
    pred[0, 1] = truth[0, 1]
    s = seg.segmentation_scores(pred, truth)
    n_disk = disk_mask(size).sum()
    assert s["iou"][0, 0] == pytest.approx(100 * 8 / 24)
    assert s["acc"][0, 0] == pytest.approx(100 * (n_disk - 16) / n_disk)
    assert s["iou"][0, 1] == pytest.approx(100.0) and s["acc"][0, 1] == pytest.approx(100.0)
    assert np.isnan(s["iou"][0, 2])  # both empty: undefined, left out
    assert s["acc"][0, 2] == pytest.approx(100.0)
    # Class accuracy: fraction of the true pixels found (8 of 16), NaN without true pixels.
    assert s["class_acc"][0, 0] == pytest.approx(50.0)
    assert s["class_acc"][0, 1] == pytest.approx(100.0) and np.isnan(s["class_acc"][0, 2])
    summ = seg.summarize(s)
    assert summ["AR"].class_acc_mean == pytest.approx(50.0)


def test_off_disk_and_unknown_pixels_do_not_count():
    truth = np.zeros((1, 3, 64, 64), np.uint8)
    pred = np.zeros_like(truth)
    pred[0, 0, 0:3, 0:3] = 1  # off-disk corner: ignored
    truth[0, 0, 30:32, 30:32] = 1
    pred[0, 0, 30:32, 30:32] = 1
    truth[0, 0, 40:42, 40:42] = 255  # unknown
    pred[0, 0, 40:42, 40:42] = 1
    s = seg.segmentation_scores(pred, truth)
    assert s["iou"][0, 0] == pytest.approx(100.0) and s["acc"][0, 0] == pytest.approx(100.0)


def test_summary_mean_std_and_table():
    iou = np.array([[50.0, np.nan, 10.0], [70.0, 40.0, 30.0]])
    acc = np.array([[90.0, 95.0, 99.0], [94.0, 97.0, 97.0]])
    summ = seg.summarize({"iou": iou, "acc": acc})
    assert summ["AR"].iou_mean == pytest.approx(60.0) and summ["AR"].iou_std == pytest.approx(10.0)
    assert summ["CH"].n_iou == 1 and summ["CH"].n_images == 2
    table = seg.format_table([seg.TableRow("AR", "m", "hmi_m", "test", summ["AR"])])
    assert "| AR | m | hmi_m | test | 60.00 | 10.00 | 92.00 | 2.00 | 2/2 |" in table


def test_shape_errors():
    with pytest.raises(ValueError, match="shapes differ"):
        seg.segmentation_scores(np.zeros((1, 3, 8, 8)), np.zeros((1, 3, 8, 9)))
    with pytest.raises(ValueError, match=r"\[N, K, H, W\]"):
        seg.segmentation_scores(np.zeros((8, 8)), np.zeros((8, 8)))


def test_weighted_bce_weights_and_ignore():
    logits = torch.zeros(1, 3, 4, 4)
    target = torch.zeros(1, 3, 4, 4, dtype=torch.uint8)
    target[0, :, 0, 0] = 1
    # Constant logits: every pixel's BCE is log 2, so the weighted mean is log 2 whatever the weights.
    assert torch.allclose(weighted_bce(logits, target), torch.full((3,), np.log(2.0)))
    # A confident wrong foreground pixel costs more under a larger foreground weight.
    logits[0, :, 0, 0] = -5.0
    bce = weighted_bce(logits, target, (6.0, 4.0, 2.0))
    assert bce[0] > bce[1] > bce[2]
    target[0, :, 0, 0] = 255  # unknown: the expensive pixel no longer counts
    assert torch.allclose(weighted_bce(logits, target), torch.full((3,), np.log(2.0)))


def test_dice_and_total_loss_decrease_when_fitting():
    torch.manual_seed(0)
    target = (torch.rand(2, 3, 16, 16) > 0.8).to(torch.uint8)
    logits = torch.zeros(2, 3, 16, 16, requires_grad=True)
    cfg = SegmentationLossConfig(dice_weight=1.0)
    opt = torch.optim.Adam([logits], lr=0.1)
    first = None
    for _ in range(30):
        loss, parts = segmentation_loss(logits, target, cfg)
        first = first if first is not None else loss.item()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert {"bce", "bce_AR", "bce_CH", "bce_FL", "dice"} <= set(parts)
    assert loss.item() < 0.3 * first
    assert soft_dice_loss(logits.detach(), target).max() < 0.2
    with pytest.raises(ValueError, match="fg_weights"):
        SegmentationLossConfig(fg_weights=(0.0, 1.0, 1.0))


def test_threshold_baseline_fits_a_clean_rule():
    rng = np.random.default_rng(0)
    images = rng.normal(0.0, 0.02, (6, 3, 64, 64)).astype(np.float32)
    masks = np.zeros((6, 3, 64, 64), np.uint8)
    masks[:, 1, 25:35, 25:35] = 1
    images[:, 1][masks[:, 1] == 1] -= 0.5  # CH dark on aia193
    base = seg.ThresholdBaseline().fit(images, masks, ["hmi_m", "aia193", "aia304"],
                                       sigmas=(0.0,))
    pred = base.predict(images, ["hmi_m", "aia193", "aia304"])
    assert seg.summarize(seg.segmentation_scores(pred, masks))["CH"].iou_mean > 90
    # Channel missing → that feature predicts nothing.
    absent = base.predict(images, ["hmi_m", "aia193", "aia304"], present=np.array([[1, 0, 1]] * 6))
    assert absent[:, 1].sum() == 0


def test_fit_thresholds_picks_the_iou_optimal_cut():
    size = 32
    truth = np.zeros((2, 3, size, size), np.uint8)
    truth[:, 0, 10:16, 10:16] = 1
    prob = np.zeros((2, 3, size, size), np.float32)
    prob[:, 0, 8:18, 8:18] = 0.3  # a halo around the feature
    prob[:, 0, 10:16, 10:16] = 0.8  # the feature itself
    t = seg.fit_thresholds(prob, truth)
    assert 0.3 < t[0] <= 0.8  # cuts the halo, keeps the feature (IoU 100)
    assert t[1] == 0.5 and t[2] == 0.5  # no true pixels: default
    s = seg.segmentation_scores((prob >= np.array(t)[None, :, None, None]), truth)
    assert s["iou"][0, 0] == pytest.approx(100.0)


def test_spnet_thresholds_config_and_use():
    from solarray.models import build

    m = build("spnet", preset="tiny", channels=("hmi_m",), image_size=32, thresholds=(0.3, 0.5, 0.7))
    assert m.decision_thresholds().tolist() == pytest.approx([0.3, 0.5, 0.7])
    assert build("spnet", preset="tiny", channels=("hmi_m",), image_size=32).decision_thresholds(
    ).tolist() == [0.5, 0.5, 0.5]
    with pytest.raises(ValueError, match="thresholds"):
        build("spnet", preset="tiny", channels=("hmi_m",), image_size=32, thresholds=(0.3, 1.2, 0.5))
