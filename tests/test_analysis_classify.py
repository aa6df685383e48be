"""Hale/McIntosh classifiers: crops, augmentation, tiny training (generic loop), F1, checkpoints
(current and older layout), synthetic data, learning on held-out synthetic Suns."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from train_helpers import train_in_process

from solarray.analysis import crops as K
from solarray.losses.classification import class_weights, zoned_cross_entropy
from solarray.metrics.classification import f1_report
from solarray.models import build, load_model, save_model
from solarray.models.classifier import ClassifierConfig
from solarray.train.fit_classifier import (
    ClassifierTrainConfig,
    classifier_train_config,
    fit_classifier,
)

TINY = dict(in_size=32, conv_channels=(4, 8), pool=4, fc=16)
#: Generator seeds of the synthetic Suns the held-out test trains on and scores on.
TRAIN_SUNS, TEST_SUNS = tuple(range(8)), tuple(range(8, 13))


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_crop_square_expands_and_pads_with_edge_mean():
    img = np.zeros((50, 50))
    img[:, :25] = 10.0  # the left half is 10, the right half 0
    mask = np.zeros((50, 50), dtype=bool)
    mask[0:20, 0:10] = True  # 20 × 10 box at the top-left corner
    crop = K.crop_square(img, mask, size=160, expand=0.05)
    assert crop.shape == (160, 160) and crop.dtype == np.float32
    # Square side ceil(20 × 1.05) = 21 centred on the box: rows -1..19, cols -6..14. The part
    # outside the image takes the mean of the in-image edge pixels, all 10 here.
    assert np.allclose(crop, 10.0)
    img2 = np.arange(2500, dtype=float).reshape(50, 50)
    m2 = np.zeros((50, 50), dtype=bool)
    m2[20:30, 20:30] = True
    c2 = K.crop_square(img2, m2, size=11, expand=0.0)  # 10 → 11 px square: no resampling blur
    assert c2.shape == (11, 11)
    with pytest.raises(ValueError, match="empty"):
        K.crop_square(img, np.zeros((50, 50), bool))
    labels = np.zeros((50, 50), np.int32)
    labels[mask], labels[m2] = 1, 2
    both = K.region_crops(img2, labels, [2, 1], size=11, expand=0.0)
    assert both.shape == (2, 1, 11, 11)
    assert np.array_equal(both[0, 0], K.scale_input(c2))


def test_augment_shapes_and_rotation():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(6, 1, 32, 32)
    y = K.augment(x, g)
    assert y.shape == x.shape and torch.isfinite(y).all()
    y0 = K.augment(x, g, max_shift=0.0, scale=(1.0, 1.0), brightness=(1.0, 1.0))
    # With only rotations left, each output is a 90° rotation of its input.
    for i in range(6):
        assert any(torch.allclose(y0[i], torch.rot90(x[i], k, dims=(-2, -1)), atol=1e-5)
                   for k in range(4))


def _toy(n=36, seed=0):
    """Three separable classes: alpha = one blob, beta = bipole, beta-x = mixed bipoles."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:32, 0:32]
    xs, ys = [], []
    for i in range(n):
        c = i % 3
        img = np.zeros((32, 32))
        blob = lambda cy, cx, s: np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / 20.0) * s  # noqa: E731
        if c == 0:
            img += blob(16, 16, 0.8)
        elif c == 1:
            img += blob(16, 10, 0.8) + blob(16, 22, -0.8)
        else:
            img += blob(10, 10, 0.8) + blob(10, 22, -0.8) + blob(22, 10, -0.8) + blob(22, 22, 0.8)
        xs.append(img + rng.normal(0, 0.05, img.shape))
        ys.append(c)
    return np.array(xs, dtype=np.float32)[:, None], np.array(ys), rng.uniform(-80, 80, n)


def test_zoned_loss_and_class_weights():
    assert class_weights([0, 0, 1], 3) == [0.5, 1.0, 0.0]  # N / (K · count), absent → 0
    logits = torch.randn(5, 3, requires_grad=True)
    target = torch.tensor([0, 1, 2, 0, 1])
    inner = torch.tensor([True, True, False, False, False])
    total, parts = zoned_cross_entropy(logits, target, inner)
    ce = torch.nn.functional.cross_entropy
    assert torch.isclose(parts["loss_inner"], ce(logits[:2], target[:2]))
    assert torch.isclose(total, ce(logits[:2], target[:2]) + ce(logits[2:], target[2:]))
    _, parts = zoned_cross_entropy(logits, target, torch.zeros(5, dtype=torch.bool))
    assert parts["loss_inner"] == 0


def test_dual_training_loss_falls_and_checkpoint_roundtrip(ray_session, tmp_path):
    x, y, lon = _toy()
    run = fit_classifier(x, y, lon, ClassifierTrainConfig(
        task="hale", model_config=TINY, epochs=8, batch_size=12, lr=3e-3, augment=False,
        storage_path=str(tmp_path / "runs"), run_name="hale", torch_threads=1),
        log=lambda *_: None)
    dual, cfg = run.model, run.model.config
    assert cfg.task == "hale" and cfg.in_size == 32
    for h in run.history.values():
        assert len(h) == 8 and h[-1] < h[0]
    p = dual.predict_proba(x, lon)
    assert p.shape == (len(x), 3) and np.allclose(p.sum(1), 1, atol=1e-5)
    rep = f1_report(y, p.argmax(1), cfg.classes)
    assert rep["macro_f1"] > 0.6
    path = save_model(dual, tmp_path / "hale.pt")
    ck = torch.load(path, weights_only=True)
    assert ck["model"] == "ar_classifier" and ck["config"]["classes"] == list(cfg.classes)
    again = load_model(path)
    assert np.allclose(again.predict_proba(x, lon), p, atol=1e-6)
    # The longitude decides the network: inner for |lon| ≤ 30°.
    assert list(dual.zone([-30.0, 29.9, 30.1, -75.0])) == [True, True, False, False]
    # The older layout dict(config, inner, outer) (DualClassifier.save) converts on load.
    old_cfg = {k: list(v) if isinstance(v, tuple) else v for k, v in ck["config"].items()
               if k in ("task", "classes", "in_size", "conv_channels", "pool", "fc", "dropout",
                        "lon_split_deg", "expand")}
    sd = dual.state_dict()
    torch.save({"config": {**old_cfg, "in_channels": 1},
                "inner": {k[6:]: v for k, v in sd.items() if k.startswith("inner.")},
                "outer": {k[6:]: v for k, v in sd.items() if k.startswith("outer.")}},
               tmp_path / "old.pt")
    old = load_model(tmp_path / "old.pt")
    assert old.config == cfg
    assert np.allclose(old.predict_proba(x, lon), p, atol=1e-6)
    torch.save({"config": {**old_cfg, "in_size": 48}, "inner": {}, "outer": {}},
               tmp_path / "broken.pt")
    with pytest.raises(ValueError, match=r"broken\.pt.*dict\(config=.*inner=state_dict"):
        load_model(tmp_path / "broken.pt")
    torch.save({"weights": {}}, tmp_path / "foreign.pt")
    with pytest.raises(ValueError, match=r"foreign\.pt: not a solarray model.*inner, outer"):
        load_model(tmp_path / "foreign.pt")


def test_forward_routes_by_zone():
    torch.manual_seed(0)
    m = build("ar_classifier", preset="tiny").eval()
    x = torch.randn(4, 1, 32, 32)
    lon = torch.tensor([0.0, 45.0, -20.0, float("nan")])
    out = m(x, lon)
    assert torch.allclose(out[[0, 2]], m.inner(x[[0, 2]]))
    assert torch.allclose(out[[1, 3]], m.outer(x[[1, 3]]))  # NaN longitude → outer
    assert m.predict(x, lon)[0] in m.config.classes
    with pytest.raises(ValueError, match="expects crops"):
        m(torch.randn(2, 1, 16, 16), lon[:2])


def test_f1_report_hand_computed():
    rep = f1_report([0, 0, 1, 1], [0, 1, 1, 1], ("alpha", "beta", "beta-x"))
    # alpha: P 1, R 0.5 → 2/3; beta: P 2/3, R 1 → 0.8; beta-x absent from both → NaN.
    assert rep["per_class"]["alpha"] == pytest.approx(2 / 3)
    assert rep["per_class"]["beta"] == pytest.approx(0.8)
    assert np.isnan(rep["per_class"]["beta-x"])
    assert rep["macro_f1"] == pytest.approx((2 / 3 + 0.8) / 2)


def test_config_errors():
    with pytest.raises(ValueError, match="task"):
        ClassifierConfig("zurich")
    with pytest.raises(ValueError, match="divisible"):
        ClassifierConfig("hale", in_size=30)
    assert ClassifierConfig("mcintosh").classes == ("A", "B", "C", "D", "E", "F", "H")


def test_samples_from_synthetic_sun(tmp_path):
    from solarray.data.synthetic import SynthConfig, generate

    generate(SynthConfig(hours=0.1, cadence_minutes=360, size=128, seed=1, channels=("hmi_m",),
                         preview=False), tmp_path / "syn")
    s = K.samples_from_directory(tmp_path / "syn", size=32)
    n = len(s["x"])
    assert n >= 2 and s["x"].shape == (n, 1, 32, 32)
    assert np.abs(s["x"]).max() <= 1.0 and np.abs(s["x"]).max() > 0.05  # scaled magnetogram
    assert s["hale"].max() < 3 and s["mcintosh"].max() < 7 and len(s["lon"]) == n


def _sun_crops(root, seeds) -> dict:
    """Labelled AR crops (32², :func:`samples_from_directory`) of one time step of each synthetic
    Sun ``seeds`` (256², ``hmi_m`` only, activity 3: ≈ 11 regions each, ≈ 1 s per Sun)."""
    from solarray.data.synthetic import SynthConfig, generate

    parts = []
    for seed in seeds:
        generate(SynthConfig(hours=0, size=256, seed=seed, activity=3.0, channels=("hmi_m",),
                             preview=False), root / f"sun{seed}")
        parts.append(K.samples_from_directory(root / f"sun{seed}", size=32))
    return {k: np.concatenate([p[k] for p in parts]) for k in ("x", "hale", "lon")}


def test_hale_classifier_beats_majority_on_held_out_suns(tmp_path):
    """Trained on the AR crops of 8 synthetic Suns, scored on those of 5 others (other
    generator seeds, so other regions), the Hale classifier must beat the majority class of its
    training crops in macro F1, and random guessing (≈ 0.33 for these class shares). Trained in
    process (:func:`train_helpers.train_in_process`) with :func:`fit_classifier`'s settings,
    no augmentation. Measured (Suns 0–7 / 8–12, 13–20 / 21–25, 26–33 / 34–38, 39–46 / 47–51,
    training seeds 0–2; and 8 random draws of 8 + 5 Suns from 60): macro F1 0.38–0.54 against
    the majority's 0.21–0.27, margin 0.13–0.30. At this size the classifier is only modestly
    above chance: trained on labels permuted across the crops it scored 0.17–0.54 (over the
    model sizes tried), so no permuted-label control is asserted. The benchmark
    (`benchmarks/iatools_classifier.py`, 512², 872 crops) scores 0.51 against 0.23."""
    train, test = _sun_crops(tmp_path, TRAIN_SUNS), _sun_crops(tmp_path, TEST_SUNS)
    seen = {c.tobytes() for c in train["x"]}
    assert not any(c.tobytes() in seen for c in test["x"])  # no test crop was trained on
    assert len(train["x"]) >= 80 and len(test["x"]) >= 50 and set(test["hale"]) == {0, 1, 2}
    cfg = ClassifierTrainConfig(task="hale", epochs=30, batch_size=16, lr=3e-3, augment=False,
                                model_config=dict(preset="tiny", conv_channels=(16, 32), fc=64,
                                                  dropout=0.2))
    lon = train["lon"].astype(np.float32)
    model = train_in_process(classifier_train_config(train["hale"], lon, cfg),
                             {"image": train["x"], "label": train["hale"], "lon": lon})
    classes = model.config.classes
    pred = model.predict_proba(test["x"], test["lon"]).argmax(1)
    macro_f1 = f1_report(test["hale"], pred, classes)["macro_f1"]
    major = np.bincount(train["hale"], minlength=len(classes)).argmax()
    majority = f1_report(test["hale"], np.full(len(pred), major), classes)["macro_f1"]
    assert majority < 0.3
    assert macro_f1 >= majority + 0.12 and macro_f1 >= 0.35
