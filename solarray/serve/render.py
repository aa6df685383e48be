"""The forecast's situational-awareness map (PNG) and the small HTML page of the service.

The map is one panel: the background channel (HMI magnetogram if present) on the sample grid,
SPNet's AR / CH / FL contours, the limb, and each AR labelled with its number and P(≥M, 24 h).
It uses matplotlib's object API with the Agg canvas (no pyplot state), so replicas can render
from several threads.
"""

from __future__ import annotations

import html
import io
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from solarray.core import channels as chans
from solarray.serve.cycle import MapInputs

COLORS = {"AR": "#00e5ff", "CH": "#ffe100", "FL": "#ff2bd6"}


def render_map_png(m: MapInputs, *, dpi: int = 100, inches: float = 6.4) -> bytes:
    """PNG bytes of the situational-awareness map for one forecast."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    n = m.background.shape[-1]
    fig = Figure(figsize=(inches, inches + 0.5), dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.02, 0.08, 0.96, 0.84))
    ch = chans.get(m.channel)
    bg = np.where(np.isfinite(m.background), m.background, np.nan)
    if ch.is_magnetic:
        vmin, vmax, cmap = -0.3, 0.3, "gray"
    else:
        finite = bg[np.isfinite(bg)]
        vmin, vmax = (np.percentile(finite, [1, 99.5]) if finite.size else (-1, 1))
        cmap = "inferno"
    ax.imshow(bg, origin="lower", cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
    for k, name in enumerate(("AR", "CH", "FL")):
        if m.masks[k].any():
            ax.contour(m.masks[k].astype(float), levels=[0.5], colors=COLORS[name],
                       linewidths=1.0)
    c = (n - 1) / 2.0
    r = n / 2.0 / 1.1
    t = np.linspace(0, 2 * np.pi, 361)
    ax.plot(c + r * np.cos(t), c + r * np.sin(t), color="white", lw=0.6, alpha=0.7)
    for row in m.ars:
        x, y = row.get("pixel_x"), row.get("pixel_y")
        if x is None or y is None:
            continue
        p = row.get("p_m24")
        label = f"{row['number']}" + (f"\n{100 * p:.0f}%" if p is not None else "")
        ax.text(x, y, label, color="white", fontsize=8, ha="center", va="center",
                bbox={"boxstyle": "round,pad=0.15", "fc": "black", "alpha": 0.5, "lw": 0})
    ax.set_xlim(-0.5, n - 0.5)
    ax.set_ylim(-0.5, n - 0.5)
    ax.set_axis_off()
    pd_ = f"  P(≥M, 24 h) disk: {100 * m.full_disk:.0f}%" if m.full_disk is not None else ""
    title = f"{m.t_obs:%Y-%m-%d %H:%M} UTC  {m.channel}{pd_}"
    if m.untrained:
        title += "\nUNTRAINED MODELS — not a forecast"
    fig.suptitle(title, fontsize=10, color="red" if m.untrained else "black")
    handles = [Line2D([], [], color=COLORS[f], lw=1.5, label=f) for f in COLORS]
    fig.legend(handles=handles, loc="lower center", ncol=3, frameon=False, fontsize=9)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def _cell(v: Any) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:.3g}"
    return html.escape(str(v))


def _table(rows: Sequence[Mapping[str, Any]], cols: Sequence[tuple[str, str]]) -> str:
    if not rows:
        return "<p><i>none</i></p>"
    head = "".join(f"<th>{html.escape(t)}</th>" for _, t in cols)
    body = "".join("<tr>" + "".join(f"<td>{_cell(r.get(k))}</td>" for k, _ in cols) + "</tr>"
                   for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def render_index_html(latest: Mapping[str, Any] | None) -> str:
    """The service's home page: the latest forecast's map and tables (or how to make one)."""
    style = ("body{font-family:sans-serif;margin:1.5em;max-width:70em}table{border-collapse:"
             "collapse;margin-bottom:1em}td,th{border:1px solid #ccc;padding:2px 6px;"
             "font-size:90%}.warn{color:#b00;font-weight:bold}")
    head = f"<!doctype html><html><head><meta charset='utf-8'><title>solarray forecaster</title>" \
           f"<style>{style}</style></head><body><h1>Solar Activity AI Forecaster</h1>"
    if not latest:
        return head + ("<p>No forecast yet. POST FITS files (one per channel) to "
                       "<code>/v1/forecast</code> as multipart field <code>files</code>; "
                       "API documentation at <a href='/docs'>/docs</a>.</p></body></html>")
    fd = latest.get("full_disk", {})
    warn = "".join(f"<p class='warn'>{html.escape(w)}</p>" for w in latest.get("warnings", []))
    parts = [
        head, warn,
        f"<p>Observation {html.escape(latest['observation_time'])} — forecast "
        f"<code>{html.escape(latest['id'])}</code> — full-disk P(≥M, 24 h): "
        f"<b>{_cell(fd.get('p_m24'))}</b> (from regions {_cell(fd.get('p_m24_from_regions'))}),"
        f" flare index {_cell(fd.get('flare_index'))}, F10.7 {_cell(fd.get('f107'))}</p>",
        f"<img src='{html.escape(latest['map_url'])}' alt='situational map' width='560'>",
        "<h2>Active regions</h2>",
        _table(latest.get("regions", []), [
            ("number", "No."), ("hgs_lat", "lat"), ("hgs_lon", "lon"), ("carr_lon", "Carr. lon"),
            ("area_msh", "area (MSH)"), ("hale", "Hale"), ("mcintosh", "McIntosh"), ("r", "R"),
            ("flare_index", "FI 24 h"), ("p_m24", "P(≥M, 24 h)")]),
        "<h2>Coronal holes</h2>",
        _table(latest.get("coronal_holes", []), [
            ("number", "No."), ("hgs_lat", "lat"), ("hgs_lon", "lon"), ("carr_lon", "Carr. lon"),
            ("area_msh", "area (MSH)"), ("lon_span", "lon span"), ("polarity", "polarity")]),
        "<h2>Filaments</h2>",
        _table(latest.get("filaments", []), [
            ("number", "No."), ("hgs_lat", "lat"), ("hgs_lon", "lon"), ("carr_lon", "Carr. lon"),
            ("end1_lat", "end 1 lat"), ("end1_lon", "end 1 lon"), ("end2_lat", "end 2 lat"),
            ("end2_lon", "end 2 lon"), ("length_mm", "length (Mm)")]),
        "<p>Models: " + ", ".join(f"{html.escape(k)} <code>{html.escape(v)}</code>"
                                  for k, v in latest.get("model_versions", {}).items()) + "</p>",
        "<p><a href='/docs'>API documentation</a></p></body></html>",
    ]
    return "".join(parts)


__all__ = ["render_index_html", "render_map_png"]
