"""Input/target pairs for translation from ingest's Parquet shards.

``image`` stacks hold every channel of the shards (:func:`solarray.data.dataset.channels_of`
order); a translation reads its ``inputs`` and ``outputs`` from them by name
(:func:`solarray.data.dataset.channel_index`), so a missing channel is a one-line error.
Arrays are in the scaled [-1, 1] units of the catalogue (NaN off-frame → 0 for the model).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from solarray.data import dataset as data_api
from solarray.data.labels import load_samples


@dataclass
class Pairs:
    """Scaled input ``x`` ``[N, C_in, H, W]`` and target ``y`` ``[N, C_out, H, W]`` float32."""

    x: np.ndarray
    y: np.ndarray
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    sample_id: list[str]

    def __len__(self) -> int:
        return len(self.x)

    def subset(self, index: Sequence[int]) -> Pairs:
        idx = list(index)
        return Pairs(self.x[idx], self.y[idx], self.inputs, self.outputs,
                     [self.sample_id[i] for i in idx])


def check_channels(available: Sequence[str], wanted: Sequence[str], where: str) -> list[int]:
    """Positions of ``wanted`` in ``available``; ValueError naming what is missing."""
    return data_api.channel_index(list(available), list(wanted), where)


def load_pairs(data_dir: str | os.PathLike, inputs: Sequence[str], outputs: Sequence[str],
               split: str | None = "test") -> Pairs:
    """The ``split`` (``train``/``val``/``test``/None = all) of the shards as numpy pairs
    (needs a Ray session; NaN → 0, the scaled background)."""
    data = load_samples(os.fspath(data_dir), split, columns=("sample_id", "image"))
    where = f"the shards in {data_dir}"
    ii = check_channels(data["channels"], inputs, where)
    oi = check_channels(data["channels"], outputs, where)
    image = np.asarray(data["image"], dtype=np.float32)
    if image.ndim != 4 or not len(image):
        raise ValueError(f"{data_dir}: no samples in split {split or 'all'}")
    image = np.nan_to_num(image, nan=0.0, posinf=0.0, neginf=0.0)
    return Pairs(image[:, ii], image[:, oi], tuple(inputs), tuple(outputs),
                 list(data["sample_id"]))


def downsample(a: np.ndarray, factor: int) -> np.ndarray:
    """Mean-pool ``[..., H, W]`` by an integer ``factor`` (1: unchanged)."""
    if factor == 1:
        return a
    *lead, h, w = a.shape
    if h % factor or w % factor:
        raise ValueError(f"image size {h}×{w} is not divisible by {factor}")
    return a.reshape(*lead, h // factor, factor, w // factor, factor).mean(axis=(-3, -1))


def training_datasets(data_dir: str | os.PathLike, channels: Sequence[str],
                      fraction: float = 1.0, seed: int = 0, val: bool = True):
    """``(train, val or None)`` Ray Datasets of the training columns for ``channels``; with
    ``fraction`` < 1 a seeded random ``fraction`` of the training samples (at least one)."""
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction of training pairs must be in (0, 1], got {fraction}")
    available = data_api.channels_of(os.fspath(data_dir))
    index = check_channels(available, channels, f"the shards in {data_dir}")
    splits = data_api.split_by_time(data_api.read_shards(os.fspath(data_dir)))
    train = data_api.to_training(splits["train"], index).materialize()
    if fraction < 1:
        n = max(1, int(round(fraction * train.count())))
        train = train.random_shuffle(seed=seed).limit(n).materialize()
    val_ds = data_api.to_training(splits["val"], index).materialize() if val else None
    return train, val_ds


__all__ = ["Pairs", "check_channels", "downsample", "load_pairs", "training_datasets"]


def load_stack(data_dir: str | os.PathLike, channels: Sequence[str], split: str | None = "val"
               ) -> np.ndarray:
    """Scaled images of ``channels`` ``[N, C, H, W]`` (NaN → 0) of one split (needs Ray)."""
    pairs = load_pairs(data_dir, channels[:1], channels[1:] or channels[:1], split)
    return np.concatenate([pairs.x, pairs.y], axis=1)[:, :len(channels)]
