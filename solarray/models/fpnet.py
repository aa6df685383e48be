"""FPNet (SA-AI 2025): P(≥M flare in the next 24 h) from images fused with physical features.

::

    image [B, C, S, S] ──ViT encoder (MAE-pretrained)──► global token g [B, D]
    scalars [B, Ks] (F10.7, flare index, log R, area, ...) ─┐
    categories [B, Kc] (McIntosh Z, Hale class) ────────────┴─physics feature mapper─► [B, Ks+Kc, D]
    joint embedding layers: pre-LN transformer blocks over [g; physics tokens]
    concat(g', mean(physics')) ──MLP──► logit ──sigmoid──► probability
    (+ with ``linear_skip``: a linear term of the standardised scalars, their missing flags and
       one weight per category value, added to the logit)

The encoder's class token is the learnable global token. The physics feature mapper gives each
scalar a learned direction, offset and "missing" embedding (NaN = unknown) after an optional
``log1p`` and standardisation (``scalar_mean``/``scalar_std`` fitted on the training set and kept
in the config), and each category an embedding table (index 0 = unknown). Two modes, same network:
``full_disk`` (the whole frame; disk-level features) and ``ar`` (a crop of ``crop_rsun`` R☉
half-width around one active region, resized to ``image_size``; that region's features).

``linear_skip`` adds a "wide" path beside the deep one (Cheng 2016's wide & deep): the
logit is the deep network's plus a logistic regression on the same physical inputs, initialised
at zero. With a few dozen flaring regions to learn from, the deep path alone ranks regions worse
than a logistic regression on (log R, area, flare index) does; the wide path gives FPNet that
regression as its floor, and the deep path (images, interactions) learns the rest.

``input_masking`` puts the physics prior where SA-AI 2025's EMA-FP puts it, on FPNet's input: the
encoder sees only ``1 − input_mask_ratio`` of the image patches, drawn at fine-tuning and at
inference with PPAM's probabilities (patches of active magnetic field ``input_mask_asymmetry``×
more likely to be kept: "preserve AR patches while masking quiescent regions") or uniformly
(``random``, the comparison); ``none`` (the default) keeps every patch. In training each batch
draws afresh; in eval mode the draw is seeded (``input_mask_seed``) so a forecast is repeatable.

``calibration`` (a :mod:`solarray.metrics.calibration` calibrator dict fitted on validation
forecasts) travels with the checkpoint: :meth:`FPNet.calibrated` applies it, so "yes" is
``p >= 0.5``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import torch
from torch import nn

from solarray.core import channels as channel_catalogue
from solarray.core.classes import CATEGORY_VOCAB
from solarray.core.frame import FRAME_RSUN
from solarray.metrics.calibration import calibrator_from_dict
from solarray.models.layers import Block, _check_divisible, init_weights
from solarray.models.masking import MaskingConfig, make_mask
from solarray.models.registry import register
from solarray.models.vit import ViTEncoder

MODES = ("full_disk", "ar")
INPUT_MASKINGS = ("none", "random", "ppam")


@dataclass
class FPNetConfig:
    """FPNet sizes, features and mode. Encoder fields must match a pretrained checkpoint
    (:func:`solarray.models.pretrained.encoder_settings`); ``image_size`` may differ (positions
    are fixed sin-cos). Categories are encoded with :func:`solarray.core.classes.encode_categories`
    (index 0 of each embedding = unknown)."""

    channels: tuple[str, ...] = ()
    mode: str = "full_disk"
    image_size: int = 64
    patch_size: int = 8
    embed_dim: int = 64
    depth: int = 2
    num_heads: int = 4
    mlp_ratio: float = 4.0
    joint_depth: int = 1  # joint embedding layers over [global token; physics tokens]
    head_hidden: int = 64
    dropout: float = 0.1
    linear_skip: bool = False  # the wide path (module docstring); new trainings switch it on
    crop_rsun: float = 0.275  # ar mode: half-width of the crop around the region, R☉
    frame_rsun: float = FRAME_RSUN  # half-width of the full-disk frame the crops are cut from, R☉
    scalar_features: tuple[str, ...] = ("f107", "flare_index", "log_r", "area_msh")
    log_features: tuple[str, ...] = ("flare_index", "area_msh")  # log1p(max(x, 0)) first
    categorical_features: tuple[str, ...] = ("mcintosh", "hale")
    scalar_mean: tuple[float, ...] = ()  # after log1p; default 0
    scalar_std: tuple[float, ...] = ()  # default 1
    calibration: dict = field(default_factory=dict)  # calibrator dict; {} = raw sigmoid
    input_masking: str = "none"  # image tokens the encoder sees: none | random | ppam
    input_mask_ratio: float = 0.5  # fraction of patches dropped when input_masking != none
    input_mask_asymmetry: float = 4.0  # ppam: keep weight of a fully active patch vs a quiet one
    input_mask_seed: int = 0  # eval mode: the seed of the (repeatable) draw

    PRESETS: ClassVar[dict[str, dict]] = {
        "tiny": dict(image_size=64, patch_size=8, embed_dim=64, depth=2, num_heads=4,
                     joint_depth=1, head_hidden=64),
        "small": dict(image_size=128, patch_size=8, embed_dim=192, depth=4, num_heads=4,
                      joint_depth=1, head_hidden=128),
        "paper": dict(image_size=512, patch_size=16, embed_dim=768, depth=12, num_heads=12,
                      joint_depth=2, head_hidden=512),
    }

    def __post_init__(self) -> None:
        if not self.channels:
            raise ValueError("FPNetConfig.channels must name the input channels (from the data)")
        self.channels = tuple(channel_catalogue.resolve(list(self.channels)))
        if self.mode not in MODES:
            raise ValueError(f"FPNetConfig.mode must be one of {MODES}, got {self.mode!r}")
        _check_divisible(self.image_size, self.patch_size, "patch_size")
        if self.embed_dim % 4:
            raise ValueError("FPNetConfig.embed_dim must be divisible by 4 (2-D sin-cos)")
        for name in ("scalar_features", "log_features", "categorical_features",
                     "scalar_mean", "scalar_std"):
            setattr(self, name, tuple(getattr(self, name)))
        for name in self.categorical_features:
            if name not in CATEGORY_VOCAB:
                raise ValueError(f"FPNetConfig.categorical_features: unknown {name!r}; "
                                 f"known: {', '.join(CATEGORY_VOCAB)}")
        bad = sorted(set(self.log_features) - set(self.scalar_features))
        if bad:
            raise ValueError(f"FPNetConfig.log_features {bad} are not scalar_features")
        n = len(self.scalar_features)
        for name in ("scalar_mean", "scalar_std"):
            v = getattr(self, name)
            if v and len(v) != n:
                raise ValueError(f"FPNetConfig.{name} has {len(v)} values for {n} scalar features")
        if self.scalar_std and min(self.scalar_std) <= 0:
            raise ValueError("FPNetConfig.scalar_std must be > 0")
        if self.input_masking not in INPUT_MASKINGS:
            raise ValueError(f"FPNetConfig.input_masking must be one of {INPUT_MASKINGS}, "
                             f"got {self.input_masking!r}")
        if self.input_masking != "none":
            MaskingConfig(strategy=self.input_masking, ratio=self.input_mask_ratio,
                          asymmetry=self.input_mask_asymmetry)  # checks the ratio
            if self.input_masking == "ppam" and "hmi_m" not in self.channels:
                raise ValueError("FPNetConfig.input_masking 'ppam' reads the magnetogram: "
                                 f"channels must include hmi_m, got {', '.join(self.channels)}")
        if not (0 < self.crop_rsun <= self.frame_rsun):
            raise ValueError(f"FPNetConfig.crop_rsun must lie in (0, frame_rsun], "
                             f"got {self.crop_rsun}")


class PhysicsFeatureMapper(nn.Module):
    """Scalars ``[B, Ks]`` (NaN = unknown) and categories ``[B, Kc]`` (0 = unknown) → tokens
    ``[B, Ks + Kc, D]``: ``LN(x·w_k + b_k + missing·m_k + e_k)`` per scalar (``e_k`` a feature
    identity embedding), ``LN(E_j[code] + e_j)`` per category."""

    def __init__(self, n_scalars: int, category_sizes: list[int], dim: int,
                 log_mask: list[bool], mean: list[float], std: list[float]):
        super().__init__()
        self.n_scalars = n_scalars
        self.weight = nn.Parameter(torch.randn(n_scalars, dim) * 0.02)
        self.bias = nn.Parameter(torch.zeros(n_scalars, dim))
        self.missing = nn.Parameter(torch.randn(n_scalars, dim) * 0.02)
        self.categories = nn.ModuleList(nn.Embedding(k + 1, dim) for k in category_sizes)
        self.identity = nn.Parameter(torch.randn(n_scalars + len(category_sizes), dim) * 0.02)
        self.norm = nn.LayerNorm(dim)
        self.register_buffer("log_mask", torch.tensor(log_mask, dtype=torch.bool),
                             persistent=False)
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32), persistent=False)
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32), persistent=False)
        for emb in self.categories:
            nn.init.normal_(emb.weight, std=0.02)

    def standardise(self, scalars: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(standardised values with unknowns at 0, missing flags)``, both ``[B, Ks]``."""
        x = scalars.float()
        missing = ~torch.isfinite(x)
        x = torch.where(missing, torch.zeros_like(x), x)
        x = torch.where(self.log_mask, torch.log1p(x.clamp_min(0.0)), x)
        x = (x - self.mean) / self.std
        return torch.where(missing, torch.zeros_like(x), x), missing

    def forward(self, scalars: torch.Tensor, categories: torch.Tensor) -> torch.Tensor:
        b = scalars.shape[0]
        tokens = []
        if self.n_scalars:
            x, missing = self.standardise(scalars)
            tokens.append(x[..., None] * self.weight + self.bias
                          + missing[..., None].float() * self.missing)
        for j, emb in enumerate(self.categories):
            tokens.append(emb(categories[:, j].long().clamp(0, emb.num_embeddings - 1))[:, None])
        if not tokens:
            return scalars.new_zeros(b, 0, self.identity.shape[1])
        t = torch.cat(tokens, dim=1) + self.identity
        return self.norm(t)


class LinearSkip(nn.Module):
    """The wide path: ``Σ_k a_k·x_k + c_k·missing_k + Σ_j E_j[code_j]`` → ``[B]``, all weights
    zero at the start (``x`` standardised scalars with unknowns at 0, ``E_j`` one weight per
    category value, index 0 = unknown)."""

    def __init__(self, n_scalars: int, category_sizes: list[int]):
        super().__init__()
        self.scalars = nn.Linear(2 * n_scalars, 1) if n_scalars else None
        self.categories = nn.ModuleList(nn.Embedding(k + 1, 1) for k in category_sizes)
        for m in [self.scalars, *self.categories]:
            if m is not None:
                nn.init.zeros_(m.weight)
        if self.scalars is not None:
            nn.init.zeros_(self.scalars.bias)

    def forward(self, x: torch.Tensor, missing: torch.Tensor,
                categories: torch.Tensor) -> torch.Tensor:
        out = x.new_zeros(x.shape[0])
        if self.scalars is not None:
            out = out + self.scalars(torch.cat([x, missing.float()], dim=1))[:, 0]
        for j, emb in enumerate(self.categories):
            out = out + emb(categories[:, j].long().clamp(0, emb.num_embeddings - 1))[:, 0]
        return out


@register("fpnet")
class FPNet(nn.Module):
    """Flare forecaster (see module docstring). ``forward`` → logits ``[B]``."""

    config_class = FPNetConfig
    #: A pretrained encoder must read the same channel set as FPNet.
    partial_pretrained_channels: ClassVar[bool] = False

    def __init__(self, config: FPNetConfig):
        super().__init__()
        self.config = c = config
        self.encoder = ViTEncoder(len(c.channels), c.image_size, c.patch_size, c.embed_dim,
                                  c.depth, c.num_heads, c.mlp_ratio)
        ks = len(c.scalar_features)
        self.mapper = PhysicsFeatureMapper(
            ks, [len(CATEGORY_VOCAB[n]) for n in c.categorical_features], c.embed_dim,
            [n in c.log_features for n in c.scalar_features],
            list(c.scalar_mean) or [0.0] * ks, list(c.scalar_std) or [1.0] * ks)
        self.joint = nn.ModuleList(Block(c.embed_dim, c.num_heads, c.mlp_ratio)
                                   for _ in range(c.joint_depth))
        self.joint_norm = nn.LayerNorm(c.embed_dim)
        self.head = nn.Sequential(
            nn.Linear(2 * c.embed_dim, c.head_hidden), nn.GELU(), nn.Dropout(c.dropout),
            nn.Linear(c.head_hidden, 1))
        self.joint.apply(init_weights)
        self.head.apply(init_weights)
        self.wide = LinearSkip(ks, [len(CATEGORY_VOCAB[n]) for n in c.categorical_features]) \
            if c.linear_skip else None

    def pretrained_encoders(self) -> list[nn.Module]:
        """The ViT encoder a pretrained checkpoint (e.g. ``mae_vit``) initialises."""
        return [self.encoder]

    @property
    def n_scalars(self) -> int:
        return len(self.config.scalar_features)

    @property
    def n_categories(self) -> int:
        return len(self.config.categorical_features)

    def forward(self, image: torch.Tensor, scalars: torch.Tensor | None = None,
                categories: torch.Tensor | None = None) -> torch.Tensor:
        """``image`` ``[B, C, S, S]``, ``scalars`` ``[B, Ks]`` float (NaN unknown), ``categories``
        ``[B, Kc]`` int (0 unknown) → logits ``[B]``."""
        c = self.config
        b = image.shape[0]
        if image.dim() != 4 or image.shape[1] != len(c.channels) \
                or tuple(image.shape[2:]) != (c.image_size, c.image_size):
            raise ValueError(f"fpnet expects images [B, {len(c.channels)}, {c.image_size}, "
                             f"{c.image_size}] ({', '.join(c.channels)}), got {tuple(image.shape)}")
        if scalars is None:
            scalars = image.new_full((b, self.n_scalars), float("nan"))
        if categories is None:
            categories = torch.zeros(b, self.n_categories, dtype=torch.long, device=image.device)
        if tuple(scalars.shape) != (b, self.n_scalars):
            raise ValueError(f"scalars must be [B, {self.n_scalars}] "
                             f"({', '.join(c.scalar_features)}), got {tuple(scalars.shape)}")
        if tuple(categories.shape) != (b, self.n_categories):
            raise ValueError(f"categories must be [B, {self.n_categories}] "
                             f"({', '.join(c.categorical_features)}), got {tuple(categories.shape)}")
        g, _ = self.encoder(image, self.visible_patches(image))
        t = torch.cat([g[:, None], self.mapper(scalars, categories)], dim=1)
        for block in self.joint:
            t = block(t)
        t = self.joint_norm(t)
        phys = t[:, 1:].mean(dim=1) if t.shape[1] > 1 else torch.zeros_like(t[:, 0])
        logit = self.head(torch.cat([t[:, 0], phys], dim=-1))[:, 0]
        if self.wide is not None:
            logit = logit + self.wide(*self.mapper.standardise(scalars), categories)
        return logit

    def visible_patches(self, image: torch.Tensor) -> torch.Tensor | None:
        """Indices ``[B, K]`` of the patches the encoder sees (``None``: all of them), drawn
        with ``input_masking`` (module docstring)."""
        c = self.config
        if c.input_masking == "none":
            return None
        generator = None
        if not self.training:
            generator = torch.Generator(device=image.device).manual_seed(c.input_mask_seed)
        masking = MaskingConfig(strategy=c.input_masking, ratio=c.input_mask_ratio,
                                asymmetry=c.input_mask_asymmetry)
        with torch.no_grad():
            return make_mask(masking, image, c.patch_size, channel_names=c.channels,
                             generator=generator).keep_idx.to(image.device)

    @torch.no_grad()
    def predict_proba(self, image: torch.Tensor, scalars: torch.Tensor | None = None,
                      categories: torch.Tensor | None = None) -> torch.Tensor:
        """Raw (uncalibrated) probabilities ``sigmoid(logit)`` ``[B]``, in eval mode."""
        was = self.training
        self.eval()
        try:
            return torch.sigmoid(self(image, scalars, categories))
        finally:
            self.train(was)

    def calibrated(self, probability: np.ndarray) -> np.ndarray:
        """Apply the stored validation calibration (identity when none)."""
        if not self.config.calibration:
            return np.asarray(probability, dtype=np.float64)
        return calibrator_from_dict(self.config.calibration)(np.asarray(probability, np.float64))

