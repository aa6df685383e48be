"""ControlNet-style translator on SolarCHIP's CNN encoder (Shen 2025; Zhang 2023's zero layers):
the base generator at initialisation, the HMI encoder loaded exactly, the widths checked, and a
two-step Model A training at 128²; the translation benchmark's arms per backbone."""

from __future__ import annotations

import pytest
import torch

from solarray.benchmarks.solarchip_pretrain import pretrain_frames
from solarray.benchmarks.solarchip_translation import arm_plan, arm_run_name, cached_run
from solarray.data.synthetic.toy import toy_samples
from solarray.models import build, save_model
from solarray.models.pretrained import load_encoder
from solarray.train.config import TrainConfig
from solarray.train.objectives import get_objective
from solarray.train.optim import build_optimizers, train_step

pytestmark = pytest.mark.usefixtures("one_torch_thread", "torch_seed0")

CH = ("hmi_m", "aia171", "aia193")
WIDTHS = (8, 16, 32, 64)  # the SolarCHIP benchmark's CNN backbone: 16-px tokens
CNN = {"preset": "tiny", "encoder": "cnn", "widths": list(WIDTHS), "patch_size": 16}


def _solarchip_cnn(tmp_path, size: int = 64, widths=WIDTHS):
    model = build("solarchip_cnn", preset="tiny", channels=CH,
                  backbone_config={"preset": "tiny", "widths": list(widths), "image_size": size})
    with torch.no_grad():  # as if trained: no tensor left at its initial value (ones, zeros)
        for p in model.parameters():
            p.add_(0.1 * torch.randn_like(p))
    return model, save_model(model, tmp_path / "chip_cnn.pt")


def _translator(size: int = 64, pretrained: str = "", **over):
    return get_objective("pix2pix", gan_weight=0, pretrained=pretrained).build_model(
        "controlnet_translator", {**CNN, "image_size": size, **over}, CH)


def test_cnn_controlnet_is_the_base_generator_at_initialisation():
    model = _translator()
    assert model.config.outputs == ("aia171", "aia193")
    assert model.pretrained_encoder_kind == "cnn"
    x = torch.randn(2, 1, 64, 64)
    model.eval()
    assert torch.equal(model(x), model.generator(x))
    # the copy is fed and read: opening the zero layers changes the output
    with torch.no_grad():
        for conv in model.zero_convs:
            conv.weight.normal_(0, 0.1)
    opened = model(x)
    assert not torch.allclose(opened, model.generator(x))
    with torch.no_grad():
        model.control_in.weight.normal_(0, 0.1)
    assert not torch.allclose(model(x), opened)


def test_loader_copies_the_cnn_hmi_encoder_exactly(tmp_path):
    chip, path = _solarchip_cnn(tmp_path)
    model = _translator(pretrained=str(path))
    src = chip.encoders["hmi"]
    want = {**{f"encoder.{k}": v for k, v in src.encoder.state_dict().items()},
            **{f"token_norm.{k}": v for k, v in src.token_norm.state_dict().items()}}
    for enc in (model.locked, model.control):
        got = enc.state_dict()
        assert set(got) == set(want)
        assert all(torch.equal(got[k], v) for k, v in want.items())
    assert not any(torch.equal(v, chip.encoders["aia"].state_dict()[k])
                   for k, v in src.state_dict().items() if k.startswith("token_norm"))
    x = torch.randn(2, 1, 64, 64)
    with torch.no_grad():  # the locked map is SolarCHIP's own HMI patch tokens
        tokens = model.locked(x).flatten(2).transpose(1, 2)
        assert torch.allclose(tokens, src.encode(x)[1], atol=1e-6)


def test_loader_refuses_other_widths_and_kinds_naming_the_checkpoint(tmp_path):
    _, path = _solarchip_cnn(tmp_path)
    with pytest.raises(ValueError, match=r"chip_cnn\.pt.*widths: checkpoint \(8, 16, 32, 64\) "
                                         r"vs controlnet_translator \(16, 32, 64\)"):
        _translator(pretrained=str(path), widths=[16, 32, 64], patch_size=8)
    with pytest.raises(ValueError, match=r"chip_cnn\.pt.*backbone 'cnn_ae' has no ViT encoder"):
        load_encoder(build("controlnet_translator", preset="tiny", inputs=CH[:1],
                           outputs=CH[1:]), path)
    vit = save_model(build("solarchip_vit", preset="tiny", channels=CH), tmp_path / "vit.pt")
    with pytest.raises(ValueError, match=r"vit\.pt.*backbone 'vit_ae' has no CNN encoder"):
        _translator(pretrained=str(vit))
    with pytest.raises(ValueError, match="set patch_size=16"):
        _translator(patch_size=8)


def test_two_training_steps_at_128_from_the_solarchip_cnn(tmp_path):
    _, path = _solarchip_cnn(tmp_path, size=128)
    obj = get_objective("pix2pix", gan_weight=0, pretrained=str(path))
    model = obj.build_model("controlnet_translator", {**CNN, "image_size": 128}, CH)
    locked0 = {k: v.clone() for k, v in model.locked.state_dict().items()}
    zero0 = model.control_in.weight.detach().clone()
    opt, _ = build_optimizers(obj, model, TrainConfig(lr=1e-3), lambda s: 1.0)
    scaler = torch.amp.GradScaler("cpu", enabled=False)
    batch = {"image": torch.as_tensor(toy_samples(2, CH, size=128)["image"])}
    for _ in range(2):
        loss, _, _ = train_step(obj, model, batch, opt, scaler, 0.0, False, "cpu", "test")
        assert torch.isfinite(loss)
    assert all(torch.equal(v, model.locked.state_dict()[k]) for k, v in locked0.items())
    assert not torch.equal(zero0, model.control_in.weight)  # the control path learns


def test_translation_arms_per_backbone_keep_the_vit_run_names():
    plan = arm_plan({"chip_vit": {}, "chip_cnn": {}, "mae": {}})
    assert plan == {"chip_vit": ("vit", "chip_vit"), "scratch_vit": ("vit", ""),
                    "chip_cnn": ("cnn", "chip_cnn"), "scratch_cnn": ("cnn", ""),
                    "mae": ("vit", "mae")}
    assert list(arm_plan({"chip_cnn": {}})) == ["chip_cnn", "scratch_cnn"]
    assert arm_run_name("scratch_vit", 0.01, 0) == "translate_scratch_0.01_s0"
    assert arm_run_name("chip_vit", 1.0, 2) == "translate_chip_vit_1_s2"
    assert arm_run_name("scratch_cnn", 0.1, 1) == "translate_scratch_cnn_0.1_s1"


def test_a_cached_arm_run_is_reused_only_with_the_same_settings(tmp_path):
    _, path = _solarchip_cnn(tmp_path, size=32, widths=(8, 16))
    kw = dict(model="controlnet_translator", objective="pix2pix", channels=CH, steps=1,
              batch_size=2, lr=1e-3, seed=0,
              model_config={**CNN, "widths": [8, 16], "patch_size": 4, "image_size": 32,
                            "inputs": ["hmi_m"], "outputs": list(CH[1:])},
              objective_config={"gan_weight": 0.0, "pretrained": str(path), "instrument": "hmi"})
    run = tmp_path / "translate_chip_cnn_1_s0"
    assert cached_run(run, kw) is None
    done, _ = pretrain_frames(toy_samples(2, CH, size=32)["image"], run, **kw)
    assert cached_run(run, kw) == done
    assert cached_run(run, {**kw, "steps": 2}) is None  # not finished at 2 steps: train
    other = {**kw["objective_config"], "pretrained": str(tmp_path / "other.pt")}
    with pytest.raises(ValueError, match="other objective_config than asked"):
        cached_run(run, {**kw, "objective_config": other})
