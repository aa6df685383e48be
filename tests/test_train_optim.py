"""Several optimisers in the one loop (solarray.train.optim) and the adversarial losses
(solarray.losses.gan): a toy 1-D GAN learns the data's mean, each phase moves only its own
parameters, and optimiser state round-trips through a training checkpoint."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import pytest
import torch
from torch import nn

from solarray.losses.gan import discriminator_loss, generator_loss
from solarray.train.config import TrainConfig
from solarray.train.optim import OptimizerSet, build_optimizers, phases_of, train_step


def test_gan_losses_hand_values():
    real, fake = torch.tensor([0.0, 2.0]), torch.tensor([0.0, -1.0])
    sp = lambda x: math.log1p(math.exp(x))  # noqa: E731  softplus
    # BCE(real, 1) = softplus(-x); BCE(fake, 0) = softplus(x)
    want_d = 0.5 * ((sp(0) + sp(-2)) / 2 + (sp(0) + sp(-1)) / 2)
    assert discriminator_loss(real, fake).item() == pytest.approx(want_d, rel=1e-6)
    assert generator_loss(fake).item() == pytest.approx((sp(0) + sp(1)) / 2, rel=1e-6)
    want_ls = 0.5 * (((0 - 1) ** 2 + (2 - 1) ** 2) / 2 + (0 + 1) / 2)
    assert discriminator_loss(real, fake, mode="lsgan").item() == pytest.approx(want_ls)
    with pytest.raises(ValueError, match="wgan"):
        generator_loss(fake, mode="wgan")


class ToyGAN(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.gen = nn.Linear(1, 1)
        self.disc = nn.Sequential(nn.Linear(1, 16), nn.LeakyReLU(0.2), nn.Linear(16, 1))


@dataclass
class ToyGANObjective:
    objective_name: ClassVar[str] = "toy_gan"
    phases: ClassVar[tuple[str, ...]] = ("discriminator", "generator")

    def phase_parameters(self, model, phase):
        return (model.disc if phase == "discriminator" else model.gen).parameters()

    def phase_optimizer(self, phase):
        return {"lr": 2e-2, "betas": (0.5, 0.999), "weight_decay": 0.0}

    def step(self, model, batch, phase=None, shared=None):
        if "fake" not in shared:
            shared["fake"] = model.gen(torch.randn(len(batch["x"]), 1))
        fake = shared["fake"]
        if phase == "discriminator":
            loss = discriminator_loss(model.disc(batch["x"]), model.disc(fake.detach()))
        else:
            loss = generator_loss(model.disc(fake))
        return loss, {}


def test_phases_move_only_their_own_parameters_and_the_gan_learns():
    torch.manual_seed(0)
    model, obj = ToyGAN(), ToyGANObjective()
    cfg = TrainConfig(lr=1e-3, grad_clip=1.0)
    opt, sched = build_optimizers(obj, model, cfg, lambda s: 1.0)
    assert phases_of(obj) == ("discriminator", "generator")
    assert opt["generator"].param_groups[0]["lr"] == 2e-2  # the phase's override
    scaler = torch.amp.GradScaler("cpu", enabled=False)
    batch = {"x": 3.0 + 0.1 * torch.randn(64, 1)}

    # A discriminator-only update leaves the generator untouched.
    gen_before = [p.detach().clone() for p in model.gen.parameters()]
    disc_before = [p.detach().clone() for p in model.disc.parameters()]
    obj_d = ToyGANObjective()
    obj_d.phases = ("discriminator",)
    opt["discriminator"].zero_grad()
    loss, parts, _ = train_step(obj_d, model, batch, {"discriminator": opt["discriminator"]},
                                scaler, 1.0, False, "cpu", "test")
    assert "loss_discriminator" in parts
    assert all(torch.equal(a, b) for a, b in zip(gen_before, model.gen.parameters(), strict=True))
    assert not all(torch.equal(a, b)
                   for a, b in zip(disc_before, model.disc.parameters(), strict=True))

    for _ in range(600):
        batch = {"x": 3.0 + 0.1 * torch.randn(64, 1)}
        train_step(obj, model, batch, opt, scaler, 1.0, False, "cpu", "test")
        sched.step()
    with torch.no_grad():
        mean = model.gen(torch.randn(2000, 1)).mean().item()
    assert abs(mean - 3.0) < 0.5, mean  # started near 0: the generator followed the data

    state = opt.state_dict()
    assert set(state) == {"discriminator", "generator"}
    fresh, _ = build_optimizers(obj, ToyGAN(), cfg, lambda s: 1.0)
    fresh.load_state_dict(state)
    with pytest.raises(ValueError, match="no optimiser state for phase"):
        fresh.load_state_dict({"generator": state["generator"]})


def test_build_optimizers_rejects_orphan_and_shared_parameters():
    cfg = TrainConfig()

    class OnlyGen(ToyGANObjective):
        phases: ClassVar[tuple[str, ...]] = ("generator",)

    with pytest.raises(ValueError, match="belong to no objective phase"):
        build_optimizers(OnlyGen(), ToyGAN(), cfg, lambda s: 1.0)

    class Both(ToyGANObjective):
        def phase_parameters(self, model, phase):
            return model.parameters()

    with pytest.raises(ValueError, match="belongs to phases"):
        build_optimizers(Both(), ToyGAN(), cfg, lambda s: 1.0)
    single, _ = build_optimizers(object(), ToyGAN(), cfg, lambda s: 1.0)
    assert isinstance(single, torch.optim.AdamW) and not isinstance(single, OptimizerSet)
