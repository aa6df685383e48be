"""Full-disk frames for FPNet: every sample of ingest's shards in memory, and where a region is.

::

    frames = load_frames("data/shards")          # images [N, C, H, W], times, labels, F10.7
    rows, cols = ar_pixel(lon, lat, times, frames.image.shape[-1], frames.frame_rsun)
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from solarray.core.frame import FRAME_RSUN
from solarray.core.geometry import ARCSEC, R_SUN_M, earth_observer, hgs_to_hpc
from solarray.data import dataset as data_api
from solarray.data.shards import shard_paths
from solarray.train.local_shards import LocalShards
from solarray.train.shard_input import read_columns


@dataclass
class Frames:
    """Full-disk frames in memory: ``image`` float32 ``[N, C, H, W]`` (scaled, NaN → 0), ``t``
    datetime64[s] ``[N]``, ``flare_m24`` int64 ``[N]`` (-1 unknown), ``f107`` float32 ``[N]``."""

    image: np.ndarray
    t: np.ndarray
    flare_m24: np.ndarray
    f107: np.ndarray
    channels: tuple[str, ...]
    frame_rsun: float = FRAME_RSUN

    def __len__(self) -> int:
        return len(self.t)


def ingest_frame(data_dir: str | os.PathLike) -> float:
    """The frame half-width (R☉) ingest wrote the shards of ``data_dir`` with (its
    ``ingest.json``), else :data:`~solarray.core.frame.FRAME_RSUN`."""
    settings = Path(data_dir) / "ingest.json"
    if not settings.exists():
        return FRAME_RSUN
    return float(json.loads(settings.read_text()).get("settings", {}).get("frame", FRAME_RSUN))


def load_frames(data_dir: str | os.PathLike, frame_rsun: float | None = None,
                local: bool = False) -> Frames:
    """Every sample of ingest's shards in ``data_dir`` (via :mod:`solarray.data.dataset`),
    sorted by time. Needs Ray, unless ``local``: the shards read in this process with pyarrow
    and the same conversion (:class:`~solarray.train.local_shards.LocalShards`)."""
    data_dir = os.fspath(data_dir)
    channels = tuple(data_api.channels_of(data_dir))
    if frame_rsun is None:
        frame_rsun = ingest_frame(data_dir)
    names = ("image", "t_unix", "flare_m24", "f107")
    parts: dict[str, list[np.ndarray]] = {k: [] for k in names}
    if local:
        paths = tuple(shard_paths(data_dir))
        available = pq.read_schema(paths[0]).names if paths else None
        src = LocalShards(paths, tuple(read_columns(names, available)), names, split=None)
        batches = (src.decode(p) for p in paths)
    else:
        ds = data_api.to_training(data_api.read_shards(data_dir)).select_columns(list(names))
        batches = ds.iter_batches(batch_size=64, batch_format="numpy")
    for batch in batches:
        for k in parts:
            parts[k].append(np.asarray(batch[k]))
    if not parts["t_unix"]:
        raise ValueError(f"{data_dir}: the shards hold no samples")
    cols = {k: np.concatenate(v) for k, v in parts.items()}
    order = np.argsort(cols["t_unix"], kind="stable")
    return Frames(cols["image"][order].astype(np.float32),
                  cols["t_unix"][order].astype("datetime64[s]"),
                  cols["flare_m24"][order].astype(np.int64), cols["f107"][order].astype(np.float32),
                  channels, frame_rsun)


def select_channels(frames: Frames, channels: Sequence[str]) -> Frames:
    """``frames`` restricted to ``channels`` (in that order); ValueError naming the missing ones."""
    idx = data_api.channel_index(frames.channels, channels, "the frames")
    return Frames(frames.image[:, idx], frames.t, frames.flare_m24, frames.f107, tuple(channels),
                  frames.frame_rsun)


def ar_pixel(lon: np.ndarray, lat: np.ndarray, times: Sequence, size: int,
             frame_rsun: float = FRAME_RSUN) -> tuple[np.ndarray, np.ndarray]:
    """Pixel (row, col) of Stonyhurst ``lon``/``lat`` (deg) in the preprocessed frame: north
    up (row grows northward, FITS order), disk centre at ((size−1)/2, (size−1)/2), ±``frame_rsun``
    R☉ across ``size`` pixels. Uses the Earth observer at each time (SDO is within 0.03 %)."""
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    t = pd.to_datetime(pd.Series(list(times)), utc=True)
    rows, cols = np.empty(len(lon)), np.empty(len(lon))
    cache: dict[pd.Timestamp, Any] = {}
    c = (size - 1) / 2.0
    px_per_rsun = size / (2.0 * frame_rsun)
    for i, ti in enumerate(t):
        if ti not in cache:
            cache[ti] = earth_observer(ti.strftime("%Y-%m-%dT%H:%M:%S.%f"))
        obs = cache[ti]
        tx, ty, _ = hgs_to_hpc(lon[i:i + 1], lat[i:i + 1], obs)
        rsun_arcsec = np.arcsin(R_SUN_M / obs.dsun) / ARCSEC
        cols[i] = c + tx[0] / rsun_arcsec * px_per_rsun
        rows[i] = c + ty[0] / rsun_arcsec * px_per_rsun
    return rows, cols
