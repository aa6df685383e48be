"""One translation run through the generic loop (:func:`solarray.train.loop.fit`).

Model A is ``gan_weight=0`` (L1 only, one optimiser); Model B ``gan_weight=1, l1_weight=100``
(discriminator and generator phases). Adam β = (0.5, 0.999), no weight decay, no gradient
clipping, as Pix2Pix; the learning rate is the TrainConfig's (Park 2019: 2e-4).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from solarray.data.dataset import channels_of
from solarray.train.config import TrainConfig
from solarray.train.loop import FitResult, fit
from solarray.train.objectives.pix2pix import resolve_outputs
from solarray.translate.data import training_datasets


@dataclass
class TranslationRun:
    """What to train. ``outputs`` empty: every data channel that is not an input."""

    inputs: tuple[str, ...] = ("hmi_m",)
    outputs: tuple[str, ...] = ()
    model: str = "pix2pix"  # or controlnet_translator
    preset: str = "tiny"
    model_config: dict = field(default_factory=dict)  # overrides, e.g. image_size
    gan_weight: float = 0.0  # 0: Model A; > 0: Model B
    l1_weight: float = 100.0
    pretrained: str = ""  # controlnet_translator: frozen encoder checkpoint
    steps: int = 300
    batch_size: int = 8
    lr: float = 2e-4
    seed: int = 0
    fraction: float = 1.0  # of the training pairs
    num_workers: int = 0
    run_name: str = "translate"
    storage_path: str = "ray_results"
    validate: bool = False

    def train_config(self, channels: Sequence[str]) -> TrainConfig:
        mc = {"preset": self.preset, **self.model_config, "inputs": list(self.inputs)}
        if self.outputs:
            mc["outputs"] = list(self.outputs)
        oc: dict[str, Any] = {"gan_weight": self.gan_weight, "l1_weight": self.l1_weight}
        if self.pretrained:
            oc["pretrained"] = os.path.abspath(self.pretrained)
        return TrainConfig(model=self.model, model_config=mc, objective="pix2pix",
                           objective_config=oc, channels=tuple(channels), steps=self.steps,
                           batch_size=self.batch_size, lr=self.lr, betas=(0.5, 0.999),
                           weight_decay=0.0, warmup_steps=0, min_lr_ratio=1.0, grad_clip=0.0,
                           seed=self.seed, report_every=max(1, min(50, self.steps)),
                           checkpoint_every=self.steps, num_to_keep=1,
                           num_workers=self.num_workers, run_name=self.run_name,
                           storage_path=self.storage_path, shuffle_buffer=64)


def run_channels(run: TranslationRun, available: Sequence[str]) -> tuple[str, ...]:
    """The data channels the run reads: its inputs then its outputs."""
    outputs = resolve_outputs(run.inputs, run.outputs, (), [c for c in available])
    return (*run.inputs, *outputs)


def train_translation(run: TranslationRun, data_dir: str | os.PathLike | None = None,
                      datasets: tuple[Any, Any] | None = None,
                      channels: Sequence[str] = (), log: Callable[[str], None] = print
                      ) -> FitResult:
    """Train from ``data_dir``'s shards (time-split training part, ``fraction`` of it) or from
    ready Ray ``datasets`` ``(train, val or None)`` whose ``image`` holds ``channels``."""
    if datasets is None:
        if data_dir is None:
            raise ValueError("train_translation needs data_dir or datasets")
        channels = run_channels(run, channels_of(os.fspath(data_dir)))
        datasets = training_datasets(data_dir, channels, run.fraction, run.seed,
                                     val=run.validate)
    elif not channels:
        raise ValueError("train_translation with datasets needs their channel names")
    train, val = datasets
    cfg = run.train_config(channels)
    n = train.count()
    if n < cfg.batch_size:
        cfg = cfg.replace(batch_size=max(1, n))
    return fit(cfg, train, val_ds=val, log=log)


__all__ = ["TranslationRun", "run_channels", "train_translation"]
