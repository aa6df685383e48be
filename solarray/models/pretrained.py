"""The one loader for pretrained ViT encoders: MAE (``mae_vit``), ViT autoencoder (``vit_ae``) and
SolarCHIP (``solarchip_vit``, one encoder per instrument) checkpoints → the ViT encoder of SPNet,
FPNet or the Hale/McIntosh classifier (ViT backbone).

One rule for every model:

* the checkpoint must be a :func:`solarray.models.save_model` file (or a training checkpoint
  directory holding one) whose config names the encoder's sizes;
* a SolarCHIP checkpoint holds two encoders (``encoders.aia.encoder.*``, ``encoders.hmi.encoder.*``):
  ``instrument="aia" | "hmi"`` picks one. Without it, the instrument of the model's channels is
  used when they all come from one instrument; otherwise it is an error (ambiguous);
* the encoder fields (:data:`ENCODER_FIELDS`) must agree; ``image_size`` may differ (fixed 2-D
  sin-cos positions);
* the patch embedding is copied per channel, by name. A model that accepts partial channel cover
  (``partial_pretrained_channels``: SPNet, the classifier) keeps its initial weights for channels
  the checkpoint lacks; FPNet needs the same channel set. A checkpoint without channel names
  (``vit_ae``) must have the model's channel count, in the model's order;
* every other encoder tensor is copied as is (strict: all of them, same shapes).

A model offers itself to the loader with ``config`` (``channels`` + :data:`ENCODER_FIELDS`),
``pretrained_encoders()`` (the ViT encoder modules to fill) and the class attribute
``partial_pretrained_channels``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from solarray.core import channels as channel_catalogue
from solarray.core.checkpoints import model_file
from solarray.core.errors import UsageError

#: Encoder fields that must agree between a pretrained checkpoint and the model it initialises.
ENCODER_FIELDS = ("patch_size", "embed_dim", "depth", "num_heads", "mlp_ratio")
#: SolarCHIP's encoders, by the name its state dict uses.
INSTRUMENTS = ("aia", "hmi")
PATCH_KEY = "patch_embed.weight"


@dataclass(frozen=True)
class PretrainedEncoder:
    """One encoder read from a checkpoint.

    ``channels``: input channel names in patch-embedding order (``()`` when the checkpoint does
    not name them, as ``vit_ae``); ``settings``: :data:`ENCODER_FIELDS` + ``image_size``;
    ``state_dict``: :class:`~solarray.models.vit.ViTEncoder` keys (``patch_embed.weight``, ...).
    """

    source: str
    model: str
    instrument: str | None
    channels: tuple[str, ...]
    in_channels: int
    settings: dict[str, Any]
    state_dict: dict[str, torch.Tensor]


def read_checkpoint(path: str | os.PathLike) -> tuple[str, Mapping[str, Any]]:
    """``(file name, checkpoint dict)`` of a model checkpoint file or training checkpoint dir."""
    file = model_file(path)
    if not file.exists():
        raise FileNotFoundError(f"pretrained encoder checkpoint not found: {file}")
    ckpt = torch.load(file, map_location="cpu", weights_only=True)
    if not isinstance(ckpt, Mapping) or not isinstance(ckpt.get("state_dict"), Mapping) \
            or not isinstance(ckpt.get("config"), Mapping):
        raise ValueError(f"{file}: not a solarray model checkpoint (expected a dict with "
                         "'model', 'config' and 'state_dict', as solarray.models.save_model writes)")
    return str(file), ckpt


def _instrument_channels(channels: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """SolarCHIP's split of its channels per encoder (data order kept within each)."""
    out: dict[str, list[str]] = {m: [] for m in INSTRUMENTS}
    for name in channels:
        inst = channel_catalogue.get(name).instrument.lower()
        if inst in out:
            out[inst].append(name)
    return {m: tuple(v) for m, v in out.items()}


def _choose_instrument(source: str, split: Mapping[str, tuple[str, ...]], instrument: str | None,
                       want: Sequence[str]) -> str:
    if instrument:
        inst = instrument.lower()
        if inst not in INSTRUMENTS:
            raise ValueError(f"instrument must be one of {', '.join(INSTRUMENTS)}, "
                             f"got {instrument!r}")
        return inst
    hits = [m for m in INSTRUMENTS if any(c in split[m] for c in want)]
    if len(hits) == 1:
        return hits[0]
    held = "; ".join(f"{m}: {', '.join(split[m])}" for m in INSTRUMENTS)
    raise ValueError(
        f"{source}: a SolarCHIP checkpoint holds two encoders ({held}) and the model's channels "
        f"({', '.join(want) or 'none given'}) do not pick one; pass instrument='aia' or 'hmi'")


def read_encoder(path: str | os.PathLike, instrument: str | None = None,
                 want_channels: Sequence[str] = ()) -> PretrainedEncoder:
    """The ViT encoder of a checkpoint (for SolarCHIP: the ``instrument``'s encoder, or the one
    that holds ``want_channels`` when ``instrument`` is None)."""
    source, ckpt = read_checkpoint(path)
    cfg, state = ckpt["config"], ckpt["state_dict"]
    name = str(ckpt.get("model", "?"))
    if any(k.startswith("encoders.") for k in state):  # SolarCHIP
        if cfg.get("backbone", "vit_ae") != "vit_ae":
            raise ValueError(f"{source}: SolarCHIP with backbone {cfg.get('backbone')!r} has no "
                             "ViT encoder (pretrained encoders need backbone 'vit_ae')")
        split = _instrument_channels(cfg.get("channels") or ())
        inst = _choose_instrument(source, split, instrument, want_channels)
        prefix, fields, channels = f"encoders.{inst}.encoder.", cfg.get("backbone_config", {}), \
            split[inst]
    else:
        if instrument:
            raise ValueError(f"{source}: instrument={instrument!r} picks one of SolarCHIP's "
                             f"encoders, but this {name} checkpoint holds a single encoder")
        inst, prefix, fields = None, "encoder.", cfg
        channels = tuple(cfg.get("channels") or ())
    enc = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
    if PATCH_KEY not in enc:
        raise ValueError(f"{source}: checkpoint of {name!r} has no {prefix}* ViT encoder weights")
    settings = {k: fields[k] for k in (*ENCODER_FIELDS, "image_size") if k in fields}
    missing = [k for k in ENCODER_FIELDS if k not in settings]
    if missing:
        raise ValueError(f"{source}: checkpoint config of {name!r} lacks encoder field(s) "
                         f"{', '.join(missing)}")
    return PretrainedEncoder(source, name, inst, tuple(channels), int(enc[PATCH_KEY].shape[1]),
                             settings, enc)


def encoder_settings(path: str | os.PathLike, instrument: str | None = None,
                     want_channels: Sequence[str] = ()) -> dict[str, Any]:
    """Encoder fields of a pretrained checkpoint: :data:`ENCODER_FIELDS`, ``image_size`` and
    ``channels`` (when the checkpoint names them)."""
    enc = read_encoder(path, instrument, want_channels)
    out = dict(enc.settings)
    if enc.channels:
        out["channels"] = enc.channels
    return out


def _patch_embedding(enc: PretrainedEncoder, target: torch.Tensor, channels: Sequence[str],
                     partial: bool, owner: str) -> torch.Tensor:
    """The checkpoint's patch embedding laid out for the model's ``channels``."""
    src = enc.state_dict[PATCH_KEY]
    if not enc.channels:
        if src.shape[1] != len(channels):
            raise ValueError(f"{enc.source}: the encoder reads {src.shape[1]} unnamed channel(s); "
                             f"{owner} reads {len(channels)} ({', '.join(channels)})")
        return src
    common = [c for c in channels if c in enc.channels]
    if not common or (not partial and set(channels) != set(enc.channels)):
        raise ValueError(f"{enc.source}: encoder channels {list(enc.channels)} do not fit {owner}'s "
                         f"channels {list(channels)}"
                         + ("" if partial else " (the same channel set is needed)"))
    w = target.detach().clone()
    for j, c in enumerate(channels):
        if c in enc.channels:
            w[:, j] = src[:, enc.channels.index(c)]
    return w


def load_encoder(model: nn.Module, path: str | os.PathLike, *,
                 instrument: str | None = None) -> list[str]:
    """Initialise ``model``'s ViT encoder(s) from a pretrained checkpoint (see the module
    docstring for the rule). Returns the loaded encoder keys, sorted."""
    cfg = model.config
    owner = getattr(model, "model_name", type(model).__name__)
    channels = tuple(cfg.channels)
    targets = model.pretrained_encoders()
    enc = read_encoder(path, instrument, channels)
    mismatch = [f"{k}: checkpoint {enc.settings[k]!r} vs {owner} {getattr(cfg, k)!r}"
                for k in ENCODER_FIELDS if enc.settings[k] != getattr(cfg, k)]
    if mismatch:
        raise ValueError(f"{enc.source}: no encoder weights match {owner}'s encoder "
                         f"({'; '.join(mismatch)})")
    partial = bool(getattr(type(model), "partial_pretrained_channels", False))
    loaded: list[str] = []
    for target in targets:
        own = target.state_dict()
        extra = sorted(set(enc.state_dict) - set(own))
        absent = sorted(set(own) - set(enc.state_dict))
        if extra or absent:
            raise ValueError(f"{enc.source}: encoder keys differ from {owner}'s "
                             f"(unexpected {extra[:4]}, missing {absent[:4]})")
        new = {k: v for k, v in enc.state_dict.items() if k != PATCH_KEY}
        new[PATCH_KEY] = _patch_embedding(enc, own[PATCH_KEY], channels, partial, owner)
        bad = [k for k, v in new.items() if v.shape != own[k].shape]
        if bad:
            raise ValueError(f"{enc.source}: encoder tensor shapes differ from {owner}'s at "
                             f"{', '.join(bad[:4])}")
        target.load_state_dict(new, strict=True)
        loaded = sorted(new)
    return loaded


def require_encoder(flag: str, path: str, kinds: str) -> str:
    """``path`` (named by ``flag``) is a readable pretrained ViT encoder checkpoint (``kinds``
    names the accepted models in the message); else a :class:`~solarray.core.errors.UsageError`."""
    if not os.path.exists(path):
        raise UsageError(f"{flag}: no such checkpoint: {path}")
    try:
        encoder_settings(path)
    except Exception as err:  # torch/registry errors of an unreadable or foreign checkpoint
        raise UsageError(f"{flag}: {path} is not a pretrained ViT encoder checkpoint ({kinds}): "
                         f"{' '.join(str(err).split())[:160]}") from None
    return path


__all__ = ["ENCODER_FIELDS", "INSTRUMENTS", "PretrainedEncoder", "encoder_settings",
           "load_encoder", "read_checkpoint", "read_encoder", "require_encoder"]
