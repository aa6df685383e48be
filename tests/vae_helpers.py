"""Shared helpers of the sigma-VAE tests: tiny shards in ingest's format, in-process training."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from solarray.data.shards import write_shard
from solarray.data.synthetic.toy import toy_samples
from solarray.models import build, save_model
from solarray.train.objectives import get_objective

CH = ("aia171", "aia304", "hmi_m")


def write_toy_shards(out_dir: Path, n: int, size: int = 32, seed: int = 5,
                     channels: tuple[str, ...] = CH, start: str = "2024-06-01T00:00") -> Path:
    """``n`` toy samples (hourly from ``start``) as two shards of ingest's schema."""
    cols = toy_samples(n, channels, size=size, seed=seed, start=start)
    rows = [{"t_obs": cols["t_obs"][i].astype("datetime64[us]").item(),
             "sample_id": str(cols["sample_id"][i]), "image": cols["image"][i],
             "present": cols["present"][i].astype(bool),
             "meta": json.dumps({"preprocess": {"frame": 1.1}}), "masks": None,
             "labels": {"f107": float(cols["f107"][i]), "f30": float(cols["f30"][i])}}
            for i in range(n)]
    out_dir.mkdir(parents=True, exist_ok=True)
    write_shard(rows[: n // 2], str(out_dir), channels)
    write_shard(rows[n // 2:], str(out_dir), channels)
    return out_dir


def train_in_process(images: np.ndarray, channels=CH, steps: int = 300, batch: int = 16,
                     lr: float = 2e-3, seed: int = 0, sigma_mode: str = "scalar"):
    """A tiny sigma_vae trained by the objective's step with plain AdamW (no Ray)."""
    torch.manual_seed(seed)
    obj = get_objective("sigma_vae")
    model = build("sigma_vae", preset="tiny", channels=channels,
                  image_size=images.shape[-1], sigma_mode=sigma_mode)
    opt = torch.optim.AdamW(model.parameters(), lr=lr)
    x = torch.from_numpy(np.nan_to_num(images).astype(np.float32))
    gen = torch.Generator().manual_seed(seed)
    losses = []
    for _ in range(steps):
        idx = torch.randint(0, len(x), (batch,), generator=gen)
        loss, _ = obj.step(model, {"image": x[idx]})
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    return model.eval(), losses


def untrained(channels=CH, size: int = 32, seed: int = 0):
    torch.manual_seed(seed)
    return build("sigma_vae", preset="tiny", channels=channels, image_size=size).eval()


def save(model, path: Path) -> Path:
    return save_model(model, path)
