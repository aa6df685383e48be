"""Situational-awareness maps (SPNet's daily product): HMI, AIA 193 Å and AIA 304 Å panels with
active-region, coronal-hole and filament contours, sunpy colormaps and a heliographic grid.

Preprocessed frames are north-up, disk-centred and span ±``frame`` R☉ (default 1.1), so a
helioprojective WCS is fully determined by the image size, the observer's apparent solar radius
(RSUN_OBS) and position (DSUN_OBS, HGLN_OBS, HGLT_OBS) and the time — all in the sample ``meta``
header subset written by ingest (:func:`frame_header`). Values missing from ``meta`` fall back to
the observer at 1 AU on the ecliptic, with RSUN_OBS computed from the distance.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from solarray.core import channels as channel_catalogue
from solarray.models.spnet import FEATURES

#: Contour colours per feature (distinct on all three colormaps).
FEATURE_COLORS = {"AR": "#00e5ff", "CH": "#ffe100", "FL": "#ff2bd6"}
#: Panels of the map: (channel, title).
DEFAULT_PANELS: tuple[tuple[str, str], ...] = (
    ("hmi_m", "HMI magnetogram"), ("aia193", "AIA 193 Å"), ("aia304", "AIA 304 Å"))



def _meta_header(meta: Mapping[str, Any] | str | None) -> dict[str, Any]:
    """The first channel header subset found in an ingest ``meta`` (JSON string or dict)."""
    if meta is None:
        return {}
    if isinstance(meta, str | bytes):
        meta = json.loads(meta)
    if "channels" in meta and isinstance(meta["channels"], Mapping):
        for entry in meta["channels"].values():
            hdr = entry.get("header") if isinstance(entry, Mapping) else None
            if hdr:
                return dict(hdr)
    return {k: v for k, v in meta.items() if isinstance(v, int | float | str)}


def frame_header(size: int, meta: Mapping[str, Any] | str | None = None, frame: float = 1.1,
                 date_obs: str | None = None) -> dict[str, Any]:
    """FITS header (dict) of a north-up, disk-centred ``size``×``size`` frame spanning ±``frame``
    R☉ (:func:`solarray.core.geometry.frame_header`) seen by the observer of the sample's ``meta``
    header subset (Earth at DATE-OBS when the observer keywords are missing)."""
    from solarray.core.geometry import frame_header as geometry_frame_header
    from solarray.core.geometry import observer_from_header

    hdr = {k: v for k, v in _meta_header(meta).items() if v not in (None, "")}
    date = date_obs or hdr.get("DATE-OBS") or hdr.get("T_OBS") or "2024-01-01T00:00:00"
    hdr["DATE-OBS"] = str(date).replace("Z", "")
    out = dict(geometry_frame_header(observer_from_header(hdr), size, frame))
    out.update(NAXIS=2, NAXIS1=size, NAXIS2=size)
    return out


def frame_map(plane: np.ndarray, channel: str, meta: Mapping[str, Any] | str | None = None,
              frame: float = 1.1, date_obs: str | None = None):
    """A ``sunpy.map.Map`` for one preprocessed (scaled) plane ``[H, W]`` with the frame's WCS and
    the channel's sunpy colormap."""
    import sunpy.map

    plane = np.asarray(plane, dtype=np.float32)
    if plane.ndim != 2 or plane.shape[0] != plane.shape[1]:
        raise ValueError(f"{channel}: expected a square [H, W] frame, got shape {plane.shape}")
    hdr = frame_header(plane.shape[0], meta, frame, date_obs)
    ch = channel_catalogue.get(channel)
    hdr.update({"TELESCOP": ch.telescop, "INSTRUME": ch.instrume,
                "WAVELNTH": ch.wavelength, "WAVEUNIT": "angstrom"})
    m = sunpy.map.Map(plane, hdr)
    m.plot_settings["cmap"] = ch.cmap
    return m


def _display_range(plane: np.ndarray, disk_only: bool, frame: float, symmetric: bool
                   ) -> tuple[float, float]:
    """Robust display limits of a scaled plane: 1–99.5 % of on-disk values (±99.5 % of |x| for
    magnetograms, so polarity stays centred on grey)."""
    from solarray.evaluate.segmentation import disk_mask

    v = plane[disk_mask(plane.shape[0], frame)] if disk_only else plane.ravel()
    v = v[np.isfinite(v)]
    if not len(v):
        return (-1.0, 1.0)
    if symmetric:
        a = float(np.percentile(np.abs(v), 99.5)) or 1.0
        return (-a, a)
    lo, hi = (float(x) for x in np.percentile(v, [1.0, 99.5]))
    return (lo, hi if hi > lo else lo + 1.0)


def situational_map(image: np.ndarray, channels: Sequence[str], masks: np.ndarray | None,
                    out_png: str | os.PathLike, meta: Mapping[str, Any] | str | None = None,
                    present: Sequence[float] | None = None, frame: float = 1.1,
                    title: str | None = None, truth: np.ndarray | None = None,
                    panels: Sequence[tuple[str, str]] = DEFAULT_PANELS,
                    grid_spacing_deg: float = 15.0, dpi: int = 110) -> Path:
    """Write the situational-awareness PNG for one sample.

    ``image [C, H, W]`` scaled frames (NaN allowed) with ``channels`` names; ``masks [3, H, W]``
    0/1 (AR, CH, FL) drawn as solid contours on every panel; optional ``truth`` masks drawn
    dashed. A panel whose channel is missing (absent or ``present`` 0) is drawn blank with a
    "missing" note. Returns the PNG path (written to a temporary name, then renamed).
    """
    import matplotlib

    matplotlib.use("Agg")
    import astropy.units as u
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    image = np.asarray(image)
    channels = list(channels)
    if image.ndim != 3 or image.shape[0] != len(channels):
        raise ValueError(f"image must be [C={len(channels)}, H, W], got {image.shape}")
    size = image.shape[-1]
    for name, arr in (("masks", masks), ("truth", truth)):
        if arr is not None and np.asarray(arr).shape != (len(FEATURES), size, size):
            raise ValueError(f"{name} must be [{len(FEATURES)}, {size}, {size}], "
                             f"got {np.asarray(arr).shape}")
    fig = plt.figure(figsize=(4.2 * len(panels), 4.6))
    for i, (ch, label) in enumerate(panels):
        have = ch in channels and (present is None or present[channels.index(ch)] > 0)
        plane = image[channels.index(ch)] if have else np.full((size, size), np.nan, np.float32)
        smap = frame_map(plane, ch, meta, frame)
        ax = fig.add_subplot(1, len(panels), i + 1, projection=smap)
        vlim = _display_range(plane, disk_only=True, frame=frame,
                              symmetric=channel_catalogue.get(ch).is_magnetic)
        smap.plot(axes=ax, vmin=vlim[0], vmax=vlim[1], title=label + ("" if have else " (missing)"))
        smap.draw_limb(axes=ax, color="white", lw=0.6)
        smap.draw_grid(axes=ax, grid_spacing=grid_spacing_deg * u.deg, color="white",
                       alpha=0.45, lw=0.5, annotate=False)
        for arr, style in ((truth, "--"), (masks, "-")):
            if arr is None:
                continue
            for k, f in enumerate(FEATURES):
                m = np.asarray(arr[k], dtype=float)
                if m.max() > 0:
                    ax.contour(m, levels=[0.5], colors=FEATURE_COLORS[f], linewidths=1.0,
                               linestyles=style)
        ax.set_xlabel("Helioprojective longitude")
        ax.set_ylabel("Helioprojective latitude" if i == 0 else " ")
    handles = [Line2D([], [], color=FEATURE_COLORS[f], lw=1.5, label=f) for f in FEATURES]
    if truth is not None:
        handles.append(Line2D([], [], color="grey", lw=1.0, ls="--", label="truth"))
    fig.legend(handles=handles, loc="lower center", ncol=len(handles), frameon=False)
    fig.suptitle(title or f"Solar situational awareness map {frame_header(size, meta)['DATE-OBS']}")
    fig.subplots_adjust(left=0.06, right=0.98, bottom=0.16, top=0.86, wspace=0.35)
    out = Path(out_png)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.stem}.tmp{os.getpid()}.png")
    fig.savefig(tmp, dpi=dpi)
    plt.close(fig)
    os.replace(tmp, out)
    return out


__all__ = ["DEFAULT_PANELS", "FEATURE_COLORS", "frame_header", "frame_map", "situational_map"]
