"""SolarCHIP (Shen 2025): two autoencoders, one per instrument, aligned contrastively.

The channel list (from the data) is split by the channel catalogue into the AIA modality and the
HMI modality; each gets its own backbone of the same type (``vit_ae`` or ``cnn_ae``) with the same
patch grid, so patch k of the AIA encoder and patch k of the HMI encoder cover the same pixels.
Linear projection heads map class and patch tokens into the shared contrastive space.
The loss lives in :mod:`solarray.losses.contrastive`; this module only computes the tokens.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import ClassVar

import torch
from torch import nn

from solarray.core import channels as channel_catalogue
from solarray.models.registry import get_model_class, make_config, register

MODALITIES: tuple[str, str] = ("AIA", "HMI")


def split_modalities(channels: tuple[str, ...] | list[str]) -> dict[str, list[int]]:
    """Indices of ``channels`` per instrument, ``{"AIA": [...], "HMI": [...]}`` (catalogue order kept)."""
    out: dict[str, list[int]] = {m: [] for m in MODALITIES}
    for i, name in enumerate(channels):
        inst = channel_catalogue.get(name).instrument
        if inst not in out:
            raise ValueError(f"channel {name!r}: instrument {inst!r} is not one of {MODALITIES}")
        out[inst].append(i)
    for m, idx in out.items():
        if not idx:
            raise ValueError(
                f"SolarCHIP needs at least one {m} channel; got channels {', '.join(channels)}"
            )
    return out


@dataclass
class SolarCHIPConfig:
    """SolarCHIP sizes. ``channels`` (names, in data order) must come from the data.

    ``backbone_config`` holds the backbone's fields (minus ``in_channels``, which is set per
    modality); it may contain ``"preset"``. It is resolved to every field on construction so the
    checkpoint records the exact architecture.
    """

    channels: tuple[str, ...] = ()
    backbone: str = "vit_ae"
    backbone_config: dict = field(default_factory=dict)
    proj_dim: int = 64  # contrastive space; 0 → identity (no projection heads)

    PRESETS: ClassVar[dict[str, dict]] = {
        "tiny": dict(backbone_config={"preset": "tiny"}, proj_dim=64),
        "small": dict(backbone_config={"preset": "small"}, proj_dim=128),
        "paper": dict(backbone_config={"preset": "paper"}, proj_dim=256),
    }

    def __post_init__(self) -> None:
        self.channels = tuple(channel_catalogue.resolve(self.channels)) if self.channels else ()
        if not self.channels:
            raise ValueError(
                "SolarCHIPConfig.channels must list the data's channel names "
                "(e.g. from solarray.data.dataset.channels_of(data_dir))"
            )
        split_modalities(self.channels)
        cfg = dict(self.backbone_config)
        preset = cfg.pop("preset", None)
        cfg.pop("in_channels", None)
        backbone_cls = get_model_class(self.backbone)
        resolved = make_config(backbone_cls.config_class, preset, in_channels=1, **cfg)
        plain = dataclasses.asdict(resolved)
        plain.pop("in_channels")
        self.backbone_config = {k: list(v) if isinstance(v, tuple) else v for k, v in plain.items()}

    def backbone_for(self, in_channels: int):
        cls = get_model_class(self.backbone)
        return make_config(cls.config_class, in_channels=in_channels, **self.backbone_config)


@dataclass
class SolarCHIPViTConfig(SolarCHIPConfig):
    backbone: str = "vit_ae"

    def __post_init__(self) -> None:
        if self.backbone != "vit_ae":
            raise ValueError(f"solarchip_vit uses backbone 'vit_ae', got {self.backbone!r}")
        super().__post_init__()


@dataclass
class SolarCHIPCNNConfig(SolarCHIPConfig):
    backbone: str = "cnn_ae"

    def __post_init__(self) -> None:
        if self.backbone != "cnn_ae":
            raise ValueError(f"solarchip_cnn uses backbone 'cnn_ae', got {self.backbone!r}")
        super().__post_init__()


class SolarCHIP(nn.Module):
    """Two same-type autoencoders (AIA, HMI) plus projection heads; see :meth:`forward`."""

    config_class = SolarCHIPConfig

    def __init__(self, config: SolarCHIPConfig):
        super().__init__()
        self.config = config
        split = split_modalities(config.channels)
        self.modalities = MODALITIES
        for m in MODALITIES:
            self.register_buffer(f"idx_{m.lower()}", torch.tensor(split[m]), persistent=False)
        self.encoders = nn.ModuleDict({
            m.lower(): get_model_class(config.backbone)(config.backbone_for(len(split[m])))
            for m in MODALITIES
        })
        # SolarCHIP decodes every patch, so a ViT decoder's mask token is never used; freezing it
        # keeps DDP from waiting for its gradient.
        for enc in self.encoders.values():
            mask_token = getattr(getattr(enc, "decoder", None), "mask_token", None)
            if isinstance(mask_token, nn.Parameter):
                mask_token.requires_grad_(False)
        d = self.encoders["aia"].embed_dim
        p = config.proj_dim

        def head() -> nn.Module:
            return nn.Linear(d, p) if p > 0 else nn.Identity()

        self.global_proj = nn.ModuleDict({m.lower(): head() for m in MODALITIES})
        self.local_proj = nn.ModuleDict({m.lower(): head() for m in MODALITIES})

    @property
    def grid_size(self) -> tuple[int, int]:
        return self.encoders["aia"].grid_size

    @property
    def patch_size(self) -> int:
        return self.encoders["aia"].patch_size

    def split(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        """``image [B, C, H, W]`` (channels in ``config.channels`` order) → per-modality stacks."""
        if image.dim() != 4 or image.shape[1] != len(self.config.channels):
            raise ValueError(
                f"SolarCHIP expects [B, {len(self.config.channels)}, H, W] with channels "
                f"{', '.join(self.config.channels)}; got {tuple(image.shape)}"
            )
        return {m: image.index_select(1, getattr(self, f"idx_{m}")) for m in ("aia", "hmi")}

    def forward(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        """Tokens, projections and reconstructions of both modalities.

        Returns, for m in ``aia``/``hmi``: ``cls_m [B, D]``, ``patches_m [B, N, D]``,
        ``g_m [B, P]`` (projected class token), ``l_m [B, N, P]`` (projected patch tokens),
        ``recon_m [B, C_m, H, W]`` and ``target_m`` (the input channels of that modality).
        """
        out: dict[str, torch.Tensor] = {}
        for m, x in self.split(image).items():
            enc = self.encoders[m]
            cls, patches = enc.encode(x)
            out[f"cls_{m}"] = cls
            out[f"patches_{m}"] = patches
            out[f"g_{m}"] = self.global_proj[m](cls)
            out[f"l_{m}"] = self.local_proj[m](patches)
            out[f"recon_{m}"] = enc.decode(cls, patches)
            out[f"target_{m}"] = x
        return out

    @torch.no_grad()
    def embed(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        """Per-sample embeddings for export: class tokens and projected class tokens per modality."""
        out = {}
        for m, x in self.split(image).items():
            cls, _ = self.encoders[m].encode(x)
            out[f"cls_{m}"] = cls
            out[f"z_{m}"] = self.global_proj[m](cls)
        return out

    def channel_index(self, modality: str) -> list[int]:
        """Indices into ``config.channels`` of one modality (``"aia"`` or ``"hmi"``)."""
        return getattr(self, f"idx_{modality.lower()}").tolist()


@register("solarchip_vit")
class SolarCHIPViT(SolarCHIP):
    """SolarCHIP with ViT autoencoders."""

    config_class = SolarCHIPViTConfig


@register("solarchip_cnn")
class SolarCHIPCNN(SolarCHIP):
    """SolarCHIP with CNN autoencoders."""

    config_class = SolarCHIPCNNConfig
