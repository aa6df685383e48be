"""MAE (mae_vit): masked-patch loss, masking strategies through the model, checkpoints, learning,
and `solarray pretrain --model mae_vit --masking ppam`."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pytest
import torch

from solarray.core.channels import CATALOGUE
from solarray.losses.mae import mae_loss, normalise_patches
from solarray.models import build, load_model, save_model
from solarray.train.objectives import get_objective, objective_for_model

CH = ("aia304", "hmi_m")


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _active_batch(b=4, size=32, seed=0):
    """Scaled [B, 2, size, size]: weak noise, plus a strong-field blob in the top-left quadrant of
    the magnetogram (|B| ≈ 1200 G > the 150 G PPAM threshold)."""
    g = torch.Generator().manual_seed(seed)
    x = 0.01 * torch.randn(b, 2, size, size, generator=g)
    x[:, 1, : size // 4, : size // 4] = 0.8
    return x


def test_mae_loss_counts_only_masked_patches():
    g = torch.Generator().manual_seed(0)
    pred, target = torch.randn(2, 6, 12, generator=g), torch.randn(2, 6, 12, generator=g)
    mask = torch.tensor([[1, 0, 1, 0, 0, 0], [0, 0, 0, 1, 1, 1]], dtype=torch.bool)
    want = ((pred - target) ** 2).mean(-1)[mask].mean()
    assert torch.allclose(mae_loss(pred, target, mask), want)
    pred2 = pred.clone()
    pred2[~mask] += 100.0  # visible patches do not count
    assert torch.allclose(mae_loss(pred2, target, mask), want)
    with pytest.raises(ValueError, match="no masked patch"):
        mae_loss(pred, target, torch.zeros(2, 6, dtype=torch.bool))


def test_norm_pix_targets_are_affine_invariant_per_patch():
    g = torch.Generator().manual_seed(1)
    pred, target = torch.randn(3, 5, 16, generator=g), torch.randn(3, 5, 16, generator=g)
    mask = torch.ones(3, 5, dtype=torch.bool)
    scaled = target * torch.rand(3, 5, 1, generator=g).add(0.5) + torch.randn(3, 5, 1, generator=g)
    a = mae_loss(pred, target, mask, norm_pix=True)
    b = mae_loss(pred, scaled, mask, norm_pix=True)
    assert torch.allclose(a, b, atol=1e-4)
    n = normalise_patches(target)
    assert torch.allclose(n.mean(-1), torch.zeros(3, 5), atol=1e-5)


def test_absent_channel_pixels_do_not_count():
    g = torch.Generator().manual_seed(2)
    pred, target = torch.randn(2, 4, 2 * 9, generator=g), torch.randn(2, 4, 2 * 9, generator=g)
    mask = torch.ones(2, 4, dtype=torch.bool)
    present = torch.tensor([[1.0, 0.0], [1.0, 1.0]])
    a = mae_loss(pred, target, mask, present=present, channels=2)
    pred2 = pred.clone().reshape(2, 4, 9, 2)
    pred2[0, :, :, 1] += 50.0  # channel 1 of sample 0 is absent
    assert torch.allclose(a, mae_loss(pred2.reshape(2, 4, 18), target, mask, present=present,
                                      channels=2))


def test_forward_shapes_any_channel_count_and_exact_ratio():
    names = tuple(CATALOGUE)  # all 14 channels
    m = build("mae_vit", preset="tiny", channels=names, image_size=32, masking={"ratio": 0.75})
    x = torch.randn(2, len(names), 32, 32)
    out = m(x)
    n = m.num_patches
    assert n == 16 and out.pred.shape == (2, n, 8 * 8 * len(names)) == out.target.shape
    assert out.mask.shape == (2, n) and int(out.mask.sum(1)[0]) == 12 and out.keep_idx.shape == (2, 4)
    loss = m.loss(out)
    assert loss.ndim == 0 and torch.isfinite(loss)
    rec = m.reconstruct(out)
    visible = ~out.mask[0]
    from solarray.models.layers import patchify

    assert torch.allclose(patchify(rec, 8)[0][visible], out.target[0][visible])
    assert m.embed(x)["cls"].shape == (2, 64)


def test_ppam_keeps_active_patches_and_is_deterministic():
    m = build("mae_vit", preset="tiny", channels=CH, image_size=32,
              masking={"strategy": "ppam", "ratio": 0.75, "asymmetry": 20.0})
    x = _active_batch(b=64)
    res = m.mask(x, generator=torch.Generator().manual_seed(3))
    # Active patches: the top-left 8×8 pixels = patch 0 (row-major 4×4 grid), dilated into 1, 4, 5.
    kept_active = (~res.mask[:, 0]).float().mean()
    assert kept_active > 0.8  # random masking keeps a patch 25 % of the time
    rnd = build("mae_vit", preset="tiny", channels=CH, image_size=32).mask(
        x, generator=torch.Generator().manual_seed(3))
    assert (~rnd.mask[:, 0]).float().mean() < 0.5
    again = m.mask(x, generator=torch.Generator().manual_seed(3))
    assert torch.equal(again.keep_idx, res.keep_idx)
    assert (res.mask.sum(1) == 12).all()


def test_ar_mask_prior_and_config_errors():
    m = build("mae_vit", preset="tiny", channels=("aia304",), image_size=32,
              masking={"strategy": "ppam"}, prior="ar_mask")
    x = torch.randn(2, 1, 32, 32)
    with pytest.raises(ValueError, match="ar_mask"):
        m(x)
    ar = torch.zeros(2, 32, 32)
    ar[:, 24:, 24:] = 1
    out = m(x, ar_mask=ar)
    assert out.mask.shape == (2, 16)
    with pytest.raises(ValueError, match="hmi_m"):
        build("mae_vit", preset="tiny", channels=("aia304",), masking={"strategy": "ppam"})
    with pytest.raises(ValueError, match="strategy"):
        build("mae_vit", preset="tiny", channels=CH, masking={"strategy": "checkerboard"})
    with pytest.raises(ValueError, match="unknown key"):
        build("mae_vit", preset="tiny", channels=CH, masking={"ratoi": 0.5})
    with pytest.raises(ValueError, match="expects"):
        build("mae_vit", preset="tiny", channels=CH, image_size=32)(torch.randn(1, 3, 32, 32))


def test_checkpoint_round_trip_keeps_masking(tmp_path):
    m = build("mae_vit", preset="tiny", channels=CH, image_size=32, norm_pix_loss=True,
              masking={"strategy": "ppam", "ratio": 0.6, "band_deg": (10.0, 30.0)})
    save_model(m, tmp_path / "mae.pt")
    m2 = load_model(tmp_path / "mae.pt")
    assert m2.masking == m.masking and m2.config.norm_pix_loss
    x = _active_batch(b=2)
    torch.manual_seed(0)
    a = m.eval()(x, generator=torch.Generator().manual_seed(0)).pred
    b = m2.eval()(x, generator=torch.Generator().manual_seed(0)).pred
    assert torch.allclose(a, b)


def test_objective_loss_decreases():
    assert objective_for_model("mae_vit") == "mae"
    obj = get_objective(None, "mae_vit")
    torch.manual_seed(0)
    model = obj.build_model("mae_vit", {"preset": "tiny", "image_size": 32,
                                        "masking": {"strategy": "ppam"}}, CH)
    from solarray.data.synthetic.toy import toy_samples

    cols = toy_samples(8, CH, size=32, seed=0)
    batch = {"image": torch.from_numpy(cols["image"]), "present": torch.ones(8, 2)}
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3)
    losses = []
    for _ in range(30):
        loss, parts = obj.step(model, batch)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(parts["loss_rec"]))
    assert np.mean(losses[-5:]) < 0.6 * np.mean(losses[:5])


def _write_toy_shards(out_dir, n=24, size=32):
    from solarray.data.grouping import sample_id_of
    from solarray.data.shards import write_shard
    from solarray.data.synthetic.toy import toy_samples

    cols = toy_samples(n, CH, size=size, seed=0)
    t0 = datetime(2024, 2, 10)
    rows = [{"t_obs": t0 + timedelta(hours=i), "sample_id": sample_id_of(t0 + timedelta(hours=i)),
             "image": cols["image"][i], "present": np.ones(2, bool), "meta": "{}",
             "labels": {"flare_class_24h": "M1.0" if cols["flare_m24"][i] else "C1.0",
                        "f107": float(cols["f107"][i]), "f30": float(cols["f30"][i])}}
            for i in range(n)]
    write_shard(rows, str(out_dir), CH)


def test_pretrain_cli_mae_ppam(ray_session, tmp_path, capsys):
    from solarray.cli import main

    data = tmp_path / "shards"
    data.mkdir()
    _write_toy_shards(data)
    cfg = tmp_path / "mae.yaml"
    cfg.write_text("model_config:\n  preset: tiny\n  image_size: 32\n")
    assert main(["pretrain", "--model", "mae_vit", "--masking", "ppam", "--mask-ratio", "0.5",
                 "--data", str(data), "--workers", "0", "--steps", "4", "--batch-size", "4",
                 "--config", str(cfg), "--storage", str(tmp_path / "runs"), "--run-name", "mae",
                 "--no-split"]) == 0
    model = load_model(tmp_path / "runs" / "mae" / "checkpoint_00000004")
    assert model.model_name == "mae_vit" and model.masking.strategy == "ppam"
    assert model.masking.ratio == 0.5 and model.config.channels == CH
    assert main(["pretrain", "--model", "vit_ae", "--masking", "ppam", "--data", str(data)]) == 2
    assert "has no masking" in capsys.readouterr().err
    assert main(["pretrain", "--model", "mae_vit", "--mask-ratio", "1.5", "--data", str(data)]) == 2
    assert "--mask-ratio" in capsys.readouterr().err
