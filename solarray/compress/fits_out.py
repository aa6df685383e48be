"""Decoded images to FITS files that say what they are, and PNG grids of samples.

One file per sample and channel, ``<stem>_<channel>.fits``, data in physical units (DN/s for AIA,
G for HMI: the inverse of the catalogue's scaling) with ``CHANNEL``, ``DATE-OBS`` (when the sample
has a time), ``FRAME``, ``BUNIT``, ``ORIGIN`` = ``reconstructed by sigma_vae@<hash>`` (or
``sampled by ...``) and, for timed samples, the frame's WCS and Earth observer.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from astropy.io import fits

from solarray.core import channels as chans
from solarray.core.atomic import atomic_path
from solarray.core.frame_header import sample_frame_header


def to_physical(images: np.ndarray, channels: Sequence[str]) -> np.ndarray:
    """Scaled ``[N, C, H, W]`` → physical units (float64; NaN stays NaN) per the catalogue."""
    out = np.empty(images.shape, dtype=np.float64)
    for c, name in enumerate(channels):
        out[:, c] = chans.get(name).unscale(images[:, c])
    return out


def _stem(sample_id: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "" for ch in str(sample_id))


def write_fits_images(out_dir: str | os.PathLike, images: np.ndarray, channels: Sequence[str],
                      sample_ids: Sequence[str], origin: str,
                      times: Sequence[np.datetime64] | None = None,
                      frame: float | None = None) -> list[Path]:
    """Write scaled images ``[N, C, H, W]`` as physical-unit FITS, one per sample and channel."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    phys = to_physical(images, channels)
    size = images.shape[-1]
    paths = []
    for i, sid in enumerate(sample_ids):
        base: dict = {}
        if times is not None:
            t = np.datetime_as_string(np.datetime64(times[i], "s")) + "Z"
            kw = {} if frame is None else {"frame": frame}
            base = sample_frame_header(size, t_obs=t, **kw)
            base["DATE-OBS"] = t
        elif frame is not None:
            base["FRAME"] = (frame, "half-width of the frame, solar radii")
        for c, name in enumerate(channels):
            ch = chans.get(name)
            hdr = fits.Header()
            for k, v in base.items():
                if k not in ("NAXIS", "NAXIS1", "NAXIS2"):
                    hdr[k] = v
            hdr["CHANNEL"] = (name, "solarray channel name")
            hdr["WAVELNTH"] = ch.wavelength
            hdr["BUNIT"] = "Gauss" if ch.is_magnetic else "DN/s"
            hdr["ORIGIN"] = origin[:68]
            hdr["SAMPLEID"] = str(sid)[:68]
            hdr["HISTORY"] = origin
            path = out_dir / f"{_stem(sid)}_{name}.fits"
            with atomic_path(path, suffix=".fits") as tmp:
                fits.PrimaryHDU(phys[i, c].astype(np.float32), header=hdr).writeto(tmp)
            paths.append(path)
    return paths


def write_png_grids(out_dir: str | os.PathLike, images: np.ndarray, channels: Sequence[str],
                    prefix: str = "samples") -> list[Path]:
    """One PNG per channel: the ``N`` scaled images on a near-square grid, channel colormap."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    n = len(images)
    cols = int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / cols))
    paths = []
    for c, name in enumerate(channels):
        cmap = "gray" if chans.get(name).is_magnetic else "inferno"
        fig, axes = plt.subplots(rows, cols, figsize=(1.6 * cols, 1.6 * rows), squeeze=False)
        for k, ax in enumerate(axes.ravel()):
            ax.axis("off")
            if k < n:
                ax.imshow(images[k, c], cmap=cmap, vmin=-1, vmax=1, origin="lower")
        fig.suptitle(f"{name}: {n} {prefix}", fontsize=9)
        path = out_dir / f"{prefix}_{name}.png"
        with atomic_path(path, suffix=".png") as tmp:
            fig.savefig(tmp, dpi=80)
        plt.close(fig)
        paths.append(path)
    return paths


__all__ = ["to_physical", "write_fits_images", "write_png_grids"]
