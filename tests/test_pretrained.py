"""The one pretrained-encoder loader: SolarCHIP per instrument, MAE, ViT AE → SPNet, FPNet and the
Hale/McIntosh classifier; field checks and channel subsets."""

from __future__ import annotations

import pytest
import torch

from solarray.models import build, save_model
from solarray.models.pretrained import encoder_settings, load_encoder

pytestmark = pytest.mark.usefixtures("one_torch_thread", "torch_seed0")

CHANNELS = ("aia193", "aia304", "hmi_m")
VIT = dict(patch_size=8, embed_dim=64, depth=2, num_heads=4)  # solarchip_vit tiny's backbone


@pytest.fixture
def solarchip(tmp_path):
    model = build("solarchip_vit", preset="tiny", channels=CHANNELS)
    with torch.no_grad():  # as if trained: no tensor left at a shared initial value (ones, zeros)
        for p in model.parameters():
            p.add_(torch.randn_like(p))
    return model, save_model(model, tmp_path / "solarchip.pt")


def _source(model, instrument: str) -> dict[str, torch.Tensor]:
    return model.encoders[instrument].encoder.state_dict()


def _assert_equal(encoder: torch.nn.Module, source: dict[str, torch.Tensor]) -> None:
    state = encoder.state_dict()
    assert set(state) == set(source)
    for k, v in source.items():
        assert torch.equal(state[k], v), k


def test_solarchip_aia_and_hmi_encoders_both_arrive_intact(solarchip):
    sc, path = solarchip
    aia, hmi = _source(sc, "aia"), _source(sc, "hmi")
    spnet_aia = build("spnet", preset="tiny", channels=("aia193", "aia304"))
    spnet_hmi = build("spnet", preset="tiny", channels=("hmi_m",))
    keys = load_encoder(spnet_aia, path, instrument="aia")
    assert "cls_token" in keys and "patch_embed.weight" in keys and "blocks.1.mlp.2.weight" in keys
    load_encoder(spnet_hmi, path, instrument="hmi")
    _assert_equal(spnet_aia.encoder, aia)
    _assert_equal(spnet_hmi.encoder, hmi)
    # Two different encoders: the HMI weights did not overwrite the AIA ones.
    got_aia, got_hmi = spnet_aia.encoder.state_dict(), spnet_hmi.encoder.state_dict()
    for k in aia:
        if k != "patch_embed.weight":  # different channel counts
            assert not torch.equal(got_aia[k], got_hmi[k]), k


def test_solarchip_instrument_inferred_from_channels_or_ambiguous(solarchip):
    sc, path = solarchip
    fp = build("fpnet", preset="tiny", channels=("hmi_m",))  # one HMI channel: the HMI encoder
    load_encoder(fp, path)
    _assert_equal(fp.encoder, _source(sc, "hmi"))
    mixed = build("spnet", preset="tiny", channels=("aia193", "hmi_m"))
    with pytest.raises(ValueError, match="two encoders.*pass instrument='aia' or 'hmi'"):
        load_encoder(mixed, path)
    with pytest.raises(ValueError, match="instrument must be one of"):
        load_encoder(mixed, path, instrument="eit")
    assert encoder_settings(path, instrument="aia")["channels"] == ("aia193", "aia304")
    assert encoder_settings(path, instrument="hmi")["embed_dim"] == 64


def test_channel_subsets_as_before(solarchip):
    sc, path = solarchip
    src = _source(sc, "aia")["patch_embed.weight"]  # channels (aia193, aia304)
    sp = build("spnet", preset="tiny", channels=("aia304", "aia211"))
    before = sp.encoder.patch_embed.weight.detach().clone()
    load_encoder(sp, path, instrument="aia")  # SPNet: a subset of its channels is fine
    w = sp.encoder.patch_embed.weight
    assert torch.equal(w[:, 0], src[:, 1])  # aia304 by name
    assert torch.equal(w[:, 1], before[:, 1])  # aia211: not in the checkpoint, initial weights
    fp = build("fpnet", preset="tiny", channels=("aia304", "aia211"))
    with pytest.raises(ValueError, match="channels.*same channel set"):
        load_encoder(fp, path, instrument="aia")  # FPNet: the same channel set only


def test_classifier_vit_backbone_takes_the_hmi_encoder(solarchip):
    sc, path = solarchip
    clf = build("ar_classifier", preset="tiny", backbone="vit", **VIT)
    load_encoder(clf, path)
    _assert_equal(clf.inner.encoder, _source(sc, "hmi"))
    _assert_equal(clf.outer.encoder, _source(sc, "hmi"))
    with pytest.raises(ValueError, match="no ViT encoder"):
        load_encoder(build("ar_classifier", preset="tiny"), path)


def test_mae_and_vit_ae_checkpoints_and_field_checks(tmp_path):
    mae = build("mae_vit", preset="tiny", channels=CHANNELS)
    path = save_model(mae, tmp_path / "mae.pt")
    sp = build("spnet", preset="tiny", channels=("hmi_m",), image_size=32)
    load_encoder(sp, path)  # a different image size is fine (fixed sin-cos positions)
    assert torch.equal(sp.encoder.patch_embed.weight[:, 0], mae.encoder.patch_embed.weight[:, 2])
    assert torch.equal(sp.encoder.blocks[1].attn.qkv.weight, mae.encoder.blocks[1].attn.qkv.weight)
    with pytest.raises(ValueError, match="depth: checkpoint 2 vs spnet 3"):
        load_encoder(build("spnet", preset="tiny", channels=("hmi_m",), depth=3), path)
    with pytest.raises(ValueError, match="single encoder"):
        load_encoder(sp, path, instrument="hmi")
    vit = save_model(build("vit_ae", preset="tiny", in_channels=2), tmp_path / "vit.pt")
    with pytest.raises(ValueError, match="2 unnamed channel"):
        load_encoder(sp, vit)  # channel names unknown: the count must match
    cnn = build("solarchip_cnn", preset="tiny", channels=CHANNELS)
    with pytest.raises(ValueError, match="no ViT encoder"):
        load_encoder(sp, save_model(cnn, tmp_path / "cnn.pt"), instrument="hmi")
    with pytest.raises(FileNotFoundError):
        load_encoder(sp, tmp_path / "missing.pt")
