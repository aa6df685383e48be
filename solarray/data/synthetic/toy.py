"""Tiny co-temporal AIA/HMI stacks generated in memory, for tests, benchmarks and smoke runs.

Not the synthetic Sun (:func:`solarray.data.synthetic.generate`, which writes FITS): this makes
already-scaled ``[C, H, W]`` samples in the training-column layout of
``solarray.data.dataset.to_training`` in milliseconds, with the structure contrastive learning
needs: each sample has 1–4 active regions at random places; HMI channels show each as a tilted
bipole (±, scaled field), AIA channels as a bright blob whose brightness and width depend on the
channel. The ≥M-flare label is 1 when the strongest region's flux exceeds a threshold (so the
label is visible in both modalities, and only in the images).

F10.7/F30 carry no information about the label: F10.7 is a slow hourly random walk (σ 1 sfu per
hour from a random level in 90–130 sfu, floored at 60) plus 2 sfu of noise, F30 = 0.8·F10.7 plus
noise, both drawn independently of the regions. (An earlier version grew F10.7 with the total
flux, which includes the flux that defines the label: F10.7 alone then scored ROC AUC ≈ 0.86, so
a forecaster could "learn" without looking at the images.)
"""

from __future__ import annotations

import numpy as np

from solarray.core import channels as channel_catalogue


def toy_samples(n: int, channels: tuple[str, ...] | list[str] = ("aia171", "aia193", "hmi_m"),
                size: int = 64, seed: int = 0, flare_threshold: float = 1.6,
                start: str = "2024-06-01T00:00") -> dict[str, np.ndarray]:
    """``n`` samples as numpy columns.

    Returns ``image`` float32 ``[n, C, size, size]`` (scaled units, roughly [-1, 1]), ``present``
    float32 ``[n, C]`` (ones), ``flare_m24`` int64 ``[n]``, ``f107``/``f30`` float32 ``[n]`` (sfu,
    independent of the label),
    ``t_obs`` datetime64[s] ``[n]`` (hourly from ``start``), ``sample_id`` str ``[n]``.
    """
    channels = channel_catalogue.resolve(list(channels))
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    r2_disk = ((xx - size / 2 + 0.5) ** 2 + (yy - size / 2 + 0.5) ** 2) / (0.45 * size) ** 2
    disk = (r2_disk <= 1.0).astype(np.float32)
    c_count = len(channels)
    images = np.empty((n, c_count, size, size), np.float32)
    flare = np.zeros(n, np.int64)
    # Channel-specific AIA response: gain and blob widening (hot channels are broader).
    aia_gain = {name: 0.6 + 0.4 * rng.random() for name in channels}
    aia_width = {name: 1.0 + 0.8 * rng.random() for name in channels}
    for i in range(n):
        k = rng.integers(1, 5)
        field = np.zeros((size, size), np.float32)
        glow = {name: np.zeros((size, size), np.float32) for name in channels}
        strongest = 0.0
        for _ in range(k):
            radius = 0.35 * size * np.sqrt(rng.random())
            angle = rng.uniform(0, 2 * np.pi)
            cx, cy = size / 2 + radius * np.cos(angle), size / 2 + radius * np.sin(angle)
            sigma = size * rng.uniform(0.03, 0.08)
            flux = float(rng.lognormal(0.0, 0.5))
            tilt = rng.uniform(-np.pi / 4, np.pi / 4) + (np.pi if rng.random() < 0.5 else 0.0)
            sep = sigma * rng.uniform(1.0, 2.0)
            dx, dy = sep * np.cos(tilt), sep * np.sin(tilt)
            for sign in (1.0, -1.0):
                g = np.exp(-((xx - cx - sign * dx) ** 2 + (yy - cy - sign * dy) ** 2)
                           / (2 * sigma**2))
                field += sign * flux * g
            for name in channels:
                w = sigma * aia_width[name] * 1.5
                glow[name] += flux * np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * w**2))
            strongest = max(strongest, flux)
        flare[i] = int(strongest > flare_threshold)
        for c, name in enumerate(channels):
            inst = channel_catalogue.get(name).instrument
            if inst == "HMI":
                img = 0.5 * field + 0.03 * rng.standard_normal((size, size))
            else:
                img = -0.6 + aia_gain[name] * np.log1p(2.0 * glow[name]) \
                    + 0.03 * rng.standard_normal((size, size))
            images[i, c] = np.clip(img * disk - (1 - disk), -1.0, 1.0)
    t0 = np.datetime64(start, "s")
    t_obs = t0 + np.arange(n) * np.timedelta64(3600, "s")
    # Drawn after the images, so the images are those of earlier versions for the same seed.
    walk = rng.uniform(90.0, 130.0) + np.cumsum(rng.normal(0.0, 1.0, n))
    f107 = np.maximum(60.0, walk + rng.normal(0, 2, n)).astype(np.float32)
    return {
        "image": images,
        "present": np.ones((n, c_count), np.float32),
        "flare_m24": flare,
        "f107": f107,
        "f30": (0.8 * f107 + rng.normal(0, 2, n)).astype(np.float32),
        "t_obs": t_obs,
        "sample_id": np.array([str(t) for t in t_obs]),
    }


def toy_dataset(n: int, channels: tuple[str, ...] | list[str] = ("aia171", "aia193", "hmi_m"),
                size: int = 64, seed: int = 0, rows_per_block: int = 64, **kwargs):
    """:func:`toy_samples` as a Ray Dataset with the training columns (tensor ``image``)."""
    import ray.data

    cols = toy_samples(n, channels, size, seed, **kwargs)
    cols.pop("t_obs")
    rows = [{k: v[i] for k, v in cols.items()} for i in range(n)]
    for r in rows:
        r["flare_m24"], r["sample_id"] = int(r["flare_m24"]), str(r["sample_id"])
        r["f107"], r["f30"] = float(r["f107"]), float(r["f30"])
    return ray.data.from_items(rows, override_num_blocks=max(1, -(-n // rows_per_block)))
