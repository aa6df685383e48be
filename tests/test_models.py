"""Model registry, ViT/CNN autoencoders, SolarCHIP model, checkpoints (no Ray)."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import pytest
import torch

from solarray.core.channels import CATALOGUE
from solarray.models import build, list_models, load_model, save_model
from solarray.models.layers import patchify, sincos_pos_embed_2d, unpatchify
from solarray.models.registry import get_model_class, make_config
from solarray.models.solarchip import split_modalities
from solarray.models.vit import ViTAEConfig

ALL13 = [c for c in CATALOGUE if c != "hmi_ic"]  # 9 AIA + 4 HMI channels
SMALL_VIT = {"image_size": 32, "patch_size": 8, "embed_dim": 32, "decoder_dim": 32}


pytestmark = pytest.mark.usefixtures("one_torch_thread", "torch_seed0")


def test_registry_lists_and_errors():
    names = list_models()
    for n in ("vit_ae", "cnn_ae", "solarchip_vit", "solarchip_cnn"):
        assert n in names
    with pytest.raises(KeyError, match="known models: .*solarchip_vit"):
        build("no_such_model")
    with pytest.raises(KeyError, match="known presets: tiny, small, paper"):
        build("vit_ae", preset="huge", in_channels=3)
    with pytest.raises(TypeError, match="unknown config field.*colour"):
        build("vit_ae", preset="tiny", in_channels=3, colour=1)
    with pytest.raises(ValueError, match="in_channels.*from the data"):
        build("vit_ae", preset="tiny")


def test_presets_differ_and_paper_is_vit_base():
    tiny = make_config(ViTAEConfig, "tiny", in_channels=13)
    paper = make_config(ViTAEConfig, "paper", in_channels=13)
    assert (paper.embed_dim, paper.depth, paper.num_heads, paper.patch_size) == (768, 12, 12, 16)
    assert tiny.embed_dim < paper.embed_dim and paper.in_channels == 13


@pytest.mark.parametrize("name,kw", [
    ("vit_ae", {"in_channels": 2}), ("mae_vit", {"channels": ("aia171", "hmi_m")}),
    ("solarchip_vit", {"channels": ("aia171", "hmi_m")}),
    ("spnet", {"channels": ("hmi_m", "aia193")}), ("fpnet", {"channels": ("hmi_m", "aia193")})])
def test_small_preset_sits_between_tiny_and_paper_at_128px(name, kw):
    cls = get_model_class(name).config_class
    small = make_config(cls, "small", **kw)
    tiny = make_config(cls, "tiny", **kw)
    size = getattr(small, "image_size", None) or small.backbone_config["image_size"]
    assert size == 128
    params = {p: sum(t.numel() for t in build(name, preset=p, **kw).parameters())
              for p in ("tiny", "small")}
    assert params["tiny"] < params["small"] < 10e6, params
    assert dataclasses.asdict(small) != dataclasses.asdict(tiny)


def test_models_import_without_ray():
    code = "import sys, solarray.models as m; m.list_models(); assert 'ray' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_every_family_is_registered_by_importing_any_models_module():
    # The registry no longer imports the families (no cycle); the package does, first.
    code = ("from solarray.models.registry import list_models; "
            "assert {'ar_classifier', 'fpnet', 'mae_vit', 'spnet', 'solarchip_vit', 'vit_ae'} "
            "<= set(list_models()), list_models()")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_patchify_roundtrip_and_sincos():
    x = torch.randn(2, 13, 32, 32)
    p = patchify(x, 8)
    assert p.shape == (2, 16, 8 * 8 * 13)
    # Patch 1 is the second patch of the first row: columns 8..15.
    assert torch.equal(p[0, 1].view(8, 8, 13).permute(2, 0, 1), x[0, :, 0:8, 8:16])
    assert torch.equal(unpatchify(p, 8, 13, (4, 4)), x)
    pe = sincos_pos_embed_2d(32, 4, 4, cls_token=True)
    assert pe.shape == (17, 32) and torch.all(pe[0] == 0)
    # Distinct positions get distinct codes; sin²+cos² = 1 per frequency pair (16 pairs per row).
    assert torch.unique(pe[1:], dim=0).shape[0] == 16
    assert torch.allclose((pe[1:] ** 2).sum(1), torch.full((16,), 16.0))


@pytest.mark.parametrize("name,extra", [("vit_ae", SMALL_VIT),
                                        ("cnn_ae", {"image_size": 32, "widths": (8, 16, 32),
                                                    "embed_dim": 32})])
def test_backbone_shapes_13_channels(name, extra):
    m = build(name, preset="tiny", in_channels=13, **extra)
    x = torch.randn(3, 13, 32, 32)
    cls, patches = m.encode(x)
    assert cls.shape == (3, 32) and patches.shape == (3, 16, 32)
    assert m.grid_size == (4, 4) and m.patch_size == 8 and m.num_patches == 16
    assert m.decode(cls, patches).shape == x.shape
    assert m(x).shape == x.shape
    with pytest.raises(ValueError, match="expects \\[B, 13, 32, 32\\]"):
        m.encode(torch.randn(1, 12, 32, 32))


def test_vit_encode_subset_of_patches():
    m = build("vit_ae", preset="tiny", in_channels=4, **SMALL_VIT).eval()
    x = torch.randn(2, 4, 32, 32)
    keep = torch.stack([torch.randperm(16)[:5] for _ in range(2)])
    cls, vis = m.encode(x, keep_idx=keep)
    assert cls.shape == (2, 32) and vis.shape == (2, 5, 32)
    # With every patch kept (in order), the subset path equals the full encoder.
    all_idx = torch.arange(16).expand(2, -1)
    full = m.encode(x)
    sub = m.encode(x, keep_idx=all_idx)
    assert torch.allclose(full[0], sub[0], atol=1e-5) and torch.allclose(full[1], sub[1], atol=1e-5)
    # Fewer tokens change the class token (attention only sees the kept patches).
    assert not torch.allclose(cls, full[0], atol=1e-4)
    assert m.decode(cls, vis, keep_idx=keep).shape == x.shape


def test_checkpoint_roundtrip_weights_only(tmp_path):
    ch = ["aia171", "aia193", "hmi_m"]
    m = build("solarchip_cnn", preset="tiny", channels=ch,
              backbone_config={"image_size": 32, "widths": [8, 16], "embed_dim": 16}).eval()
    path = save_model(m, tmp_path / "m.pt")
    ckpt = torch.load(path, weights_only=True)
    assert ckpt["model"] == "solarchip_cnn" and ckpt["config"]["channels"] == ch
    m2 = load_model(path).eval()
    assert m2.config == m.config
    x = torch.randn(2, 3, 32, 32)
    assert torch.allclose(m(x)["g_aia"], m2(x)["g_aia"])
    save_model(m, tmp_path / "ckpt_dir" / "model.pt")  # a training checkpoint directory
    assert load_model(tmp_path / "ckpt_dir").config == m.config
    with pytest.raises(FileNotFoundError):
        load_model(tmp_path / "missing.pt")


def test_solarchip_splits_by_instrument_from_catalogue():
    split = split_modalities(ALL13)
    assert [ALL13[i] for i in split["HMI"]] == ["hmi_m", "hmi_bx", "hmi_by", "hmi_bz"]
    assert len(split["AIA"]) == 9
    with pytest.raises(ValueError, match="at least one HMI channel"):
        split_modalities(["aia171", "aia193"])
    m = build("solarchip_vit", preset="tiny", channels=["hmi_m", "aia171", "aia304"],
              backbone_config=SMALL_VIT)
    assert m.encoders["aia"].config.in_channels == 2 and m.encoders["hmi"].config.in_channels == 1
    x = torch.randn(2, 3, 32, 32)
    out = m(x)
    assert torch.equal(out["target_hmi"], x[:, :1]) and torch.equal(out["target_aia"], x[:, 1:])
    assert out["l_aia"].shape == out["l_hmi"].shape == (2, 16, 64)
    assert out["recon_aia"].shape == (2, 2, 32, 32)
    with pytest.raises(ValueError, match="channels must list"):
        build("solarchip_vit", preset="tiny")
