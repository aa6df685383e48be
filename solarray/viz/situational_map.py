"""The situational-awareness map (SA-AI 2025's daily product), drawn once for every caller.

HMI magnetogram, AIA 193 Å and AIA 304 Å panels on the sample's helioprojective WCS, the limb and
a heliographic grid; SPNet's AR / CH / FL contours (solid; ground truth dashed); each active region
labelled with its number and P(≥M, 24 h) beside its contour (:mod:`solarray.viz.map_labels`).
``solarray demo``, the forecaster service (``map.png``) and SPNet evaluation all draw it here.

As forecasters read them: the magnetogram in grey (black negative, white positive polarity) with
limits symmetric about 0 G, so grey is no field; AIA channels in sunpy's instrument colour maps
(``sdoaia193``, ``sdoaia304``, ...) with linear limits, since the planes are already log-scaled
(:mod:`solarray.core.channels`); off-disk NaN in black. The figure uses matplotlib's constrained
layout, so titles, tick and axis labels stay inside it at any panel count.

Preprocessed frames are north-up, disk-centred and span ±``frame`` R☉, so a helioprojective WCS
is fully determined by the image size, the observer (DSUN_OBS, HGLN_OBS, HGLT_OBS), the time and
the frame (:func:`solarray.core.frame_header.sample_frame_header`). Callers pass that header, or the
sample's ingest ``meta`` (its first channel's header subset; Earth at DATE-OBS when the observer
keywords are missing). matplotlib is used through ``Figure`` + ``FigureCanvasAgg`` (no pyplot
state), so service replicas can render from several threads.
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from solarray.core import channels as channel_catalogue
from solarray.core.atomic import atomic_path
from solarray.core.features import FEATURE_COLOURS, FEATURE_KINDS
from solarray.core.frame import FRAME_RSUN, disk_mask, header_frame
from solarray.core.frame_header import sample_frame_header
from solarray.data.shard_reader import meta_header
from solarray.viz.map_labels import place_region_labels

#: Panels of the map: (channel, title).
DEFAULT_PANELS: tuple[tuple[str, str], ...] = (
    ("hmi_m", "HMI magnetogram"), ("aia193", "AIA 193 Å"), ("aia304", "AIA 304 Å"))
#: Colour map of HMI panels: grey, black → white from negative to positive (or dark to bright).
HMI_CMAP = "gray"
#: Observation time assumed for frames whose ``meta`` carries none (toy data, tests).
UNDATED = "2024-01-01T00:00:00"


def frame_map(plane: np.ndarray, channel: str, header: Mapping[str, Any]):
    """A ``sunpy.map.Map`` of one preprocessed (scaled) plane ``[H, W]`` with the frame's WCS
    (``header``: :func:`~solarray.core.frame_header.sample_frame_header` of the plane's size) and the
    map's colormap of the channel (:func:`panel_cmap`)."""
    import sunpy.map

    plane = np.asarray(plane, dtype=np.float32)
    if plane.ndim != 2 or plane.shape[0] != plane.shape[1]:
        raise ValueError(f"{channel}: expected a square [H, W] frame, got shape {plane.shape}")
    hdr = dict(header)
    hdr.update(NAXIS=2, NAXIS1=plane.shape[1], NAXIS2=plane.shape[0])
    ch = channel_catalogue.get(channel)
    hdr.update({"TELESCOP": ch.telescop, "INSTRUME": ch.instrume,
                "WAVELNTH": ch.wavelength, "WAVEUNIT": "angstrom"})
    m = sunpy.map.Map(plane, hdr)
    m.plot_settings["cmap"] = panel_cmap(channel)
    return m


def panel_cmap(channel: str):
    """The map's ``matplotlib`` colormap of ``channel``: :data:`HMI_CMAP` (grey) for HMI, else the
    catalogue's sunpy instrument map (``sdoaia171`` ...); NaN (off-disk, missing) in black."""
    import matplotlib
    import sunpy.visualization.colormaps  # noqa: F401  (registers the sdoaia* maps)

    ch = channel_catalogue.get(channel)
    name = HMI_CMAP if ch.instrument == "HMI" else ch.cmap
    return matplotlib.colormaps[name].with_extremes(bad="black")


def _display_range(plane: np.ndarray, frame: float, symmetric: bool) -> tuple[float, float]:
    """Robust display limits of a scaled plane: 1–99.5 % of on-disk values (±99.5 % of |x| for
    magnetograms, so polarity stays centred on grey)."""
    v = plane[disk_mask(plane.shape[0], frame)]
    v = v[np.isfinite(v)]
    if not len(v):
        return (-1.0, 1.0)
    if symmetric:
        a = float(np.percentile(np.abs(v), 99.5)) or 1.0
        return (-a, a)
    lo, hi = (float(x) for x in np.percentile(v, [1.0, 99.5]))
    return (lo, hi if hi > lo else lo + 1.0)


def _check_inputs(image: np.ndarray, channels: Sequence[str], masks, truth) -> None:
    if image.ndim != 3 or image.shape[0] != len(channels):
        raise ValueError(f"image must be [C={len(channels)}, H, W], got {image.shape}")
    size = image.shape[-1]
    for name, arr in (("masks", masks), ("truth", truth)):
        if arr is not None and np.asarray(arr).shape != (len(FEATURE_KINDS), size, size):
            raise ValueError(f"{name} must be [{len(FEATURE_KINDS)}, {size}, {size}], "
                             f"got {np.asarray(arr).shape}")


def situational_map_figure(image: np.ndarray, channels: Sequence[str],
                           masks: np.ndarray | None, header: Mapping[str, Any], *,
                           present: Sequence[float] | None = None,
                           truth: np.ndarray | None = None,
                           regions: Sequence[Mapping[str, Any]] = (),
                           title: str | None = None, title_colour: str = "black",
                           panels: Sequence[tuple[str, str]] = DEFAULT_PANELS,
                           grid_spacing_deg: float = 15.0):
    """The map as a matplotlib ``Figure`` (Agg canvas attached).

    ``image [C, H, W]`` scaled frames (NaN allowed) named by ``channels``; ``header``: the frame
    header of the sample (observer, DATE-OBS, FRAME); ``masks [3, H, W]`` 0/1 (AR, CH, FL) drawn
    as solid contours on every panel, ``truth`` dashed; ``regions``: rows with ``number``,
    ``pixel_x``, ``pixel_y`` and optional ``bbox`` ([x0, y0, x1, y1) pixels) and ``p_m24``, labelled
    beside their contours. A panel whose channel is missing (absent or ``present`` 0) is drawn
    blank with a "missing" note. Panel ``i`` is ``fig.axes[i]``.
    """
    import astropy.units as u
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.colors import Normalize
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    image = np.asarray(image)
    channels = list(channels)
    _check_inputs(image, channels, masks, truth)
    size = image.shape[-1]
    frame = header_frame(header)
    fig = Figure(figsize=(4.2 * len(panels), 4.5), layout="constrained")
    FigureCanvasAgg(fig)
    drawn = [np.asarray(arr[k]) for arr in (truth, masks) if arr is not None
             for k in range(len(FEATURE_KINDS))]
    axes = []
    for i, (ch, label) in enumerate(panels):
        have = ch in channels and (present is None or present[channels.index(ch)] > 0)
        plane = image[channels.index(ch)] if have else np.full((size, size), np.nan, np.float32)
        smap = frame_map(plane, ch, header)
        ax = fig.add_subplot(1, len(panels), i + 1, projection=smap)
        vlim = _display_range(plane, frame, symmetric=channel_catalogue.get(ch).is_magnetic)
        smap.plot(axes=ax, norm=Normalize(*vlim), title=label + ("" if have else " (missing)"))
        smap.draw_limb(axes=ax, color="white", lw=0.6)
        smap.draw_grid(axes=ax, grid_spacing=grid_spacing_deg * u.deg, color="white",
                       alpha=0.45, lw=0.5, annotate=False)
        for arr, style in ((truth, "--"), (masks, "-")):
            if arr is None:
                continue
            for k, f in enumerate(FEATURE_KINDS):
                m = np.asarray(arr[k], dtype=float)
                if m.max() > 0:
                    cs = ax.contour(m, levels=[0.5], colors=FEATURE_COLOURS[f], linewidths=1.0,
                                    linestyles=style)
                    cs.set_gid(f"contour {f}" + (" truth" if style == "--" else ""))
        ax.set_xlabel("Helioprojective longitude")
        ax.set_ylabel("Helioprojective latitude" if i == 0 else " ")
        axes.append(ax)
    handles = [Line2D([], [], color=FEATURE_COLOURS[f], lw=1.5, label=f) for f in FEATURE_KINDS]
    if truth is not None:
        handles.append(Line2D([], [], color="grey", lw=1.0, ls="--", label="truth"))
    fig.legend(handles=handles, loc="outside lower center", ncol=len(handles), frameon=False)
    fig.suptitle(title or f"Solar situational awareness map {header['DATE-OBS']}",
                 color=title_colour)
    if regions:
        # Labels are placed in data pixels from the axes' final size: lay out once, then freeze.
        fig.get_layout_engine().execute(fig)
        fig.set_layout_engine("none")
        ar = None if masks is None else np.asarray(masks[FEATURE_KINDS.index("AR")])
        for ax in axes:
            place_region_labels(ax, regions, drawn, ar, size)
    return fig


def situational_map_png(image: np.ndarray, channels: Sequence[str], masks: np.ndarray | None,
                        header: Mapping[str, Any], *, dpi: int = 110, **options: Any) -> bytes:
    """PNG bytes of :func:`situational_map_figure` (same arguments and options)."""
    fig = situational_map_figure(image, channels, masks, header, **options)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def situational_map(image: np.ndarray, channels: Sequence[str], masks: np.ndarray | None,
                    out_png: str | os.PathLike, meta: Mapping[str, Any] | str | None = None,
                    present: Sequence[float] | None = None, frame: float = FRAME_RSUN,
                    title: str | None = None, truth: np.ndarray | None = None,
                    panels: Sequence[tuple[str, str]] = DEFAULT_PANELS,
                    grid_spacing_deg: float = 15.0, dpi: int = 110, *,
                    header: Mapping[str, Any] | None = None,
                    regions: Sequence[Mapping[str, Any]] = ()) -> Path:
    """Write the map of one sample to ``out_png`` (atomically) and return its path.

    The frame's geometry comes from ``header`` or else from the sample's ingest ``meta`` and
    ``frame`` (R☉); other arguments as :func:`situational_map_figure`.
    """
    image = np.asarray(image)
    if header is None:
        src = meta_header(meta)
        date = src.get("DATE-OBS") or src.get("T_OBS") or UNDATED
        header = sample_frame_header(image.shape[-1], date, src, frame)
    fig = situational_map_figure(image, channels, masks, header, present=present, truth=truth,
                                 regions=regions, title=title, panels=panels,
                                 grid_spacing_deg=grid_spacing_deg)
    with atomic_path(out_png, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=dpi)
    return Path(out_png)


__all__ = ["DEFAULT_PANELS", "HMI_CMAP", "UNDATED", "frame_map", "panel_cmap", "situational_map",
           "situational_map_figure", "situational_map_png"]
