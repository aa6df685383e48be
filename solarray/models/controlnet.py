"""ControlNet-style translation on a pretrained encoder (SolarCHIP, Shen 2025: its cross-modal
translation; Zhang 2023's ControlNet recipe).

The Pix2Pix U-Net (:class:`~solarray.models.pix2pix.UNetGenerator`) is the base generator. Beside
it, a **locked** encoder (frozen: SolarCHIP's HMI encoder or an MAE encoder, loaded by
:func:`solarray.models.pretrained.load_encoder`) reads the inputs and feeds a **trainable copy**
of itself (initialised with the same weights) through a zero-initialised layer. The copy's output
tokens, as a ``[B, D, H/p, W/p]`` map resized to each decoder level, enter the generator's
decoder through **zero-initialised 1×1 convolutions**. At initialisation every zero layer outputs
0, so the model is exactly the base generator; training opens the control path gradually, and the
frozen encoder keeps what pretraining learnt — the point when paired data are scarce.

Two encoder kinds (``config.encoder``), one wiring:

* ``"vit"`` (:class:`~solarray.models.vit.ViTEncoder`): the locked patch tokens enter the copy
  through a zero linear layer, added to the copy's patch embedding before its blocks;
* ``"cnn"`` (:class:`~solarray.models.cnn_ae.CNNTokenEncoder`, SolarCHIP CNN's encoder): a CNN
  has no token sequence before its layers, so the locked token map enters through a zero 1×1
  convolution, upsampled ×2 (nearest) and added to the input of the copy's last stride-2 stage —
  the finest place with the token grid's geometry that still leaves a full conv stage, the
  projection and the token norm of the copy to process the control signal (our reading; Zhang
  2023 adds the condition at the copy's input, where a ViT's tokens are).

Config: the Pix2Pix fields plus the encoder's, which must match the pretrained checkpoint
(:data:`~solarray.models.pretrained.KIND_FIELDS`): ViT ``patch_size``, ``embed_dim``, ``depth``
(blocks), ``num_heads``, ``mlp_ratio``; CNN ``widths`` (one stride-2 stage each) and
``embed_dim``, with ``patch_size`` = 2^len(widths) (checked). The encoder reads the ``inputs`` (``config.channels``); a
checkpoint covering only some of them (e.g. an MAE on hmi_m + aia304 for an hmi_m input) is
accepted. Forward modes as :class:`~solarray.models.pix2pix.Pix2Pix`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from solarray.core import channels as channel_catalogue
from solarray.models.cnn_ae import CNNTokenEncoder
from solarray.models.layers import _check_divisible
from solarray.models.pix2pix import (
    PatchDiscriminator,
    UNetGenerator,
    check_input,
    gan_forward,
    init_pix2pix,
)
from solarray.models.registry import register
from solarray.models.vit import ViTEncoder


@dataclass
class ControlNetConfig:
    """Base generator (Pix2Pix fields) + locked/trainable encoder (``encoder``: vit | cnn)."""

    inputs: tuple[str, ...] = ("hmi_m",)
    outputs: tuple[str, ...] = ()
    image_size: int = 64
    bottleneck: int = 4
    base_filters: int = 8
    max_filters: int = 64
    dropout: float = 0.0
    dropout_blocks: int = 3
    discriminator: bool = True
    disc_filters: int = 8
    disc_layers: int = 2
    # Encoder (must match the pretrained checkpoint)
    encoder: str = "vit"
    patch_size: int = 8  # ViT patch; CNN: the token cell, 2^len(widths)
    embed_dim: int = 64
    depth: int = 2
    num_heads: int = 4
    mlp_ratio: float = 4.0
    widths: tuple[int, ...] = (16, 32, 64)  # CNN only: stage widths (SolarCHIP CNN's backbone)

    PRESETS: ClassVar[dict[str, dict]] = {
        # The benchmark's tiny MAE / SolarCHIP encoders (patch 8, 64-d, 2 blocks).
        "tiny": dict(image_size=64, base_filters=8, max_filters=64, dropout=0.0, disc_filters=8,
                     disc_layers=2, patch_size=8, embed_dim=64, depth=2, num_heads=4),
        # Park 2019's generator at 1024² on a ViT-B/16 encoder.
        "paper": dict(image_size=1024, base_filters=64, max_filters=512, dropout=0.5,
                      disc_filters=64, disc_layers=3, patch_size=16, embed_dim=768, depth=12,
                      num_heads=12),
    }

    def __post_init__(self) -> None:
        self.inputs = channel_catalogue.resolve(list(self.inputs))
        self.outputs = channel_catalogue.resolve(list(self.outputs)) if self.outputs else ()
        if not self.inputs:
            raise ValueError("ControlNetConfig.inputs must name at least one input channel")
        both = sorted(set(self.inputs) & set(self.outputs))
        if both:
            raise ValueError(f"ControlNetConfig: channel(s) {both} are both inputs and outputs")
        for name in ("image_size", "bottleneck"):
            v = int(getattr(self, name))
            if v < 1 or v & (v - 1):
                raise ValueError(f"ControlNetConfig.{name} must be a power of two, got {v}")
        if self.bottleneck >= self.image_size:
            raise ValueError("ControlNetConfig.bottleneck must be smaller than image_size")
        if self.encoder not in ENCODERS:
            raise ValueError(f"ControlNetConfig.encoder must be one of {', '.join(ENCODERS)}, "
                             f"got {self.encoder!r}")
        self.widths = tuple(int(w) for w in self.widths)
        if self.encoder == "cnn":
            if not self.widths:
                raise ValueError("ControlNetConfig.widths must list at least one stage width")
            cell = 2 ** len(self.widths)
            if self.patch_size != cell:
                raise ValueError(f"ControlNetConfig: a CNN encoder of {len(self.widths)} stride-2 "
                                 f"stages makes {cell}-px tokens; set patch_size={cell} "
                                 f"(got {self.patch_size})")
        elif self.embed_dim % 4:
            raise ValueError("ControlNetConfig.embed_dim must be divisible by 4 (2-D sin-cos)")
        _check_divisible(self.image_size, self.patch_size, "patch_size")

    @property
    def channels(self) -> tuple[str, ...]:
        """The encoder's input channels (what :func:`load_encoder` matches by name)."""
        return self.inputs

    @property
    def unet_depth(self) -> int:
        return int(round(math.log2(self.image_size // self.bottleneck)))


ENCODERS = ("vit", "cnn")


def zero_module(module: nn.Module) -> nn.Module:
    for p in module.parameters():
        nn.init.zeros_(p)
    return module


@register("controlnet_translator")
class ControlNetTranslator(nn.Module):
    config_class = ControlNetConfig
    partial_pretrained_channels = True

    def __init__(self, config: ControlNetConfig):
        super().__init__()
        c = config
        if not c.outputs:
            raise ValueError("ControlNetConfig.outputs is empty: name the channels to generate "
                             "(the training objective fills it from the data)")
        self.config = c
        n_in = len(c.inputs)
        self.generator = UNetGenerator(n_in, len(c.outputs), c.unet_depth, c.base_filters,
                                       c.max_filters, c.dropout, c.dropout_blocks)
        self.discriminator = PatchDiscriminator(n_in + len(c.outputs), c.disc_filters,
                                                c.disc_layers) if c.discriminator else None
        self.generator.apply(init_pix2pix)
        if self.discriminator is not None:
            self.discriminator.apply(init_pix2pix)
        self.locked, self.control = (self._encoder(n_in) for _ in range(2))
        self.control.load_state_dict(self.locked.state_dict())
        self.locked.requires_grad_(False)
        self.control_in = zero_module(
            nn.Linear(c.embed_dim, c.embed_dim) if c.encoder == "vit"
            else nn.Conv2d(c.embed_dim, self.control.inject_channels, 1))
        self.zero_convs = nn.ModuleList(
            zero_module(nn.Conv2d(c.embed_dim, ch, 1)) for ch in self.generator.decoder_channels())

    def _encoder(self, n_in: int) -> nn.Module:
        c = self.config
        if c.encoder == "cnn":
            return CNNTokenEncoder(n_in, c.widths, c.embed_dim)
        return ViTEncoder(in_channels=n_in, image_size=c.image_size, patch_size=c.patch_size,
                          embed_dim=c.embed_dim, depth=c.depth, num_heads=c.num_heads,
                          mlp_ratio=c.mlp_ratio)

    @property
    def pretrained_encoder_kind(self) -> str:
        """Which encoder :func:`~solarray.models.pretrained.load_encoder` reads: vit | cnn."""
        return self.config.encoder

    def pretrained_encoders(self) -> list[nn.Module]:
        """Both encoders start from the pretrained weights (the copy is then trained)."""
        return [self.locked, self.control]

    def train(self, mode: bool = True) -> ControlNetTranslator:
        super().train(mode)
        self.locked.eval()  # frozen: never in training mode
        return self

    def control_features(self, x: torch.Tensor) -> torch.Tensor:
        """The trainable copy's patch tokens as a map ``[B, D, H/p, W/p]``."""
        if self.config.encoder == "cnn":
            with torch.no_grad():
                locked = self.locked(x)
            inject = F.interpolate(self.control_in(locked), scale_factor=2, mode="nearest")
            return self.control(x, inject)
        with torch.no_grad():
            _, locked = self.locked(x)
        t = self.control.tokens(x) + self.control_in(locked)
        cls = self.control.cls_token.expand(t.shape[0], -1, -1)
        t = torch.cat([cls, t], dim=1)
        for block in self.control.blocks:
            t = block(t)
        t = self.control.norm(t)[:, 1:]
        gh, gw = self.control.grid_size
        return t.transpose(1, 2).reshape(t.shape[0], -1, gh, gw)

    def generate(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, len(self.config.inputs), self.config.image_size, "controlnet_translator")
        feats = self.control_features(x)
        size = self.config.image_size // 2 ** self.config.unet_depth
        extra = []
        for conv in self.zero_convs:
            f = feats if feats.shape[-1] == size else F.interpolate(
                feats, size=(size, size), mode="bilinear", align_corners=False)
            extra.append(conv(f))
            size *= 2
        return self.generator(x, extra)

    def discriminate(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if self.discriminator is None:
            raise ValueError("this translator has no discriminator (discriminator=False)")
        return self.discriminator(torch.cat([x, y], dim=1))

    def forward(self, x: torch.Tensor, target: torch.Tensor | None = None,
                mode: str = "generate"):
        return gan_forward(self, x, target, mode)


__all__ = ["ENCODERS", "ControlNetConfig", "ControlNetTranslator", "zero_module"]
