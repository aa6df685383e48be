"""Tiny FPNet inputs made in memory: toy full-disk frames in three calendar months (January =
test, February = training, March = validation) and matching feature tables."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
from train_helpers import train_in_process

from solarray.forecast.frames import Frames
from solarray.train.config import TrainConfig

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


def delta_frames(n: dict[str, int] | None = None, size: int = 64, seed: int = 0,
                 per_frame: int = 3, p_delta: float = 0.35) -> tuple[Frames, pd.DataFrame]:
    """Frames (hourly from the 3rd of Jan/Feb/Mar, as :func:`toy_frames`) with ``per_frame``
    regions each, and their per-AR table, where only the ``hmi_m`` image says which regions are
    labelled 1. Each region is a bipole of random amplitude, width, tilt and sign, normalised to
    its amplitude at its peak |B|: label 1 (probability ``p_delta``) a compact δ-like bipole
    (polarity centres ≈ 1.7 σ apart: a strong-gradient PIL), label 0 a separated one (≈ 5 σ).
    ``aia304`` shows a glow of random brightness over every region (no label information).
    The table gives the region centres as ``pixel_y``/``pixel_x`` (on the frames' grid; no
    ephemeris calls) and no physics at all: no scalar or category column, and the frames'
    F10.7 is NaN, so FPNet's scalars are all unknown and its categories all 0."""
    n = n or {"train": 80, "val": 10, "test": 60}
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    c = (size - 1) / 2
    disk = (yy - c) ** 2 + (xx - c) ** 2 <= (size / (2 * 1.1)) ** 2
    slots = np.linspace(-0.25, 0.25, per_frame) if per_frame > 1 else np.zeros(1)

    def blob(y, x, s):
        return np.exp(-((yy - y) ** 2 + (xx - x) ** 2) / (2 * s * s))

    images, times, rows = [], [], []
    for key, (start, _) in MONTHS.items():
        for t in np.datetime64(start, "s") + np.arange(n[key]) * np.timedelta64(3600, "s"):
            cols = c + size * (slots + rng.uniform(-0.04, 0.04, per_frame))
            rws = c + size * rng.uniform(-0.2, 0.2, per_frame)
            field = np.zeros((size, size))
            glow = np.zeros((size, size))
            for k in range(per_frame):
                delta = int(rng.random() < p_delta)
                amp, sigma = rng.uniform(0.4, 0.9), rng.uniform(1.0, 1.5)
                tilt = rng.uniform(0, 2 * np.pi)
                half = rng.uniform(0.8, 1.3) if delta else rng.uniform(2.8, 3.8)  # pixels
                dy, dx = half * np.sin(tilt), half * np.cos(tilt)
                pair = (blob(rws[k] + dy, cols[k] + dx, sigma)
                        - blob(rws[k] - dy, cols[k] - dx, sigma))
                field += rng.choice([-1.0, 1.0]) * amp * pair / np.abs(pair).max()
                glow += rng.uniform(0.3, 1.0) * blob(rws[k], cols[k], 2.5 * sigma)
                rows.append({"t_obs": pd.Timestamp(t), "ar_number": 100 + k, "hgs_lon": np.nan,
                             "hgs_lat": np.nan, "pixel_y": rws[k], "pixel_x": cols[k],
                             "label": delta})
            noise = 0.03 * rng.standard_normal((2, size, size))
            aia = -0.6 + np.log1p(2.0 * glow) + noise[0]
            hmi = np.clip(field + noise[1], -1.0, 1.0)
            images.append(np.where(disk, np.stack([aia, hmi]), -1.0))
            times.append(t)
    order = np.argsort(np.array(times))
    t = np.array(times, dtype="datetime64[s]")[order]
    frames = Frames(np.asarray(images, np.float32)[order], t, np.full(len(t), -1, np.int64),
                    np.full(len(t), np.nan, np.float32), CH)
    return frames, pd.DataFrame(rows)


def fit_in_process(ex, labels: np.ndarray, model_config: dict, *, steps: int = 200,
                   batch_size: int = 64, lr: float = 2e-3, seed: int = 0):
    """FPNet trained on ``ex`` (:class:`~solarray.forecast.examples.Examples`) with ``labels``
    in this process (:func:`train_helpers.train_in_process`): the ``fpnet`` objective with
    ``pos_weight`` = negatives/positives and the optimiser settings of :func:`train_fpnet`
    (AdamW, 20 warm-up steps, cosine decay). Returns the model in eval mode."""
    labels = np.asarray(labels)
    pos_weight = float((labels == 0).sum() / max(1, (labels == 1).sum()))
    cfg = TrainConfig(model="fpnet", model_config=model_config, objective="fpnet",
                      objective_config={"pos_weight": pos_weight}, channels=CH, steps=steps,
                      batch_size=batch_size, lr=lr, warmup_steps=min(20, steps - 1), seed=seed,
                      amp=False)
    return train_in_process(cfg, {"image": ex.image, "scalars": ex.scalars,
                                  "categories": ex.categories, "label": labels})
