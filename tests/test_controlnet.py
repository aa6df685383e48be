"""ControlNet-style translator (Shen 2025): zero-initialised control path, frozen encoder,
pretrained weights in both encoders."""

from __future__ import annotations

import pytest
import torch

from solarray.data.synthetic.toy import toy_samples
from solarray.models import build, save_model
from solarray.train.config import TrainConfig
from solarray.train.objectives import get_objective
from solarray.train.optim import build_optimizers, train_step

CH = ("hmi_m", "aia171", "aia193")
SMALL = {"preset": "tiny", "image_size": 32, "embed_dim": 32, "depth": 1, "num_heads": 2}


def _batch(n: int = 4) -> dict[str, torch.Tensor]:
    return {"image": torch.as_tensor(toy_samples(n, CH, size=32)["image"])}


def test_zero_convs_make_the_initial_output_the_base_generators():
    torch.manual_seed(0)
    model = get_objective("pix2pix", gan_weight=0).build_model(
        "controlnet_translator", SMALL, CH)
    assert model.config.outputs == ("aia171", "aia193")
    x = _batch()["image"][:, :1]
    model.eval()
    assert torch.equal(model(x), model.generator(x))
    model.train()
    assert not model.locked.training and model.control.training
    # the control path is really wired: non-zero zero-convs change the output
    with torch.no_grad():
        for conv in model.zero_convs:
            conv.weight.normal_(0, 0.1)
    model.eval()
    assert not torch.allclose(model(x), model.generator(x))


def test_frozen_encoder_gets_no_gradient_and_the_control_path_learns():
    torch.manual_seed(0)
    obj = get_objective("pix2pix")  # Model B phases
    model = obj.build_model("controlnet_translator", SMALL, CH)
    locked0 = {k: v.clone() for k, v in model.locked.state_dict().items()}
    zero0 = [c.weight.detach().clone() for c in model.zero_convs]
    opt, _ = build_optimizers(obj, model, TrainConfig(lr=1e-3), lambda s: 1.0)
    params = {id(p) for g in opt["generator"].param_groups for p in g["params"]}
    assert not any(id(p) in params for p in model.locked.parameters())
    scaler = torch.amp.GradScaler("cpu", enabled=False)
    for _ in range(2):
        loss, _, _ = train_step(obj, model, _batch(), opt, scaler, 0.0, False, "cpu", "test")
        assert torch.isfinite(loss)
    assert all(p.grad is None and not p.requires_grad for p in model.locked.parameters())
    assert all(torch.equal(v, model.locked.state_dict()[k]) for k, v in locked0.items())
    assert any(not torch.equal(a, c.weight) for a, c in zip(zero0, model.zero_convs, strict=True))


def test_pretrained_encoder_loads_into_both_encoders(tmp_path):
    torch.manual_seed(0)
    mae = build("mae_vit", preset="tiny", channels=("hmi_m", "aia304"), image_size=32,
                embed_dim=32, depth=1, num_heads=2)
    path = save_model(mae, tmp_path / "mae.pt")
    model = get_objective("pix2pix", gan_weight=0, pretrained=str(path)).build_model(
        "controlnet_translator", SMALL, CH)
    want = mae.encoder.patch_embed.weight[:, :1]  # hmi_m's slice of the MAE's embedding
    assert torch.equal(model.locked.patch_embed.weight, want)
    assert torch.equal(model.control.patch_embed.weight, want)
    assert torch.equal(model.locked.blocks[0].attn.qkv.weight, mae.encoder.blocks[0].attn.qkv.weight)
    with pytest.raises(ValueError, match="embed_dim"):
        get_objective("pix2pix", gan_weight=0, pretrained=str(path)).build_model(
            "controlnet_translator", {**SMALL, "embed_dim": 64}, CH)
