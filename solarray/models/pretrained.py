"""The one loader for pretrained encoders: MAE (``mae_vit``), ViT autoencoder (``vit_ae``) and
SolarCHIP (``solarchip_vit``, one encoder per instrument) checkpoints → the ViT encoder of SPNet,
FPNet, the Hale/McIntosh classifier (ViT backbone) or the ControlNet-style translator; CNN
autoencoder (``cnn_ae``) and SolarCHIP CNN (``solarchip_cnn``) checkpoints → a CNN encoder
(:class:`~solarray.models.cnn_ae.CNNTokenEncoder`: the translator with ``encoder="cnn"``).

One rule for every model:

* the checkpoint must be a :func:`solarray.models.save_model` file (or a training checkpoint
  directory holding one) whose config names the encoder's sizes;
* a SolarCHIP checkpoint holds two encoders (``encoders.aia.encoder.*``, ``encoders.hmi.encoder.*``):
  ``instrument="aia" | "hmi"`` picks one. Without it, the instrument of the model's channels is
  used when they all come from one instrument; otherwise it is an error (ambiguous);
* the encoder kind must agree (a model asks for ``pretrained_encoder_kind``, ``"vit"`` unless it
  says otherwise), and so must its fields (:data:`KIND_FIELDS`: :data:`ENCODER_FIELDS` for a ViT,
  :data:`CNN_ENCODER_FIELDS` for a CNN); ``image_size`` may differ (fixed 2-D sin-cos positions;
  a CNN is convolutional);
* the patch embedding (a CNN: its first convolution) is copied per channel, by name. A model that accepts partial channel cover
  (``partial_pretrained_channels``: SPNet, the classifier) keeps its initial weights for channels
  the checkpoint lacks; FPNet needs the same channel set. A checkpoint without channel names
  (``vit_ae``) must have the model's channel count, in the model's order;
* every other encoder tensor is copied as is (strict: all of them, same shapes).

A model offers itself to the loader with ``config`` (``channels`` + the kind's fields),
``pretrained_encoders()`` (the encoder modules to fill), the class attribute
``partial_pretrained_channels`` and, for a CNN, ``pretrained_encoder_kind = "cnn"``.
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

#: ViT encoder fields that must agree between a pretrained checkpoint and the model it initialises.
ENCODER_FIELDS = ("patch_size", "embed_dim", "depth", "num_heads", "mlp_ratio")
#: The same for a CNN encoder (one stride-2 stage per width, then a 1×1 projection to embed_dim).
CNN_ENCODER_FIELDS = ("widths", "embed_dim")
KIND_FIELDS = {"vit": ENCODER_FIELDS, "cnn": CNN_ENCODER_FIELDS}
#: Which encoder kind each autoencoder backbone (SolarCHIP's ``backbone``) holds.
BACKBONE_KIND = {"vit_ae": "vit", "cnn_ae": "cnn"}
#: SolarCHIP's encoders, by the name its state dict uses.
INSTRUMENTS = ("aia", "hmi")
PATCH_KEY = "patch_embed.weight"
#: The tensor whose dim 1 is the input channel, per encoder kind.
FIRST_KEY = {"vit": PATCH_KEY, "cnn": "encoder.0.0.weight"}
#: A CNN encoder's keys inside its autoencoder (CNNAE's conv stack + token norm, not its heads).
CNN_PARTS = ("encoder.", "token_norm.")


@dataclass(frozen=True)
class PretrainedEncoder:
    """One encoder read from a checkpoint.

    ``channels``: input channel names in patch-embedding order (``()`` when the checkpoint does
    not name them, as ``vit_ae``); ``settings``: the kind's fields + ``image_size``;
    ``state_dict``: :class:`~solarray.models.vit.ViTEncoder` keys (``patch_embed.weight``, ...)
    or, ``kind="cnn"``, :class:`~solarray.models.cnn_ae.CNNTokenEncoder` keys.
    """

    source: str
    model: str
    instrument: str | None
    channels: tuple[str, ...]
    in_channels: int
    settings: dict[str, Any]
    state_dict: dict[str, torch.Tensor]
    kind: str = "vit"


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


def _plain(value: Any) -> Any:
    """A config value as compared: lists (a JSON-stored ``widths``) as tuples of ints."""
    return tuple(int(v) for v in value) if isinstance(value, list | tuple) else value


def read_encoder(path: str | os.PathLike, instrument: str | None = None,
                 want_channels: Sequence[str] = (), kind: str = "vit") -> PretrainedEncoder:
    """The ``kind`` (``"vit"`` | ``"cnn"``) encoder of a checkpoint (for SolarCHIP: the
    ``instrument``'s encoder, or the one that holds ``want_channels`` when ``instrument`` is
    None). A checkpoint holding the other kind is an error naming it."""
    if kind not in KIND_FIELDS:
        raise ValueError(f"encoder kind must be one of {', '.join(KIND_FIELDS)}, got {kind!r}")
    source, ckpt = read_checkpoint(path)
    cfg, state = ckpt["config"], ckpt["state_dict"]
    name = str(ckpt.get("model", "?"))
    label = "ViT" if kind == "vit" else "CNN"
    if any(k.startswith("encoders.") for k in state):  # SolarCHIP
        backbone = cfg.get("backbone", "vit_ae")
        if BACKBONE_KIND.get(backbone) != kind:
            want = next(b for b, k in BACKBONE_KIND.items() if k == kind)
            raise ValueError(f"{source}: SolarCHIP with backbone {backbone!r} has no {label} "
                             f"encoder (this model needs backbone {want!r})")
        split = _instrument_channels(cfg.get("channels") or ())
        inst = _choose_instrument(source, split, instrument, want_channels)
        prefix = f"encoders.{inst}.encoder." if kind == "vit" else f"encoders.{inst}."
        fields, channels = cfg.get("backbone_config", {}), split[inst]
    else:
        if instrument:
            raise ValueError(f"{source}: instrument={instrument!r} picks one of SolarCHIP's "
                             f"encoders, but this {name} checkpoint holds a single encoder")
        if (name == "cnn_ae") != (kind == "cnn"):
            raise ValueError(f"{source}: a {name} checkpoint has no {label} encoder")
        inst, prefix, fields = None, "encoder." if kind == "vit" else "", cfg
        channels = tuple(cfg.get("channels") or ())
    enc = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
    if kind == "cnn":
        enc = {k: v for k, v in enc.items() if k.startswith(CNN_PARTS)}
    first = FIRST_KEY[kind]
    if first not in enc:
        raise ValueError(f"{source}: checkpoint of {name!r} has no {prefix}* {label} encoder "
                         "weights")
    settings = {k: _plain(fields[k]) for k in (*KIND_FIELDS[kind], "image_size") if k in fields}
    missing = [k for k in KIND_FIELDS[kind] if k not in settings]
    if missing:
        raise ValueError(f"{source}: checkpoint config of {name!r} lacks encoder field(s) "
                         f"{', '.join(missing)}")
    return PretrainedEncoder(source, name, inst, tuple(channels), int(enc[first].shape[1]),
                             settings, enc, kind)


def encoder_settings(path: str | os.PathLike, instrument: str | None = None,
                     want_channels: Sequence[str] = (), kind: str = "vit") -> dict[str, Any]:
    """Encoder fields of a pretrained checkpoint: the kind's fields (:data:`KIND_FIELDS`),
    ``image_size`` and ``channels`` (when the checkpoint names them)."""
    enc = read_encoder(path, instrument, want_channels, kind)
    out = dict(enc.settings)
    if enc.channels:
        out["channels"] = enc.channels
    return out


def _patch_embedding(enc: PretrainedEncoder, target: torch.Tensor, channels: Sequence[str],
                     partial: bool, owner: str) -> torch.Tensor:
    """The checkpoint's patch embedding (CNN: first convolution) laid out for ``channels``."""
    src = enc.state_dict[FIRST_KEY[enc.kind]]
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
    """Initialise ``model``'s encoder(s) from a pretrained checkpoint (see the module
    docstring for the rule). Returns the loaded encoder keys, sorted."""
    cfg = model.config
    owner = getattr(model, "model_name", type(model).__name__)
    channels = tuple(cfg.channels)
    targets = model.pretrained_encoders()
    kind = getattr(model, "pretrained_encoder_kind", "vit")
    enc = read_encoder(path, instrument, channels, kind)
    mismatch = [f"{k}: checkpoint {enc.settings[k]!r} vs {owner} {_plain(getattr(cfg, k))!r}"
                for k in KIND_FIELDS[kind] if enc.settings[k] != _plain(getattr(cfg, k))]
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
        first = FIRST_KEY[kind]
        new = {k: v for k, v in enc.state_dict.items() if k != first}
        new[first] = _patch_embedding(enc, own[first], channels, partial, owner)
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


__all__ = ["CNN_ENCODER_FIELDS", "ENCODER_FIELDS", "INSTRUMENTS", "KIND_FIELDS", "PretrainedEncoder",
           "encoder_settings", "load_encoder", "read_checkpoint", "read_encoder", "require_encoder"]
