"""The forecaster's home page: the latest forecast's situational map and tables (HTML)."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any


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


def render_index_html(latest: Mapping[str, Any] | None, history: str = "") -> str:
    """The service's home page: the latest forecast's map and tables (or how to make one), then
    ``history`` (HTML: the forecast store's track record, when one is configured)."""
    style = ("body{font-family:sans-serif;margin:1.5em;max-width:70em}table{border-collapse:"
             "collapse;margin-bottom:1em}td,th{border:1px solid #ccc;padding:2px 6px;"
             "font-size:90%}.warn{color:#b00;font-weight:bold}")
    head = f"<!doctype html><html><head><meta charset='utf-8'><title>solarray forecaster</title>" \
           f"<style>{style}</style></head><body><h1>Solar Activity AI Forecaster</h1>"
    if not latest:
        return head + ("<p>No forecast yet. POST FITS files (one per channel) to "
                       "<code>/v1/forecast</code> as multipart field <code>files</code>; "
                       f"API documentation at <a href='/docs'>/docs</a>.</p>{history}"
                       "</body></html>")
    fd = latest.get("full_disk", {})
    warn = "".join(f"<p class='warn'>{html.escape(w)}</p>" for w in latest.get("warnings", []))
    parts = [
        head, warn,
        f"<p>Observation {html.escape(latest['observation_time'])} — forecast "
        f"<code>{html.escape(latest['id'])}</code> — full-disk P(≥M, 24 h): "
        f"<b>{_cell(fd.get('p_m24'))}</b> (from regions {_cell(fd.get('p_m24_from_regions'))}),"
        f" flare index {_cell(fd.get('flare_index'))}, F10.7 {_cell(fd.get('f107'))}</p>",
        f"<img src='{html.escape(latest['map_url'])}' alt='situational map' "
        "style='max-width:100%'>",
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
        history,
        "<p><a href='/docs'>API documentation</a></p></body></html>",
    ]
    return "".join(parts)


__all__ = ["render_index_html"]
