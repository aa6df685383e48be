"""Pix2Pix (Park 2019): shapes, Isola init, the objective's phases, a learning test against the
mean-image baseline (measured here, with a noise-input ablation), and training through
``solarray pretrain --model pix2pix`` (the generic loop)."""

from __future__ import annotations

import argparse

import numpy as np
import pytest
import torch

from solarray.data.synthetic.toy import toy_samples
from solarray.models import build, load_model, save_model
from solarray.models.pix2pix import Pix2PixConfig
from solarray.train.config import TrainConfig
from solarray.train.objectives import get_objective
from solarray.train.optim import build_optimizers, train_step
from solarray.translate.baselines import LinearFromB, MeanImage
from solarray.translate.evaluation import score_channels
from solarray.translate.predict import check_outputs, generate

CH = ("hmi_m", "aia171", "aia193")
SIZE = 32
MARGIN = 0.15  # average CC a trained model must beat the mean training image by


def test_depth_follows_image_size_and_shapes():
    assert Pix2PixConfig(**Pix2PixConfig.PRESETS["paper"], outputs=("aia171",)).depth == 8
    for size, depth in ((32, 3), (64, 4), (128, 5)):
        m = build("pix2pix", preset="tiny", image_size=size, inputs=("aia171", "aia193"),
                  outputs=("aia94", "aia304", "hmi_m"))
        assert m.config.depth == depth and len(m.generator.downs) == depth
        x = torch.randn(2, 2, size, size)
        y = m(x)
        assert y.shape == (2, 3, size, size) and y.abs().max() <= 1
        real, fake = m(x, torch.zeros(2, 3, size, size), mode="discriminator")
        assert real.shape == fake.shape and real.shape[:2] == (2, 1)
    with pytest.raises(ValueError, match=r"expects \[B, 2, 32, 32\]"):
        m = build("pix2pix", preset="tiny", image_size=32, inputs=("aia171", "aia193"),
                  outputs=("aia94",))
        m(torch.zeros(1, 3, 32, 32))
    with pytest.raises(ValueError, match="both inputs and outputs"):
        Pix2PixConfig(inputs=("hmi_m",), outputs=("hmi_m",))
    with pytest.raises(ValueError, match="outputs is empty"):
        build("pix2pix", preset="tiny")


def test_isola_init_and_model_a_has_no_discriminator():
    torch.manual_seed(0)
    m = build("pix2pix", preset="small", image_size=64, outputs=("aia171",))
    convs = [mod.weight for mod in m.modules() if isinstance(mod, torch.nn.Conv2d | torch.nn.ConvTranspose2d)]
    w = torch.cat([c.flatten() for c in convs])
    assert abs(w.mean().item()) < 2e-3 and w.std().item() == pytest.approx(0.02, rel=0.05)
    bn = torch.cat([mod.weight for mod in m.modules() if isinstance(mod, torch.nn.BatchNorm2d)])
    assert bn.mean().item() == pytest.approx(1.0, abs=0.01) and bn.std().item() < 0.03
    drops = [mod for mod in m.generator.ups.modules() if isinstance(mod, torch.nn.Dropout)]
    assert len(drops) == 3 and all(d.p == 0.5 for d in drops)
    a = get_objective("pix2pix", gan_weight=0).build_model("pix2pix", {"preset": "tiny"},
                                                            ("hmi_m", "aia171"))
    assert a.discriminator is None and a.config.outputs == ("aia171",)
    # Model A's one optimiser is Park 2019's Adam: β = (0.5, 0.999), no weight decay, whatever
    # the TrainConfig's AdamW defaults
    cfg = TrainConfig(model="pix2pix", betas=(0.9, 0.95), weight_decay=0.05, lr=2e-4)
    opt, _ = build_optimizers(get_objective("pix2pix", gan_weight=0), a, cfg, lambda s: 1.0)
    group = opt.param_groups[0]
    assert group["betas"] == (0.5, 0.999) and group["weight_decay"] == 0.0 and group["lr"] == 2e-4


def test_gan_phases_update_only_their_own_parameters():
    torch.manual_seed(0)
    obj = get_objective("pix2pix")  # Model B: λ = 100, vanilla cGAN
    assert obj.phases == ("discriminator", "generator")
    model = obj.build_model("pix2pix", {"preset": "tiny", "image_size": SIZE}, CH)
    opt, _ = build_optimizers(obj, model, TrainConfig(lr=2e-4), lambda s: 1.0)
    assert opt["generator"].defaults["betas"] == (0.5, 0.999)
    batch = {"image": torch.as_tensor(toy_samples(4, CH, size=SIZE)["image"])}
    d0 = [p.detach().clone() for p in model.discriminator.parameters()]
    g0 = [p.detach().clone() for p in model.generator.parameters()]
    scaler = torch.amp.GradScaler("cpu", enabled=False)
    loss, parts, _ = train_step(obj, model, batch, opt, scaler, 0.0, False, "cpu", "test")
    assert torch.isfinite(loss) and {"l1", "g_adv", "d_real", "loss_discriminator"} <= set(parts)
    assert any(not torch.equal(a, b) for a, b in zip(d0, model.discriminator.parameters(), strict=True))
    assert any(not torch.equal(a, b) for a, b in zip(g0, model.generator.parameters(), strict=True))


def _train(x: np.ndarray, y: np.ndarray, steps: int = 300) -> torch.nn.Module:
    """Model A (L1) in process: the objective's step with the loop's optimiser code."""
    torch.manual_seed(0)
    obj = get_objective("pix2pix", gan_weight=0)
    model = obj.build_model("pix2pix", {"preset": "tiny", "image_size": SIZE}, CH)
    opt, _ = build_optimizers(obj, model, TrainConfig(lr=2e-3, betas=(0.5, 0.999),
                                                      weight_decay=0.0), lambda s: 1.0)
    scaler = torch.amp.GradScaler("cpu", enabled=False)
    image = torch.as_tensor(np.concatenate([x, y], axis=1))
    rng = np.random.default_rng(0)
    for _ in range(steps):
        idx = rng.choice(len(image), 16, replace=False)
        train_step(obj, model, {"image": image[idx]}, opt, scaler, 0.0, False, "cpu", "test")
    return model


def test_tiny_pix2pix_beats_the_mean_image_and_fails_on_noise(one_torch_thread):
    train = toy_samples(96, CH, size=SIZE, seed=0)["image"]
    test = toy_samples(32, CH, size=SIZE, seed=1)["image"]
    outs = list(CH[1:])
    mean_cc = score_channels(MeanImage().fit(train[:, 1:]).predict(len(test)), test[:, 1:],
                             outs)["average"]["cc"]
    lin = LinearFromB().fit(train[:, 0], train[:, 1:])
    lin_cc = score_channels(lin.predict(test[:, 0]), test[:, 1:], outs)["average"]["cc"]
    model = _train(train[:, :1], train[:, 1:])
    model_cc = score_channels(generate(model, test[:, :1]), test[:, 1:], outs)["average"]["cc"]
    print(f"mean image {mean_cc:.3f}, linear |B| {lin_cc:.3f}, pix2pix {model_cc:.3f}")
    assert model_cc > mean_cc + MARGIN

    rng = np.random.default_rng(7)
    noise = rng.standard_normal(train[:, :1].shape).astype(np.float32) * 0.3
    ablated = _train(noise, train[:, 1:])
    test_noise = rng.standard_normal(test[:, :1].shape).astype(np.float32) * 0.3
    ablated_cc = score_channels(generate(ablated, test_noise), test[:, 1:],
                                outs)["average"]["cc"]
    print(f"pix2pix on noise inputs {ablated_cc:.3f}")
    assert ablated_cc < mean_cc + MARGIN


def test_pretrain_command_trains_pix2pix_and_checkpoint_names_channels(ray_session, tmp_path):
    from solarray.commands import pretrain

    parser = argparse.ArgumentParser()
    pretrain.add_arguments(parser)
    args = parser.parse_args(["--toy", "16", "--model", "pix2pix", "--preset", "tiny",
                              "--image-size", "32", "--steps", "3", "--batch-size", "4",
                              "--workers", "0", "--storage", str(tmp_path), "--name", "p2p"])
    result = pretrain.execute(args)
    assert result.final_step == 3
    model = load_model(result.checkpoint)
    assert model.config.inputs == ("hmi_m",)
    assert set(model.config.outputs) == {"aia171", "aia193", "aia304"}
    assert model.discriminator is not None  # Model B by default
    check_outputs(model, ["aia171"])
    with pytest.raises(ValueError, match=r"not trained to generate \['aia94'\]"):
        check_outputs(model, ["aia94"])
    save_model(model, tmp_path / "m.pt")
    assert load_model(tmp_path / "m.pt").config.outputs == model.config.outputs
