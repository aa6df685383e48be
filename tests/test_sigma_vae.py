"""sigma_vae: model shapes and presets, the objective, a learning test against ablated inputs,
and `solarray pretrain --model sigma_vae` through the generic Ray Train loop."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from solarray.cli import main
from solarray.compress.report import metrics_for
from solarray.data.synthetic.toy import toy_samples
from solarray.models import build, load_model, save_model
from solarray.models.sigma_vae import SEED_CHANNELS
from solarray.train.objectives import get_objective, objective_for_model
from tests.vae_helpers import CH, train_in_process, untrained, write_toy_shards


def test_paper_preset_is_the_seed_encoder():
    m = build("sigma_vae", preset="paper", bottleneck=512)
    assert m.config.channels == SEED_CHANNELS and len(SEED_CHANNELS) == 12
    convs = [layer.conv for layer in m.encoder]
    assert [c.out_channels for c in convs] == [64, 128, 256, 512, 512, 512, 512, 512]
    assert [c.kernel_size[0] for c in convs] == [4, 4, 4, 4, 4, 3, 3, 3]
    assert [c.stride[0] for c in convs] == [2, 2, 1, 1, 1, 1, 2, 2]
    assert m.fc_mu.out_features == 512 and m.config.feature_size == 4  # unpadded: Table 1
    # last decoder layer: no BN/ReLU, outputs the 12 channels
    assert m.decoder[-1].bn is None and m.decoder[-1].conv.out_channels == 12


@pytest.mark.parametrize("preset,mode", [("tiny", "scalar"), ("tiny", "channel"),
                                         ("tiny", "analytic"), ("small", "scalar")])
def test_shapes_sigma_modes_and_checkpoint(tmp_path, preset, mode, one_torch_thread):
    chans = ("aia94", "aia171", "aia1600", "hmi_bx", "hmi_by", "hmi_bz", "hmi_m")
    m = build("sigma_vae", preset=preset, channels=chans, sigma_mode=mode)
    s = m.config.image_size
    x = torch.randn(2, len(chans), s, s)
    out = m(x)
    assert out["recon"].shape == x.shape
    assert out["mu"].shape == out["logsigma"].shape == (2, m.config.bottleneck)
    assert {"scalar": (), "channel": (len(chans),), "analytic": None}[mode] == \
        (None if m.log_sigma is None else tuple(m.log_sigma.shape))
    m.eval()
    path = save_model(m, tmp_path / "vae.pt")
    back = load_model(path).eval()
    assert back.config.channels == chans and back.config.sigma_mode == mode
    torch.testing.assert_close(back(x)["recon"], m(x)["recon"])


def test_default_channels_are_the_seed_set_when_the_shards_hold_it():
    from solarray.train.loop import default_channels

    extra = ("hmi_m", *SEED_CHANNELS[::-1])  # shards with all 12 and more, in another order
    assert default_channels("sigma_vae", extra) == SEED_CHANNELS
    partial = SEED_CHANNELS[:-1]  # no hmi_bz: every channel of the shards
    assert default_channels("sigma_vae", partial) == partial
    assert default_channels("solarchip_vit", extra) == extra  # no preferred set


def test_config_errors():
    with pytest.raises(KeyError, match="unknown channel"):
        build("sigma_vae", preset="tiny", channels=("aia999",))
    with pytest.raises(ValueError, match="sigma_mode"):
        build("sigma_vae", preset="tiny", sigma_mode="learned")
    with pytest.raises(ValueError, match="total stride"):
        build("sigma_vae", preset="tiny", image_size=36)
    m = build("sigma_vae", preset="tiny", channels=CH)
    with pytest.raises(ValueError, match=r"expects \[B, 3, 32, 32\]"):
        m.encode(torch.zeros(1, 2, 32, 32))
    with pytest.raises(ValueError, match="objective: loss"):
        get_objective("sigma_vae", loss="l1")


def test_objective_registered_and_beta_variant(one_torch_thread):
    assert objective_for_model("sigma_vae") == "sigma_vae"
    imgs = toy_samples(48, CH, size=32, seed=1)["image"]
    for loss in ("sigma", "beta"):
        obj = get_objective("sigma_vae", loss=loss, beta=0.5)
        torch.manual_seed(0)
        model = obj.build_model("sigma_vae", {"preset": "tiny"}, CH)
        opt = torch.optim.AdamW(model.parameters(), lr=2e-3)
        x = torch.from_numpy(imgs)
        first = None
        for _ in range(40):
            loss_v, parts = obj.step(model, {"image": x[:16], "present": torch.ones(16, 3)})
            first = first if first is not None else float(loss_v.detach())
            opt.zero_grad()
            loss_v.backward()
            opt.step()
        assert float(loss_v.detach()) < first, loss
        model.eval()
        ev = obj.evaluate(model, {"image": x[16:32]})
        assert set(ev) == {"loss", "mse", "kl", "corr"} and -1 <= ev["corr"] <= 1


def test_training_beats_untrained_and_fails_on_noise(one_torch_thread):
    """A few hundred steps on toy Suns raise held-out on-disk pixel correlation well above the
    untrained model; the same training on noise images does not."""
    data = toy_samples(96, CH, size=32, seed=3)["image"]
    train, test = data[:64], data[64:]
    noise = np.random.default_rng(0).normal(0.0, 0.5, train.shape).astype(np.float32)

    def corr(model):
        return float(np.mean([r["pixel_correlation"] for r in metrics_for(model, test, CH)]))

    trained, losses = train_in_process(train, steps=300)
    ablated, _ = train_in_process(noise, steps=300)
    base, good, bad = corr(untrained()), corr(trained), corr(ablated)
    assert losses[-1] < losses[0]
    print(f"untrained {base:.3f} trained {good:.3f} noise-trained {bad:.3f}")
    assert good > base + 0.2, (base, good, bad)
    assert good > bad + 0.2, (base, good, bad)


@pytest.mark.slow
def test_pretrain_cli_through_the_generic_loop(ray_session, tmp_path, capsys):
    """`solarray pretrain --model sigma_vae` in-process (Ray Train local mode: the same loop and
    objective; the loop's multi-worker Ray Train path, model-independent, is tested in
    tests/test_pretrain_cli.py)."""
    data = write_toy_shards(tmp_path / "shards", 40)
    storage = tmp_path / "runs"
    config = tmp_path / "train.yaml"
    config.write_text("torch_threads: 1\nwarmup_steps: 2\nreport_every: 3\n"
                      "objective_config: {loss: sigma}\nmodel_config: {sigma_mode: channel}\n")
    assert main(["pretrain", "--model", "sigma_vae", "--preset", "tiny", "--data", str(data),
                 "--workers", "0", "--steps", "6",
                 "--batch-size", "8", "--checkpoint-every", "6", "--run-name", "vae",
                 "--storage", str(storage), "--config", str(config)]) == 0
    assert "Finished run 'vae' at step 6" in capsys.readouterr().out
    metrics = [json.loads(s) for s in (storage / "vae" / "metrics.jsonl").read_text().splitlines()]
    assert metrics[-1]["step"] == 6 and np.isfinite(metrics[-1]["loss"])
    assert {"kl", "rec", "mse", "log_sigma"} <= set(metrics[-1])
    model = load_model(storage / "vae" / "checkpoint_00000006")
    assert model.model_name == "sigma_vae" and model.config.channels == CH
    assert model.config.sigma_mode == "channel" and tuple(model.log_sigma.shape) == (3,)
