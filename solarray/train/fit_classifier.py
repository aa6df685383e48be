"""Fit the Hale/McIntosh classifier (``ar_classifier``) with the generic Ray Train loop.

``fit_classifier(x, y, lon, ClassifierTrainConfig(task="hale"))`` turns labelled crops (e.g.
:func:`solarray.analysis.crops.samples_from_directory`) into a Ray Dataset, trains both longitude
zones through the ``ar_classifier`` objective (:func:`solarray.train.loop.fit`, local mode by
default) and returns the trained model with its loss history per zone.

The optimiser is configured as SA-AI 2025's classifier training: constant learning rate (no
warm-up, no cosine decay), no gradient clipping, Adam moments (0.9, 0.999) with a small weight
decay (AdamW, decoupled), ``epochs`` shuffled passes over the crops in full ``batch_size``
batches (the loop drops each epoch's last partial batch), per-zone inverse-frequency class
weights. One report per epoch: the history holds each zone's mean loss per epoch.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from solarray.analysis.crops import CROP_CHANNEL
from solarray.losses.classification import class_weights
from solarray.models import build, load_model
from solarray.models.classifier import MODEL_NAME, ARClassifier
from solarray.train.config import TrainConfig
from solarray.train.loop import fit

#: Rows held by the loop's local shuffle buffer (≈ 100 kB per 160² crop).
MAX_SHUFFLE_ROWS = 4096


@dataclass
class ClassifierTrainConfig:
    """One classifier training run. ``model_config``: :class:`ClassifierConfig` fields (and
    ``preset``) besides ``task``."""

    task: str = "hale"
    model_config: dict = field(default_factory=dict)
    epochs: int = 10
    batch_size: int = 32
    lr: float = 1e-3
    weight_decay: float = 1e-4
    augment: bool = True
    class_balance: bool = True  # inverse-frequency loss weights per zone (SA-AI 2025: imbalance)
    seed: int = 0
    pretrained_encoder: str = ""  # ViT backbone only (model_config backbone="vit")
    pretrained_instrument: str = ""
    storage_path: str = "ray_results"
    run_name: str = "ar_classifier"
    num_workers: int = 0  # 0: in-process (Ray Train local mode)
    torch_threads: int = 0

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size"):
            if int(getattr(self, name)) <= 0:
                raise ValueError(f"ClassifierTrainConfig.{name} must be a positive integer, "
                                 f"got {getattr(self, name)!r}")


@dataclass
class ClassifierFit:
    """A trained classifier, its mean loss per report (≈ per epoch) for each zone and the
    training run's checkpoint directory (``None`` when there was nothing to train on)."""

    model: ARClassifier
    history: dict[str, list[float]]
    checkpoint: Path | str | None


def classifier_rows(x: np.ndarray, y: np.ndarray, lon: np.ndarray, seed: int = 0):
    """A Ray Dataset of ``image``/``label``/``lon`` rows (one per crop, in a seeded random
    order; the loop reshuffles every epoch with its local shuffle buffer)."""
    import ray

    order = np.random.default_rng(seed).permutation(len(x))
    return ray.data.from_items([{"image": x[i].astype(np.float32), "label": np.int64(y[i]),
                                 "lon": np.float32(lon[i])} for i in order])


def _history(metrics_file: Path) -> dict[str, list[float]]:
    rows = [json.loads(s) for s in metrics_file.read_text().splitlines() if s.strip()] \
        if metrics_file.exists() else []
    return {z: [r[f"loss_{z}"] for r in rows if f"loss_{z}" in r] for z in ("inner", "outer")}


def _untrained(cfg: ClassifierTrainConfig) -> ARClassifier:
    """The model ``cfg`` describes, initialised from ``cfg.seed`` (its config fully resolved)."""
    mc = {**cfg.model_config, "task": cfg.task}
    torch.manual_seed(cfg.seed)
    return build(MODEL_NAME, preset=mc.get("preset"),
                 **{k: v for k, v in mc.items() if k != "preset"})


def classifier_train_config(y: np.ndarray, lon_deg: np.ndarray,
                            cfg: ClassifierTrainConfig) -> TrainConfig:
    """The generic loop's run for ``cfg`` on class indices ``y`` [N] (N > 0) and longitudes
    ``lon_deg`` [N] (deg): per-zone class weights, ``epochs`` passes of full batches
    (steps = epochs · (N // batch)), SA-AI 2025's optimiser (see module docstring)."""
    y, lon = np.asarray(y, np.int64), np.asarray(lon_deg, np.float64)
    mc = {**cfg.model_config, "task": cfg.task}
    probe = _untrained(cfg)  # the resolved config: classes, longitude zones
    n_cls = len(probe.config.classes)
    inner = probe.zone(lon)
    weights = {z: class_weights(y[sel], n_cls) if cfg.class_balance else []
               for z, sel in (("inner", inner), ("outer", ~inner))}
    batch = min(cfg.batch_size, len(y))
    per_epoch = len(y) // batch  # full batches (the loop drops a last partial one)
    steps = cfg.epochs * per_epoch
    tcfg = TrainConfig(
        model=MODEL_NAME, model_config=mc, objective="ar_classifier",
        objective_config={"class_weights_inner": weights["inner"],
                          "class_weights_outer": weights["outer"], "augment": cfg.augment,
                          "seed": cfg.seed, "pretrained_encoder": cfg.pretrained_encoder,
                          "pretrained_instrument": cfg.pretrained_instrument},
        channels=(CROP_CHANNEL,), steps=steps, batch_size=batch, lr=cfg.lr,
        weight_decay=cfg.weight_decay, betas=(0.9, 0.999), warmup_steps=0, min_lr_ratio=1.0,
        grad_clip=0.0, amp=False, seed=cfg.seed, shuffle_buffer=min(len(y), MAX_SHUFFLE_ROWS),
        report_every=per_epoch, checkpoint_every=steps, num_to_keep=1,
        run_name=cfg.run_name, storage_path=cfg.storage_path, num_workers=cfg.num_workers,
        torch_threads=cfg.torch_threads,
    )
    return tcfg


def fit_classifier(x: np.ndarray, y: np.ndarray, lon_deg: np.ndarray,
                   cfg: ClassifierTrainConfig | None = None,
                   log: Callable[[str], None] = print) -> ClassifierFit:
    """Train an ``ar_classifier`` on crops ``x`` [N, 1, S, S] (scaled), class indices ``y`` [N]
    and longitudes ``lon_deg`` [N] (deg). Returns the model in eval mode."""
    cfg = cfg or ClassifierTrainConfig()
    x, y = np.asarray(x, np.float32), np.asarray(y, np.int64)
    lon = np.asarray(lon_deg, np.float64)
    if len(x) == 0:
        return ClassifierFit(_untrained(cfg).eval(), {"inner": [], "outer": []}, None)
    tcfg = classifier_train_config(y, lon, cfg)
    result = fit(tcfg, classifier_rows(x, y, lon, cfg.seed), log=log)
    if result.checkpoint is None:
        raise RuntimeError(f"classifier run {cfg.run_name!r} wrote no checkpoint")
    return ClassifierFit(load_model(result.checkpoint).eval(), _history(result.metrics_file),
                         result.checkpoint)


__all__ = ["ClassifierFit", "ClassifierTrainConfig", "classifier_rows", "classifier_train_config",
           "fit_classifier"]
