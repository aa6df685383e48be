"""The reconstruction and compression report of a sigma-VAE on a dataset (Brown 2023 Tables 1, 3)
and sampling from its latent prior."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import nn

from solarray.compress.codec import decode, encode, iter_shard_batches, load_vae, model_bytes
from solarray.compress.fits_out import to_physical
from solarray.compress.native import MIB, native_sizes, table1
from solarray.core.errors import UsageError
from solarray.core.frame import FRAME_RSUN, disk_mask
from solarray.data.shards import MANIFEST
from solarray.metrics.reconstruction import compression_table, reconstruction_table


def sample_latents(n: int, k: int, seed: int = 0) -> np.ndarray:
    """``n`` draws of N(0, I) in ``k`` dimensions, float32 (reproducible by ``seed``)."""
    if n < 1:
        raise ValueError(f"number of samples must be ≥ 1, got {n}")
    return np.random.default_rng(seed).standard_normal((n, k)).astype(np.float32)


def sample_images(model: nn.Module, n: int, seed: int = 0) -> np.ndarray:
    """Decode ``n`` N(0, I) latents → scaled images ``[n, C, H, W]``."""
    return decode(model, sample_latents(n, model.config.bottleneck, seed))


def reconstruct(model: nn.Module, images: np.ndarray, batch: int = 32) -> np.ndarray:
    """Scaled images → their reconstruction from the posterior mean (scaled, NaN kept where the
    input was NaN so missing pixels stay out of the metrics)."""
    mu, _ = encode(model, images, batch)
    recon = decode(model, mu, batch)
    return np.where(np.isfinite(images), recon, np.nan)


def metrics_for(model: nn.Module, images: np.ndarray, channels: tuple[str, ...],
                frame: float = FRAME_RSUN, batch: int = 32) -> list[dict[str, Any]]:
    """Per-channel reconstruction rows (physical units, on-disk pixels) of scaled ``images``."""
    recon = reconstruct(model, images, batch)
    mask = disk_mask(images.shape[-1], frame)
    return reconstruction_table(to_physical(images, channels), to_physical(recon, channels),
                                channels, mask)


def reconstruction_report(checkpoint: str | os.PathLike, data_dir: str | os.PathLike,
                          limit: int | None = None, batch: int = 32,
                          log: Callable[[str], None] = print) -> dict[str, Any]:
    """``{"checkpoint", "hash", "channels", "n_samples", "rows", "compression_native",
    "compression_shards", "native", "table1"}`` for the shards in ``data_dir`` (every sample, or
    the first ``limit``).

    Rows are averaged over samples by pooling pixels (one correlation over every on-disk pixel
    of every sample per channel). Compression counts the latents as float32 μ (what
    ``decompress`` needs) plus the checkpoint file, against (``compression_native``) the
    native-resolution data of the evaluated samples as float32 — read from the ingest manifest,
    see :mod:`solarray.compress.native` — and (``compression_shards``, the per-shard ratio) the
    ingested float32 images at ``image_size``. ``table1``: the seed's Table 1 for the four
    bottlenecks at this dataset's size. Without a manifest (shards not written by ingest)
    ``native`` is None and the native figures are left out, as they are for a manifest written
    before ingest recorded native sizes (``native_unknown`` says why; the rest of the report
    stands).
    """
    torch.set_grad_enabled(False)
    try:
        model, digest = load_vae(checkpoint)
        c = model.config
        real, recon, frame, n, ids = [], [], FRAME_RSUN, 0, []
        for part in iter_shard_batches(data_dir, c.channels, c.image_size, batch, limit):
            real.append(part.image)
            ids.extend(str(i) for i in part.sample_id)
            recon.append(reconstruct(model, part.image, batch))
            frame = part.frame
            n += len(part.image)
    finally:
        torch.set_grad_enabled(True)
    if not n:
        raise ValueError(f"{data_dir}: the shards hold no samples")
    real_a, recon_a = np.concatenate(real), np.concatenate(recon)
    mask = disk_mask(c.image_size, frame)
    rows = reconstruction_table(to_physical(real_a, c.channels), to_physical(recon_a, c.channels),
                                c.channels, mask)
    original = n * len(c.channels) * c.image_size**2 * 4
    ckpt_bytes = model_bytes(checkpoint)
    shards = compression_table(n, original, c.bottleneck, ckpt_bytes)
    native, unknown = None, None
    if not os.path.isfile(os.path.join(os.fspath(data_dir), MANIFEST)):
        unknown = f"no {MANIFEST} beside the shards"
    else:
        try:
            native = native_sizes(data_dir, ids, c.channels)
        except ValueError as err:
            if "native_shape" not in str(err):
                raise
            unknown = str(err)
            log(f"compression vs native data left out: {err}")
    log(f"evaluated {n} samples, {len(c.channels)} channels, frame ±{frame:g} R☉")
    return {"checkpoint": str(checkpoint), "hash": digest, "channels": list(c.channels),
            "n_samples": n, "image_size": c.image_size, "bottleneck": c.bottleneck,
            "rows": rows, "native": native, "native_unknown": unknown,
            "compression_native": None if native is None else compression_table(
                n, native["float32_bytes"], c.bottleneck, ckpt_bytes),
            "compression_shards": shards,
            "table1": table1(c, n, None if native is None else native["float32_bytes"],
                             original)}


def evaluate_reconstruction(checkpoint: str, data: str, limit: int | None = None
                            ) -> dict[str, Any]:
    """``solarray evaluate reconstruction``: :func:`reconstruction_report` quietly, with the
    user's mistakes (no such directory, a bad ``limit``, an unreadable checkpoint or empty
    shards) as UsageErrors naming the flag."""
    if not os.path.isdir(data):
        raise UsageError(f"--data: no such directory: {data}")
    if limit is not None and limit < 1:
        raise UsageError(f"--limit must be a positive integer, got {limit}")
    try:
        return reconstruction_report(checkpoint, data, limit=limit, log=lambda s: None)
    except (ValueError, FileNotFoundError) as err:
        raise UsageError(str(err)) from None


def format_report(report: dict[str, Any]) -> str:
    """The report as two Markdown tables (per channel; compression)."""
    lines = [f"sigma_vae@{report['hash']} on {report['n_samples']} samples "
             f"({report['image_size']} px, bottleneck {report['bottleneck']})", "",
             "| channel | pixel correlation | ppe10 | ppe50 | RMSE (physical) |",
             "|---|---|---|---|---|"]
    for r in report["rows"]:
        lines.append(f"| {r['channel']} | {r['pixel_correlation']:.3f} | {r['ppe10']:.3f} | "
                     f"{r['ppe50']:.3f} | {r['rmse']:.4g} |")
    lines += ["", "| compression of these samples | original (MB) | model file (MB) | "
              "latents (MB) | total after (MB) | % of size |", "|---|---|---|---|---|---|"]
    for key, name in (("compression_native", "vs native-resolution data (float32)"),
                      ("compression_shards", f"per-shard: vs the {report['image_size']}-px "
                                             "shards (float32)")):
        t = report[key]
        if t is None:
            lines.append(f"| {name} | unknown ({report.get('native_unknown')}) | | | | |")
            continue
        lines.append(f"| {name} | {t['original_mb']:.3f} | {t['model_mb']:.3f} | "
                     f"{t['latent_mb']:.4f} | {t['total_mb']:.3f} | {t['percent']:.3g} % |")
    rows = report["table1"]
    lines += ["", "Table 1 (seed layout; MiB; model = float32 parameters of this architecture "
              "at each bottleneck)", "",
              "| | " + " | ".join(str(r["bottleneck"]) for r in rows) + " |",
              "|---|" + "---|" * len(rows)]

    def fmt(v: float | None, pct: bool = False) -> str:
        return "n/a" if v is None else (f"{v:.3g} %" if pct else f"{v:,.1f}")

    for key, name in (("original_mib", "Original dataset size (native)"),
                      ("model_mib", "Model size"), ("latent_mib", "Reduced dataset size"),
                      ("total_mib", "Total size after"), ("percent", "Percentage of size"),
                      ("percent_shards", "Percentage of the shards (per-shard ratio)")):
        lines.append(f"| {name} | " + " | ".join(fmt(r[key], "percent" in key) for r in rows)
                     + " |")
    if report["native"] is not None:
        shapes = ", ".join(f"{n} × {k}" for k, n in report["native"]["shapes"].items())
        lines.append(f"\nnative files: {shapes}; {report['native']['file_bytes'] / MIB:,.1f} MiB "
                     "on disk")
    return "\n".join(lines)


__all__ = ["evaluate_reconstruction", "format_report", "metrics_for", "reconstruct",
           "reconstruction_report", "sample_images", "sample_latents"]
