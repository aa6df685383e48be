"""SolarCHIP downstream (SolarCHIP 2025's flare-classification arm): the pieces against hand
values, and a tiny learning test where contrastive pretraining must help at 1 % labels."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from solarray.benchmarks.solarchip import label_draws
from solarray.benchmarks.solarchip_downstream import (
    STRONG_FIELD_G,
    Backbone,
    FinetuneConfig,
    disk_statistics,
    features,
    finetune,
    label_subset,
    pooled_pixels,
    probe,
    verify,
)
from solarray.metrics.bootstrap import roca, tss
from solarray.models import build
from solarray.train.objectives import get_objective

pytestmark = pytest.mark.usefixtures("one_torch_thread", "torch_seed0")

CH = ("aia171", "aia304", "hmi_m")
S = 32


def test_label_subset_is_stratified_and_sized():
    y = np.array([0] * 90 + [1] * 10)
    idx = label_subset(y, 0.1, seed=0)
    assert len(idx) == 10 and y[idx].sum() == 1 and len(set(idx)) == 10
    tiny = label_subset(y, 0.01, seed=1)  # 1 % of 100 → 2 (one of each class at least)
    assert len(tiny) == 2 and set(y[tiny]) == {0, 1}
    assert (label_subset(y, 1.0, seed=0) == np.arange(100)).all()
    assert not np.array_equal(label_subset(y, 0.1, 0), label_subset(y, 0.1, 1))


def test_tss_pooled_pixels_and_verify_hand_values():
    y = np.array([1, 1, 0, 0, 0])
    assert tss(y, np.array([1, 0, 1, 0, 0])) == pytest.approx(0.5 - 1 / 3)
    assert tss(np.ones(3), np.ones(3)) is None
    img = np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4)
    assert pooled_pixels(img, 2)[0].tolist() == [2.5, 4.5, 10.5, 12.5]
    # A perfect ranking on val and test: ROCA 1 and a threshold separating the classes.
    p = np.array([0.9, 0.8, 0.3, 0.2, 0.1])
    s, cal, yes = verify(y, p, y, p)
    assert s["roca"] == pytest.approx(1.0) and s["tss"] == pytest.approx(1.0)
    assert yes.tolist() == [1, 1, 0, 0, 0] and np.all(np.diff(cal) <= 0)


def test_disk_statistics_hand_values():
    img = np.zeros((1, 2, 2, 2), np.float32)
    img[0, 0] = [[-0.5, 0.0], [0.01, 0.2]]  # hmi_m, scaled by 1500 G: |B| 750, 0, 15, 300 G
    img[0, 1] = [[-1.0, 0.0], [0.5, 1.0]]  # aia171
    f = disk_statistics(img, ("hmi_m", "aia171"))[0]
    strong = np.mean(np.abs(img[0, 0]) * 1500 > STRONG_FIELD_G)  # 750 and 300 G: 0.5
    assert strong == 0.5
    assert f[:3] == pytest.approx([0.71 / 4, 0.5, 0.5])
    assert f[3:5] == pytest.approx([0.125, 1.0])
    assert f[5] == pytest.approx(0.5 + 0.985 * 0.5)  # numpy's linear 99.5th percentile
    with pytest.raises(KeyError):
        disk_statistics(img, ("hmi_m", "aia999"))


def test_max_readout_adds_the_max_patch_token():
    model = build("solarchip_vit", channels=CH, backbone_config={
        "preset": "tiny", "image_size": S, "patch_size": 8})
    x = torch.randn(3, len(CH), S, S)
    mean_net = Backbone.of_solarchip(model, readout="mean")
    max_net = Backbone.of_solarchip(model, readout="max")
    assert max_net.dim == mean_net.dim * 3 // 2
    enc = model.encoders["aia"]
    _, patches = enc.encode(x.index_select(1, torch.tensor(model.channel_index("aia"))))
    d = _embed(enc)
    with torch.no_grad():
        f = max_net(x)
    assert f.shape == (3, max_net.dim)
    assert torch.allclose(f[:, 2 * d:3 * d], patches.amax(dim=1), atol=1e-6)
    assert torch.allclose(mean_net(x).detach()[:, :2 * d], f[:, :2 * d], atol=1e-6)
    with pytest.raises(ValueError, match="readout"):
        Backbone.of_solarchip(model, readout="median")


def _embed(enc) -> int:
    return int(getattr(enc, "embed_dim", None) or enc.config.embed_dim)


def test_label_draws_first_draw_is_the_seed_and_all_labels_once():
    y = np.array([0] * 90 + [1] * 10)
    draws = label_draws(y, 0.1, seed=2, draws=3)
    assert [d for d, _ in draws] == [2, 1002, 2002]
    assert np.array_equal(draws[0][1], label_subset(y, 0.1, 2))
    assert len({tuple(i) for _, i in draws}) == 3
    assert [(d, len(i)) for d, i in label_draws(y, 1.0, seed=2, draws=3)] == [(2, 100)]


def _toy(n: int, seed: int, amp: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """One bit c shared by both instruments, the sign of a weak east-west gradient (amplitude
    ``amp``), under strong instrument-specific nuisance (per channel an independent blob of
    strength U(0, 3) at a random place and noise σ = 0.3). Label: c. The bit is the only thing
    AIA and HMI share, so a contrastively aligned encoder must encode it and ignore the blobs,
    while a random encoder's features are dominated by the blobs: with four labels only the
    aligned one can find it."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:S, 0:S].astype(np.float32)
    ramp = (xx - S / 2) / (S / 2)
    c = rng.integers(0, 2, n)
    img = (amp * (2 * c - 1))[:, None, None, None] * np.broadcast_to(ramp, (n, 3, S, S))
    img = img.astype(np.float32)
    centre = rng.uniform(0, S, (n, 3, 2))
    strength = rng.uniform(0, 3, (n, 3))
    blob = np.exp(-((yy - centre[..., 0, None, None]) ** 2
                    + (xx - centre[..., 1, None, None]) ** 2) / 30.0)
    img += (strength[..., None, None] * blob).astype(np.float32)
    img += 0.3 * rng.standard_normal(img.shape).astype(np.float32)
    return img, c


def _model(seed: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    return build("solarchip_vit", preset="tiny", channels=CH,
                 backbone_config={"image_size": S, "patch_size": 8, "embed_dim": 32,
                                  "decoder_dim": 32, "depth": 1})


def _pretrain(model: torch.nn.Module, x: np.ndarray, steps: int, seed: int) -> None:
    obj = get_objective(None, "solarchip_vit")
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3)
    rng = np.random.default_rng(seed)
    xt = torch.from_numpy(x)
    for _ in range(steps):
        loss, _ = obj.step(model, {"image": xt[torch.from_numpy(rng.integers(0, len(x), 64))]})
        opt.zero_grad()
        loss.backward()
        opt.step()


def _probe_roca(model: torch.nn.Module, x_lab, y_lab, x_test, y_test, draws=3) -> float:
    net = Backbone.of_solarchip(model)
    f_lab, f_test = features(net, x_lab), features(net, x_test)
    out = []
    for s in range(draws):
        idx = label_subset(y_lab, 0.01, s)
        (p,) = probe(f_lab[idx], y_lab[idx], [f_test])
        out.append(roca(y_test, p))
    return float(np.mean(out))


def test_pretrained_encoder_beats_scratch_at_one_percent_and_not_when_randomised():
    x_unlab, _ = _toy(384, 0)
    x_lab, y_lab = _toy(400, 1)  # 1 % → 4 labels
    x_test, y_test = _toy(300, 2)
    chip = _model(0)
    _pretrain(chip, x_unlab, steps=120, seed=0)
    scratch = _model(100)
    base = _probe_roca(scratch, x_lab, y_lab, x_test, y_test)
    gain = _probe_roca(chip, x_lab, y_lab, x_test, y_test) - base
    assert gain > 0.2, f"pretrained − scratch ROCA at 1 % labels {gain:+.3f}"
    # The ablation: the pretrained weights replaced by random ones → the same check fails.
    chip.load_state_dict(_model(7).state_dict())
    ablated = _probe_roca(chip, x_lab, y_lab, x_test, y_test) - base
    assert ablated < 0.2, f"random weights still gain {ablated:+.3f}: the problem is too easy"
    # Fine-tuning runs end to end on the same backbone and returns probabilities.
    (p,) = finetune(Backbone.of_solarchip(_model(1)), x_lab[:8], y_lab[:8], [x_test[:5]],
                    FinetuneConfig(steps=2, batch_size=4), seed=0)
    assert p.shape == (5,) and ((p >= 0) & (p <= 1)).all()
