"""Tiny segmentation samples generated in code and written as ingest-format shards (SPNet tests).

Each 64² sample (disk-centred frame, ±1.1 R☉) has channels hmi_m, aia193, aia304 and truth masks:

* AR: an ellipse; ``hmi_m`` shows a bipole (two opposite blobs inside it), ``aia304`` a bright
  plage over it — a threshold on |B| catches only the poles;
* CH: an irregular blob, darker in ``aia193`` on a background with large-scale brightness
  variations and noise;
* FL: a thin curved line, dark in ``aia304``, one or two pixels wide, with noise.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import numpy as np

from solarray.core.frame import disk_mask

CHANNELS = ("hmi_m", "aia193", "aia304")


def make_samples(n: int, size: int = 64, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    c = (np.arange(size) + 0.5) / size * 2.2 - 1.1
    X, Y = np.meshgrid(c, c)
    disk = disk_mask(size)
    images = np.zeros((n, 3, size, size), np.float32)
    masks = np.zeros((n, 3, size, size), np.uint8)
    for i in range(n):
        hmi = 0.05 * rng.standard_normal((size, size))
        a193 = 0.3 + 0.08 * np.sin(3 * X + rng.uniform(0, 6)) * np.cos(2 * Y + rng.uniform(0, 6))
        a193 = a193 + 0.05 * rng.standard_normal((size, size))
        a304 = 0.1 + 0.05 * rng.standard_normal((size, size))
        for _ in range(rng.integers(1, 4)):  # active regions
            r, th = 0.75 * np.sqrt(rng.random()), rng.uniform(0, 2 * np.pi)
            cx, cy = r * np.cos(th), r * np.sin(th)
            a, b = rng.uniform(0.09, 0.16), rng.uniform(0.06, 0.1)
            ell = ((X - cx) / a) ** 2 + ((Y - cy) / b) ** 2 <= 1
            masks[i, 0] |= ell
            s = 0.35 * a
            for sign in (1, -1):
                hmi += sign * 0.6 * np.exp(-((X - cx - sign * s) ** 2 + (Y - cy) ** 2)
                                           / (2 * (0.4 * b) ** 2))
            a304 += 0.25 * np.exp(-(((X - cx) / a) ** 2 + ((Y - cy) / b) ** 2))
            a193 += 0.15 * np.exp(-(((X - cx) / a) ** 2 + ((Y - cy) / b) ** 2))
        if rng.random() < 0.8:  # a coronal hole
            r, th = 0.6 * np.sqrt(rng.random()), rng.uniform(0, 2 * np.pi)
            cx, cy = r * np.cos(th), r * np.sin(th)
            ang = np.arctan2(Y - cy, X - cx)
            rad = rng.uniform(0.12, 0.22) * (1 + 0.25 * np.sin(3 * ang + rng.uniform(0, 6)))
            ch = np.hypot(X - cx, Y - cy) <= rad
            masks[i, 1] |= ch & ~masks[i, 0].astype(bool)
            a193 -= 0.16 * masks[i, 1]
        for _ in range(rng.integers(1, 3)):  # filaments: arcs
            cx, cy = rng.uniform(-0.6, 0.6, 2)
            rad, t0 = rng.uniform(0.2, 0.4), rng.uniform(0, 2 * np.pi)
            t = np.linspace(t0, t0 + rng.uniform(0.5, 1.0), 60)
            px = ((cx + rad * np.cos(t)) + 1.1) / 2.2 * size - 0.5
            py = ((cy + rad * np.sin(t)) + 1.1) / 2.2 * size - 0.5
            line = np.zeros((size, size), bool)
            ok = (px >= 0) & (px < size - 1) & (py >= 0) & (py < size - 1)
            line[np.round(py[ok]).astype(int), np.round(px[ok]).astype(int)] = True
            masks[i, 2] |= line & ~masks[i, 0].astype(bool)
            a304 -= 0.18 * masks[i, 2]
        for k in range(3):
            masks[i, k] &= disk
        for j, plane in enumerate((hmi, a193, a304)):
            images[i, j] = np.where(disk, plane, np.nan if j == 0 else -1.0)
    return {"image": images, "masks": masks}


def write_shards(out_dir, n_train: int = 48, n_test: int = 16, size: int = 64, seed: int = 0
                 ) -> dict:
    """Shards with ``n_train`` samples in February (train split) and ``n_test`` in January (test
    split of :func:`solarray.data.dataset.split_by_time`). Returns the arrays and sample ids."""
    from solarray.data.shards import write_shard

    data = make_samples(n_train + n_test, size, seed)
    times = [datetime(2024, 1, 5) + timedelta(hours=8 * i) for i in range(n_test)]
    times += [datetime(2024, 2, 5) + timedelta(hours=8 * i) for i in range(n_train)]
    order = list(range(n_train, n_train + n_test)) + list(range(n_train))  # tests first in time
    rows = []
    for t, i in zip(sorted(times), order, strict=True):
        sid = t.strftime("%Y-%m-%dT%H:%M:%S")
        meta = {"sample_id": sid, "channels": {ch: {"header": {
            "DATE-OBS": sid, "RSUN_OBS": 975.0, "DSUN_OBS": 1.47e11, "HGLN_OBS": 0.0,
            "HGLT_OBS": -3.0}} for ch in CHANNELS}}
        rows.append({"t_obs": t, "sample_id": sid, "image": data["image"][i],
                     "present": np.ones(3, bool), "meta": json.dumps(meta),
                     "masks": data["masks"][i], "labels": {}})
    out_dir.mkdir(parents=True, exist_ok=True)
    write_shard(rows[: n_test + n_train // 2], str(out_dir), CHANNELS)
    write_shard(rows[n_test + n_train // 2:], str(out_dir), CHANNELS)
    ids = [r["sample_id"] for r in rows]
    return {"ids": ids, "test_ids": ids[:n_test], "train_ids": ids[n_test:],
            "image": np.stack([r["image"] for r in rows]),
            "masks": np.stack([r["masks"] for r in rows])}
