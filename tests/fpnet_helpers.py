"""Tiny FPNet inputs made in memory: toy full-disk frames in three calendar months (January =
test, February = training, March = validation) and matching feature tables."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from solarray.forecast.frames import Frames

CH = ("aia304", "hmi_m")
MONTHS = {"train": ("2024-02-03T00:00", 0), "val": ("2024-03-03T00:00", 1),
          "test": ("2024-01-03T00:00", 2)}


def toy_frames(n: dict[str, int] | None = None, size: int = 32) -> Frames:
    """Toy frames (:func:`solarray.data.synthetic.toy.toy_samples`: label = strongest region's flux above
    a threshold, visible in both channels) hourly from the 3rd of Jan/Feb/Mar."""
    from solarray.data.synthetic.toy import toy_samples

    n = n or {"train": 160, "val": 80, "test": 80}
    parts = [toy_samples(n[k], CH, size=size, seed=seed, start=start)
             for k, (start, seed) in MONTHS.items()]
    cat = {k: np.concatenate([p[k] for p in parts]) for k in ("image", "t_obs", "flare_m24", "f107")}
    order = np.argsort(cat["t_obs"])
    return Frames(cat["image"][order], cat["t_obs"][order].astype("datetime64[s]"),
                  cat["flare_m24"][order].astype(np.int64), cat["f107"][order], CH)


def disk_table(frames: Frames) -> pd.DataFrame:
    """Full-disk table: time and label only (F10.7 comes from the frames)."""
    return pd.DataFrame({"t_obs": frames.t.astype("datetime64[us]"), "label": frames.flare_m24})


def ar_table(frames: Frames, per_frame: int = 2, seed: int = 0) -> pd.DataFrame:
    """A per-AR table with random on-disk positions and features, ``per_frame`` regions per time;
    labels follow the flare index (so the physics features carry signal)."""
    rng = np.random.default_rng(seed)
    rows = []
    for t in frames.t:
        for k in range(per_frame):
            fi = float(rng.exponential(5.0))
            rows.append({
                "t_obs": pd.Timestamp(t), "ar_number": 100 + k,
                "hgs_lon": float(rng.uniform(-60, 60)), "hgs_lat": float(rng.uniform(-30, 30)),
                "area_msh": float(rng.uniform(50, 800)), "hale": rng.choice(["alpha", "beta", "beta-x"]),
                "mcintosh": rng.choice(list("ABCDEFH")), "flare_index": fi, "log_r": np.nan,
                "f107": 120.0, "label": int(fi + rng.normal(0, 2) > 8.0),
            })
    return pd.DataFrame(rows)


def ablate_images(frames: Frames, seed: int = 0) -> Frames:
    """A copy of ``frames`` whose every image is Gaussian noise of the same shape with each
    channel's mean and std over the whole set (not per image: a per-image mean would still carry
    the total flux); times, labels and F10.7 unchanged. What a model learns from it, it learns
    without the images."""
    rng = np.random.default_rng(seed)
    img = frames.image
    mean = img.mean(axis=(0, 2, 3), keepdims=True)
    std = img.std(axis=(0, 2, 3), keepdims=True)
    noise = (mean + std * rng.standard_normal(img.shape)).astype(img.dtype)
    return dataclasses.replace(frames, image=noise)


SCALARS = ("flare_index", "area_msh", "f107")


def shuffle_scalars(table: pd.DataFrame, seed: int = 0,
                    columns: tuple[str, ...] = SCALARS) -> pd.DataFrame:
    """A copy of ``table`` with ``columns`` (the physics scalars) permuted together across rows,
    so each row keeps its time, position, categories and label but gets another row's scalars."""
    out = table.copy()
    order = np.random.default_rng(seed).permutation(len(table))
    for c in columns:
        out[c] = table[c].to_numpy()[order]
    return out


def write_shards(frames: Frames, out_dir: str) -> None:
    """Write ``frames`` as ingest shards (via :func:`solarray.data.shards.write_shard`)."""
    from solarray.data.grouping import sample_id_of
    from solarray.data.shards import write_shard

    rows = []
    for i, t in enumerate(frames.t):
        dt = datetime(1970, 1, 1) + timedelta(seconds=int(t.astype("datetime64[s]").astype(np.int64)))
        rows.append({"t_obs": dt, "sample_id": sample_id_of(dt), "image": frames.image[i],
                     "present": np.ones(len(frames.channels), bool), "meta": "{}",
                     "labels": {"flare_class_24h": "M2.0" if frames.flare_m24[i] else "C1.0",
                                "f107": float(frames.f107[i]), "f30": float("nan")}})
    for k in range(0, len(rows), 128):
        write_shard(rows[k:k + 128], out_dir, frames.channels)
