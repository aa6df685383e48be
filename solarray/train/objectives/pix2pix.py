"""The translation objective (``pix2pix``) for ``pix2pix`` and ``controlnet_translator``.

One objective, two of Park 2019's models:

* **Model A** (``gan_weight=0``): L1 between generated and target images; one optimiser, no
  phases, and the model is built without a discriminator;
* **Model B** (``gan_weight > 0``, default 1 with ``l1_weight=100``: Isola 2017's λ = 100): the
  conditional GAN. Two phases of the generic loop, in order ``discriminator`` (PatchGAN on
  (input, real) vs (input, generated-without-gradient)) then ``generator`` (non-saturating GAN
  loss + λ·L1), each with Adam 2e-4, β = (0.5, 0.999), no weight decay.

The batch's ``image`` ``[B, C, H, W]`` holds the data's channels (``channels`` at build time);
the model's ``inputs`` are read from it and its ``outputs`` are the targets. ``outputs`` left
empty in the model config means "every other channel of ``pool``" (``pool`` empty: of the
data) — how a channel-selection trial predicts the channels it does not see. Target channels a
sample lacks (``present`` 0) are left out of the L1.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch
from torch import nn

from solarray.losses.gan import GAN_MODES, discriminator_loss, generator_loss
from solarray.train.objectives.base import build_model_for, register_objective

PHASES = ("discriminator", "generator")


def resolve_outputs(inputs: Iterable[str], outputs: Iterable[str], pool: Iterable[str],
                    channels: Iterable[str]) -> tuple[str, ...]:
    """The channels a translation model generates: ``outputs`` if given, else ``pool`` (or the
    data ``channels``) without the ``inputs``."""
    inputs = tuple(inputs)
    out = tuple(outputs) or tuple(c for c in (tuple(pool) or tuple(channels)) if c not in inputs)
    if not out:
        raise ValueError(f"no channel left to generate from inputs {list(inputs)}")
    return out


def channel_positions(wanted: Iterable[str], channels: Iterable[str], what: str) -> list[int]:
    channels = list(channels)
    missing = [c for c in wanted if c not in channels]
    if missing:
        raise ValueError(f"the training data lacks {what} channel(s) {missing} "
                         f"(it holds {channels})")
    return [channels.index(c) for c in wanted]


def pearson(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Pearson r per channel over batch and pixels: ``[B, C, H, W]`` × 2 → ``[C]``."""
    a = a.transpose(0, 1).flatten(1).float()
    b = b.transpose(0, 1).flatten(1).float()
    a = a - a.mean(1, keepdim=True)
    b = b - b.mean(1, keepdim=True)
    return (a * b).sum(1) / ((a * a).sum(1) * (b * b).sum(1)).sqrt().clamp_min(1e-12)


@register_objective("pix2pix")
@dataclass
class Pix2PixObjective:
    models: ClassVar[tuple[str, ...]] = ("pix2pix", "controlnet_translator")
    required: ClassVar[dict[str, torch.dtype]] = {"image": torch.float32}
    optional: ClassVar[dict[str, torch.dtype]] = {"present": torch.float32}

    gan_weight: float = 1.0  # 0 → Model A (L1 only, one optimiser)
    l1_weight: float = 100.0  # λ of Isola 2017 / Park 2019
    gan_mode: str = "vanilla"
    pool: tuple[str, ...] = ()  # channels to predict when the model's outputs are unset
    lr: float = 0.0  # per-phase Adam rate; 0 → the TrainConfig's lr (Park 2019: 2e-4)
    betas: tuple[float, float] = (0.5, 0.999)
    pretrained: str = ""  # controlnet_translator: checkpoint of the frozen encoder
    instrument: str = ""  # SolarCHIP encoder to load ("hmi"/"aia"); empty: from the inputs
    _index: dict = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.gan_mode not in GAN_MODES:
            raise ValueError(f"pix2pix objective: gan_mode must be one of {', '.join(GAN_MODES)}, "
                             f"got {self.gan_mode!r}")
        if self.gan_weight < 0 or self.l1_weight < 0 or self.gan_weight + self.l1_weight == 0:
            raise ValueError("pix2pix objective: weights must be >= 0 and not both 0")
        self.pool = tuple(self.pool)
        self.betas = tuple(float(b) for b in self.betas)

    @property
    def phases(self) -> tuple[str, ...]:
        return PHASES if self.gan_weight > 0 else ()

    def build_model(self, model_name: str, model_config: Mapping[str, Any],
                    channels: tuple[str, ...]) -> nn.Module:
        cfg = dict(model_config)
        inputs = tuple(cfg.get("inputs") or ("hmi_m",))
        outputs = resolve_outputs(inputs, cfg.get("outputs") or (), self.pool, channels)
        self._index = {"inputs": channel_positions(inputs, channels, "input"),
                       "outputs": channel_positions(outputs, channels, "output")}
        fields: dict[str, Any] = {"inputs": inputs, "outputs": outputs,
                                  "discriminator": self.gan_weight > 0}
        return build_model_for(self, model_name, {**cfg, **fields}, pretrained=self.pretrained,
                               instrument=self.instrument)

    def phase_parameters(self, model: nn.Module, phase: str) -> Iterable[nn.Parameter]:
        core = getattr(model, "module", model)
        disc = list(core.discriminator.parameters())
        if phase == "discriminator":
            return disc
        owned = {id(p) for p in disc}
        return [p for p in core.parameters() if id(p) not in owned]

    def phase_optimizer(self, phase: str) -> dict[str, Any]:
        hp: dict[str, Any] = {"betas": self.betas, "weight_decay": 0.0}
        if self.lr > 0:
            hp["lr"] = self.lr
        return hp

    def _split(self, batch: dict[str, torch.Tensor]):
        if not self._index:
            raise RuntimeError("pix2pix objective: build_model must run before step")
        image = torch.nan_to_num(batch["image"])
        x = image[:, self._index["inputs"]]
        y = image[:, self._index["outputs"]]
        weight = None
        if "present" in batch:
            weight = batch["present"][:, self._index["outputs"]][:, :, None, None].float()
        return x, y, weight

    @staticmethod
    def _l1(fake: torch.Tensor, y: torch.Tensor, weight: torch.Tensor | None) -> torch.Tensor:
        err = (fake - y).abs()
        if weight is None:
            return err.mean()
        w = weight.expand_as(err)
        return (err * w).sum() / w.sum().clamp_min(1.0)

    def step(self, model: nn.Module, batch: dict[str, torch.Tensor], phase: str | None = None,
             shared: dict | None = None) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        x, y, weight = self._split(batch)
        if phase is None:
            if self.gan_weight > 0:
                raise ValueError("pix2pix objective with gan_weight > 0 runs in phases")
            fake = model(x)
            l1 = self._l1(fake, y, weight)
            return self.l1_weight * l1, {"l1": l1.detach()}
        if phase == "discriminator":
            real_logits, fake_logits = model(x, y, mode="discriminator")
            loss = discriminator_loss(real_logits, fake_logits, self.gan_mode)
            return loss, {"d_real": torch.sigmoid(real_logits).mean().detach(),
                          "d_fake": torch.sigmoid(fake_logits).mean().detach()}
        if phase == "generator":
            fake, fake_logits = model(x, mode="generator")
            l1 = self._l1(fake, y, weight)
            adv = generator_loss(fake_logits, self.gan_mode)
            return self.gan_weight * adv + self.l1_weight * l1, {"l1": l1.detach(),
                                                                 "g_adv": adv.detach()}
        raise ValueError(f"pix2pix objective: unknown phase {phase!r}")

    @torch.no_grad()
    def evaluate(self, model: nn.Module, batch: dict[str, torch.Tensor]) -> dict[str, float]:
        """Validation: L1 and Pearson r per generated channel (scaled units), their mean and min
        (the channel-selection score)."""
        x, y, weight = self._split(batch)
        fake = model(x)
        r = pearson(fake, y)
        core = getattr(model, "module", model)
        out = {"l1": float(self._l1(fake, y, weight)), "cc_mean": float(r.mean()),
               "cc_min": float(r.min())}
        out.update({f"cc_{c}": float(v) for c, v in zip(core.config.outputs, r, strict=True)})
        return out


__all__ = ["Pix2PixObjective", "channel_positions", "pearson", "resolve_outputs"]
