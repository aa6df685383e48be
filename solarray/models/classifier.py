"""Hale (alpha, beta, beta-x) and McIntosh-Z (A B C D E F H) classifiers of active regions.

One registered model, ``ar_classifier``, per task holds two architecturally identical networks:
``inner`` for ARs with |Stonyhurst longitude| ≤ ``lon_split_deg`` (30°) and ``outer`` beyond, as
in SA-AI 2025. Backbones:

* ``cnn`` (SA-AI 2025): 2 × (Conv-ReLU-MaxPool) → FC(``fc``)-ReLU-Dropout → logits;
* ``vit``: a :class:`~solarray.models.vit.ViTEncoder` on the crop (class token) → the same head,
  so a pretrained magnetogram encoder (MAE, SolarCHIP's HMI encoder) can initialise both zones
  (:func:`solarray.models.pretrained.load_encoder`).

Inputs: ``x [B, C, S, S]`` magnetogram crops (:mod:`solarray.analysis.crops`, C = 1 ``hmi_m``,
S = ``in_size``) and ``lon_deg [B]``; outputs logits ``[B, len(classes)]``. Trained by the generic
loop through the ``ar_classifier`` objective. Checkpoints are :func:`solarray.models.save_model`
files; older ``dict(config, inner, outer)`` files (``DualClassifier.save``) are converted on load.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from solarray.core import channels as channel_catalogue
from solarray.core.classes import CATEGORY_VOCAB
from solarray.models.layers import _check_divisible
from solarray.models.registry import (
    CHECKPOINT_FORMAT,
    make_config,
    register,
    register_legacy_format,
)
from solarray.models.vit import ViTEncoder

BACKBONES = ("cnn", "vit")
MODEL_NAME = "ar_classifier"


@dataclass
class ClassifierConfig:
    """One task's classifier pair. ``classes`` default to the task's vocabulary
    (:data:`solarray.core.classes.CATEGORY_VOCAB`); ``patch_size`` … ``mlp_ratio`` size the ViT
    backbone only."""

    task: str = "hale"
    classes: tuple[str, ...] = ()
    channels: tuple[str, ...] = ("hmi_m",)
    in_size: int = 160  # crop side, pixels
    backbone: str = "cnn"
    conv_channels: tuple[int, int] = (16, 32)
    pool: int = 4  # max-pool size after each conv (160 → 40 → 10)
    fc: int = 128
    dropout: float = 0.5
    lon_split_deg: float = 30.0
    expand: float = 0.05  # crop: bounding square enlarged by this fraction
    patch_size: int = 16
    embed_dim: int = 64
    depth: int = 2
    num_heads: int = 4
    mlp_ratio: float = 4.0

    PRESETS: ClassVar[dict[str, dict]] = {
        "tiny": dict(in_size=32, conv_channels=(4, 8), pool=4, fc=16, patch_size=8, embed_dim=32,
                     depth=1, num_heads=2),
        "paper": dict(in_size=160, conv_channels=(16, 32), pool=4, fc=128),
    }

    def __post_init__(self) -> None:
        if self.task not in CATEGORY_VOCAB:
            raise ValueError(f"task: expected one of {sorted(CATEGORY_VOCAB)}, got {self.task!r}")
        self.classes = tuple(self.classes) or CATEGORY_VOCAB[self.task]
        self.channels = channel_catalogue.resolve(self.channels)
        self.conv_channels = tuple(self.conv_channels)
        if self.backbone not in BACKBONES:
            raise ValueError(f"backbone: expected one of {BACKBONES}, got {self.backbone!r}")
        if self.backbone == "cnn" and self.in_size % (self.pool * self.pool):
            raise ValueError(f"in_size {self.in_size} must be divisible by pool² = {self.pool ** 2}")
        if self.backbone == "vit":
            _check_divisible(self.in_size, self.patch_size, "patch_size")
            if self.embed_dim % 4:
                raise ValueError("ClassifierConfig.embed_dim must be divisible by 4 (2-D sin-cos)")


def _head(width: int, cfg: ClassifierConfig) -> nn.Sequential:
    return nn.Sequential(nn.Flatten(), nn.Linear(width, cfg.fc), nn.ReLU(),
                         nn.Dropout(cfg.dropout), nn.Linear(cfg.fc, len(cfg.classes)))


class ConvNet(nn.Module):
    """2 × (Conv-ReLU-MaxPool) → FC-ReLU-Dropout → logits. Input [B, C, S, S]."""

    def __init__(self, cfg: ClassifierConfig):
        super().__init__()
        c1, c2 = cfg.conv_channels
        side = cfg.in_size // (cfg.pool * cfg.pool)
        self.features = nn.Sequential(
            nn.Conv2d(len(cfg.channels), c1, 5, padding=2), nn.ReLU(), nn.MaxPool2d(cfg.pool),
            nn.Conv2d(c1, c2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(cfg.pool),
        )
        self.head = _head(c2 * side * side, cfg)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


class ViTNet(nn.Module):
    """ViT encoder (class token) → FC-ReLU-Dropout → logits. Input [B, C, S, S]."""

    def __init__(self, cfg: ClassifierConfig):
        super().__init__()
        self.encoder = ViTEncoder(len(cfg.channels), cfg.in_size, cfg.patch_size, cfg.embed_dim,
                                  cfg.depth, cfg.num_heads, cfg.mlp_ratio)
        self.head = _head(cfg.embed_dim, cfg)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.encoder(x)[0])


@register(MODEL_NAME)
class ARClassifier(nn.Module):
    """The |lon| ≤ split (``inner``) and > split (``outer``) networks of one task."""

    config_class = ClassifierConfig
    #: One input channel: a pretrained encoder covering it (among others) fits.
    partial_pretrained_channels: ClassVar[bool] = True

    def __init__(self, config: ClassifierConfig):
        super().__init__()
        self.config = config
        net = ConvNet if config.backbone == "cnn" else ViTNet
        self.inner = net(config)
        self.outer = net(config)

    def zone(self, lon_deg) -> np.ndarray:
        """True where the inner (|lon| ≤ split) network applies (NaN longitude → outer)."""
        return np.abs(np.asarray(lon_deg, dtype=float)) <= self.config.lon_split_deg

    def inner_mask(self, lon_deg: torch.Tensor) -> torch.Tensor:
        """:meth:`zone` on a tensor ``[B]`` (bool, same device)."""
        return lon_deg.abs() <= self.config.lon_split_deg

    def forward(self, x: torch.Tensor, lon_deg: torch.Tensor) -> torch.Tensor:
        """Logits ``[B, K]``, each row from the network of that sample's longitude zone."""
        c = self.config
        want = (len(c.channels), c.in_size, c.in_size)
        if x.dim() != 4 or tuple(x.shape[1:]) != want:
            raise ValueError(f"{MODEL_NAME} expects crops [B, {want[0]}, {want[1]}, {want[2]}] "
                             f"({', '.join(c.channels)}), got {tuple(x.shape)}")
        if tuple(lon_deg.shape) != (x.shape[0],):
            raise ValueError(f"lon_deg must be [B] = [{x.shape[0]}], got {tuple(lon_deg.shape)}")
        inner = self.inner_mask(lon_deg.to(x.device))
        out = x.new_zeros(x.shape[0], len(c.classes))
        for net, sel in ((self.inner, inner), (self.outer, ~inner)):
            if sel.any():
                out[sel] = net(x[sel])
        return out

    @torch.no_grad()
    def predict_proba(self, x, lon_deg) -> np.ndarray:
        """Softmax probabilities ``[N, K]`` (numpy) in eval mode; ``x`` array or tensor."""
        was = self.training
        self.eval()
        try:
            device = next(self.parameters()).device
            xt = torch.as_tensor(np.asarray(x), dtype=torch.float32, device=device)
            lon = torch.as_tensor(np.asarray(lon_deg, dtype=np.float32), device=device)
            if len(xt) == 0:
                return np.zeros((0, len(self.config.classes)), np.float32)
            return torch.softmax(self(xt, lon), dim=1).cpu().numpy()
        finally:
            self.train(was)

    def predict(self, x, lon_deg) -> list[str]:
        """The most probable class name per sample."""
        p = self.predict_proba(x, lon_deg)
        return [self.config.classes[i] for i in p.argmax(axis=1)]

    def pretrained_encoders(self) -> list[nn.Module]:
        """Both zones' ViT encoders (a pretrained checkpoint initialises them alike)."""
        if self.config.backbone != "vit":
            raise ValueError(f"{MODEL_NAME} with backbone {self.config.backbone!r} has no ViT "
                             "encoder; build it with backbone='vit' to start from a pretrained one")
        return [self.inner.encoder, self.outer.encoder]


# ---------------------------------------------------------------------------------------------
# Checkpoints of the former analysis.classify.DualClassifier: dict(config, inner, outer)
# ---------------------------------------------------------------------------------------------
LEGACY_DESCRIPTION = "an older Hale/McIntosh classifier checkpoint dict(config, inner, outer)"


def is_legacy_checkpoint(ckpt: Mapping[str, Any]) -> bool:
    """True for a ``DualClassifier.save`` dict (keys ``config``, ``inner``, ``outer``)."""
    return "format" not in ckpt and {"config", "inner", "outer"} <= set(ckpt)


def convert_legacy_checkpoint(ckpt: Mapping[str, Any], source: str = "checkpoint") -> dict:
    """A ``DualClassifier.save`` dict → an ``ar_classifier`` :func:`checkpoint_dict`; a
    ``ValueError`` naming ``source`` and the expected layout when it does not convert."""
    expected = ("expected an older Hale/McIntosh classifier checkpoint dict(config=ClassifierConfig "
                "fields, inner=state_dict, outer=state_dict) of 2-conv CNNs on one magnetogram")
    try:
        cfg = dict(ckpt["config"])
        n_in = int(cfg.pop("in_channels", 1))
        if n_in != 1:
            raise ValueError(f"in_channels {n_in}: only single-magnetogram (hmi_m) classifiers")
        config = make_config(ClassifierConfig, **cfg)
        state = {**{f"inner.{k}": v for k, v in ckpt["inner"].items()},
                 **{f"outer.{k}": v for k, v in ckpt["outer"].items()}}
        ARClassifier(config).load_state_dict(state)  # checks keys and shapes
    except (AttributeError, KeyError, RuntimeError, TypeError, ValueError) as err:
        raise ValueError(f"{source}: cannot convert the classifier checkpoint ({expected}): "
                         f"{type(err).__name__}: {err}") from err
    plain = {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(config).items()}
    return {"format": CHECKPOINT_FORMAT, "model": MODEL_NAME, "config": plain,
            "state_dict": state}


register_legacy_format(LEGACY_DESCRIPTION, is_legacy_checkpoint, convert_legacy_checkpoint)


__all__ = ["ARClassifier", "ClassifierConfig", "ConvNet", "ViTNet", "convert_legacy_checkpoint",
           "is_legacy_checkpoint"]
