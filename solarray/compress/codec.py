"""Encode shards to latents and decode latents to images with a ``sigma_vae`` checkpoint."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from solarray.compress.latents import Latents
from solarray.core.checkpoints import model_file
from solarray.data import dataset as data_api
from solarray.data.shard_reader import iter_rows, meta_frame
from solarray.models import load_model

MODEL_NAME = "sigma_vae"


def checkpoint_hash(path: str | os.PathLike, length: int = 12) -> str:
    """First ``length`` hex digits of the SHA-256 of the model checkpoint file."""
    h = hashlib.sha256()
    with open(model_file(path), "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()[:length]


def load_vae(path: str | os.PathLike) -> tuple[nn.Module, str]:
    """(model in eval mode, checkpoint hash); ValueError naming the file unless it holds a
    ``sigma_vae``."""
    if not model_file(path).exists():
        raise ValueError(f"{path}: no such checkpoint (a model.pt or a training checkpoint "
                         "directory)")
    try:
        model = load_model(path)
    except (OSError, ValueError, KeyError, RuntimeError) as err:
        raise ValueError(f"{path}: {err}") from None
    if getattr(model, "model_name", None) != MODEL_NAME:
        raise ValueError(f"{path}: holds model {getattr(model, 'model_name', '?')!r}, "
                         f"not {MODEL_NAME}")
    return model.eval(), checkpoint_hash(path)


def model_bytes(path: str | os.PathLike) -> int:
    """Size of the model checkpoint file, bytes."""
    return model_file(path).stat().st_size


@dataclass
class ShardImages:
    """Samples read from shards for the model: ``image`` float32 ``[N, C, H, W]`` (scaled, NaN
    where missing/off-frame) in the model's channel order, ``t_obs`` datetime64[s], ids, frame."""

    image: np.ndarray
    t_obs: np.ndarray
    sample_id: list[str]
    channels: tuple[str, ...]
    frame: float


def iter_shard_batches(data_dir: str | os.PathLike, channels: tuple[str, ...], image_size: int,
                       batch: int = 32, limit: int | None = None) -> Iterator[ShardImages]:
    """Batches of the shards' samples (oldest first) restricted to ``channels``; ValueError when
    the shards lack a channel or are another image size."""
    available = tuple(data_api.channels_of(os.fspath(data_dir)))
    index = data_api.channel_index(available, channels, f"the shards in {data_dir}")
    imgs, times, ids, frame, n = [], [], [], None, 0
    for row in iter_rows(data_dir):
        if row.image.shape[-1] != image_size:
            raise ValueError(f"{data_dir}: shards hold {row.image.shape[-1]} px images, the "
                             f"checkpoint was trained on {image_size} px")
        frame = meta_frame(row.meta) if frame is None else frame
        imgs.append(row.image[index])
        times.append(np.datetime64(row.t_obs, "s"))
        ids.append(row.sample_id)
        n += 1
        if len(imgs) == batch or (limit is not None and n >= limit):
            yield ShardImages(np.stack(imgs), np.array(times), ids, channels, frame)
            imgs, times, ids = [], [], []
        if limit is not None and n >= limit:
            return
    if imgs:
        yield ShardImages(np.stack(imgs), np.array(times), ids, channels, frame)


@torch.no_grad()
def encode(model: nn.Module, images: np.ndarray, batch: int = 32
           ) -> tuple[np.ndarray, np.ndarray]:
    """Scaled images ``[N, C, H, W]`` (NaN → 0) → (μ, log σ) float32 ``[N, K]``."""
    mus, lss = [], []
    for i in range(0, len(images), batch):
        x = torch.from_numpy(np.nan_to_num(images[i:i + batch]).astype(np.float32))
        mu, ls = model.encode(x)
        mus.append(mu.numpy())
        lss.append(ls.numpy())
    k = model.config.bottleneck
    return (np.concatenate(mus) if mus else np.zeros((0, k), np.float32),
            np.concatenate(lss) if lss else np.zeros((0, k), np.float32))


@torch.no_grad()
def decode(model: nn.Module, z: np.ndarray, batch: int = 32) -> np.ndarray:
    """Latents ``[N, K]`` → scaled images float32 ``[N, C, H, W]`` (clipped to [-1, 1], the
    range of the scaled data)."""
    out = []
    for i in range(0, len(z), batch):
        out.append(model.decode(torch.from_numpy(np.asarray(z[i:i + batch], np.float32)))
                   .clamp(-1.0, 1.0).numpy())
    c = model.config
    return (np.concatenate(out) if out else
            np.zeros((0, len(c.channels), c.image_size, c.image_size), np.float32))


def compress_shards(checkpoint: str | os.PathLike, data_dir: str | os.PathLike,
                    batch: int = 32, limit: int | None = None,
                    log: Callable[[str], None] = print) -> Latents:
    """Encode every sample of the shards in ``data_dir`` with the checkpoint's sigma-VAE."""
    model, digest = load_vae(checkpoint)
    c = model.config
    mus, lss, times, ids, frame = [], [], [], [], None
    for part in iter_shard_batches(data_dir, c.channels, c.image_size, batch, limit):
        mu, ls = encode(model, part.image, batch)
        mus.append(mu)
        lss.append(ls)
        times.append(part.t_obs)
        ids.extend(part.sample_id)
        frame = part.frame
    if not ids:
        raise ValueError(f"{data_dir}: the shards hold no samples")
    log(f"encoded {len(ids)} samples of {len(c.channels)} channels to {c.bottleneck} latents")
    info = {"model": MODEL_NAME, "checkpoint": str(Path(checkpoint)), "hash": digest,
            "channels": list(c.channels), "image_size": c.image_size, "frame": frame,
            "bottleneck": c.bottleneck}
    return Latents(np.concatenate(times), ids, np.concatenate(mus), np.concatenate(lss), info)


__all__ = ["MODEL_NAME", "ShardImages", "checkpoint_hash", "compress_shards", "decode", "encode",
           "iter_shard_batches", "load_vae", "model_bytes"]
