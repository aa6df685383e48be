"""The forecaster's home page (``GET /``): the latest forecast as an operator reads it.

Warnings first (untrained or degraded models, unknown values, ignored channels), a degraded
forecast's missing inputs and fallback in a box of their own (``id='degraded'``), then the
full-disk probability of an M-class or larger flare within 24 h, the situational map, the active
region table and the coronal holes and filaments, all rounded and with units, and the model
versions that made the forecast. Values that could not be computed (``null`` in the JSON) show
as "unknown", never as 0.

The page checks its own map: a few lines of script set ``data-loaded`` (``yes`` / ``no``) and
``data-natural-width`` on the ``<img id="map">`` once the browser has loaded (or failed to load)
it, so a headless browser's DOM dump shows whether the picture really arrived.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

STYLE = (
    "body{font-family:system-ui,sans-serif;margin:1.5em;max-width:72em;color:#222}"
    "h1{margin-bottom:.2em}h2{margin-top:1.4em}"
    "table{border-collapse:collapse;margin-bottom:1em}"
    "td,th{border:1px solid #ccc;padding:2px 8px;font-size:90%}td.n{text-align:right}"
    "th{background:#f3f3f3}.unknown{color:#888;font-style:italic}"
    ".warnings{border:2px solid #b00;background:#fff3f3;padding:.4em 1em;color:#900}"
    ".prob{font-size:180%;font-weight:bold}#map{max-width:100%;border:1px solid #ccc}"
    ".meta{color:#555}"
)

# Marks the map image loaded (or not) for readers that cannot see it, e.g. a DOM dump.
MAP_CHECK = (
    "<script>(function(){var m=document.getElementById('map');if(!m)return;"
    "function mark(ok){m.setAttribute('data-loaded',ok?'yes':'no');"
    "m.setAttribute('data-natural-width',String(m.naturalWidth));}"
    "if(m.complete){mark(m.naturalWidth>0);}else{"
    "m.addEventListener('load',function(){mark(m.naturalWidth>0);});"
    "m.addEventListener('error',function(){mark(false);});}})();</script>"
)

UNKNOWN = "<span class='unknown' title='not computed for this observation'>unknown</span>"


def _finite(v: Any) -> float | None:
    if v is None or isinstance(v, bool):
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def percent(p: Any) -> str:
    """A probability in [0, 1] as a percentage with one decimal (``"56.2 %"``)."""
    f = _finite(p)
    if f is None:
        return UNKNOWN
    if 0 < f < 0.001:
        return "&lt; 0.1 %"
    if 0.999 < f < 1:
        return "&gt; 99.9 %"
    return f"{100 * f:.1f} %"


def number(digits: int = 1, unit: str = "") -> Callable[[Any], str]:
    """A formatter: ``digits`` decimals (0: integer with thousands separators), then ``unit``."""
    def fmt(v: Any) -> str:
        f = _finite(v)
        if f is None:
            return UNKNOWN
        text = f"{f:,.0f}" if digits == 0 else f"{f:.{digits}f}"
        return text.replace("-", "−") + unit
    return fmt


def scientific(unit: str = "") -> Callable[[Any], str]:
    """A formatter for quantities spanning decades (R value in Mx): 3 significant digits."""
    def fmt(v: Any) -> str:
        f = _finite(v)
        if f is None:
            return UNKNOWN
        return (f"{f:.3g}" if f == 0 or 1e-2 <= abs(f) < 1e4 else f"{f:.2e}") + unit
    return fmt


def text(v: Any) -> str:
    return UNKNOWN if v is None else html.escape(str(v))


def polarity(v: Any) -> str:
    f = _finite(v)
    return UNKNOWN if f is None else "+" if f > 0 else "−" if f < 0 else "0"


DEG = number(1, "°")

#: (key, header, formatter) of each table.
REGION_COLUMNS = (
    ("number", "No.", number(0)), ("hgs_lat", "Latitude (HGS)", DEG),
    ("hgs_lon", "Longitude (HGS)", DEG), ("carr_lon", "Carrington lon.", DEG),
    ("area_msh", "Area (MSH)", number(0)), ("hale", "Hale class", text),
    ("mcintosh", "McIntosh class", text), ("r", "R (Mx)", scientific()),
    ("flare_index", "Flare index (24 h)", number(1)), ("p_m24", "P(≥M1, 24 h)", percent),
)
HOLE_COLUMNS = (
    ("number", "No.", number(0)), ("hgs_lat", "Latitude (HGS)", DEG),
    ("hgs_lon", "Longitude (HGS)", DEG), ("carr_lon", "Carrington lon.", DEG),
    ("area_msh", "Area (MSH)", number(0)), ("lon_span", "Longitude span", DEG),
    ("polarity", "Polarity", polarity),
)
FILAMENT_COLUMNS = (
    ("number", "No.", number(0)), ("hgs_lat", "Latitude (HGS)", DEG),
    ("hgs_lon", "Longitude (HGS)", DEG), ("carr_lon", "Carrington lon.", DEG),
    ("end1_lat", "End 1 lat.", DEG), ("end1_lon", "End 1 lon.", DEG),
    ("end2_lat", "End 2 lat.", DEG), ("end2_lon", "End 2 lon.", DEG),
    ("length_mm", "Length (Mm)", number(0)),
)


def table(rows: Sequence[Mapping[str, Any]], columns, table_id: str) -> str:
    """HTML table of ``rows`` (``columns``: (key, header, formatter)); "none" when empty."""
    if not rows:
        return f"<p id='{table_id}'><i>none</i></p>"
    head = "".join(f"<th>{html.escape(h)}</th>" for _, h, _ in columns)
    body = "".join(
        "<tr>" + "".join(f"<td class='{'t' if fmt in (text, polarity) else 'n'}'>"
                         f"{fmt(r.get(k))}</td>" for k, _, fmt in columns) + "</tr>"
        for r in rows)
    return f"<table id='{table_id}'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _head(title: str) -> str:
    return ("<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width,initial-scale=1'>"
            f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>"
            "<h1>Solar Activity AI Forecaster</h1>")


def _warnings(items: Sequence[str]) -> str:
    if not items:
        return "<div id='warnings' data-count='0'></div>"
    lis = "".join(f"<li>{html.escape(str(w))}</li>" for w in items)
    return (f"<div id='warnings' class='warnings' data-count='{len(items)}'>"
            f"<b>Warnings</b><ul>{lis}</ul></div>")


def _degraded(latest: Mapping[str, Any]) -> str:
    """The degraded box: the missing inputs and the full-disk fallback (empty when complete)."""
    if not latest.get("degraded"):
        return ""
    missing = [str(c) for c in latest.get("missing") or []]
    fb = latest.get("fallback")
    what = (f"full-disk probability from the <b>{html.escape(str(fb))}</b> fallback; no "
            "per-region forecasts" if fb else "forecast from the channels present")
    return (f"<div id='degraded' class='warnings' data-missing='{html.escape(','.join(missing))}'"
            f" data-fallback='{html.escape(str(fb or ''))}'><b>DEGRADED forecast</b>: missing "
            f"{html.escape(', '.join(missing) or 'none')} — {what}.</div>")


def _full_disk(fd: Mapping[str, Any], n_regions: int, fallback: str | None = None) -> str:
    counts = ", ".join(f"{fd[k]} {k[2:].upper()}" for k in ("n_c", "n_m", "n_x")
                       if fd.get(k) is not None)
    source = (f"from the {html.escape(fallback)} fallback, not FPNet" if fallback else
              f"combined from the regions: {percent(fd.get('p_m24_from_regions'))}")
    return (
        "<h2>Full disk</h2>"
        f"<p>P(≥M1 flare within 24 h): <span id='p-full-disk' class='prob'>"
        f"{percent(fd.get('p_m24'))}</span> "
        f"<span class='meta'>({source})</span></p>"
        f"<p>Flare index (past 24 h): {number(1)(fd.get('flare_index'))}"
        f"{f' ({counts} flares)' if counts else ''} · F10.7: {number(1, ' sfu')(fd.get('f107'))}"
        f" · active regions: {n_regions}</p>")


def _models(versions: Mapping[str, str]) -> str:
    rows = "".join(f"<tr><td>{html.escape(str(k))}</td><td><code>{html.escape(str(v))}</code>"
                   "</td></tr>" for k, v in versions.items())
    return ("<h2>Models</h2><table id='models'><thead><tr><th>Role</th><th>Version</th></tr>"
            f"</thead><tbody>{rows}</tbody></table>")


def render_index_html(latest: Mapping[str, Any] | None, history: str = "") -> str:
    """The home page: the latest forecast (the ``POST /v1/forecast`` JSON body) or, without
    one, how to make one; then ``history`` (HTML: the forecast store's track record)."""
    head = _head("solarray forecaster")
    if not latest:
        return head + ("<p id='no-forecast'>No forecast yet. POST FITS files (one per channel) "
                       "to <code>/v1/forecast</code> as multipart field <code>files</code>; "
                       f"API documentation at <a href='/docs'>/docs</a>.</p>{history}"
                       "</body></html>")
    regions = latest.get("regions") or []
    channels = ", ".join(latest.get("channels") or [])
    parts = [
        head,
        _warnings(latest.get("warnings") or []),
        _degraded(latest),
        f"<p class='meta'>Observation <b id='observation-time'>"
        f"{html.escape(str(latest.get('observation_time')))}</b> · channels "
        f"{html.escape(channels)} · {number(0, ' px')(latest.get('image_size'))} grid · forecast "
        f"<code id='forecast-id'>{html.escape(str(latest.get('id')))}</code> "
        f"(<a href='/v1/forecast/{html.escape(str(latest.get('id')))}'>JSON</a>)</p>",
        _full_disk(latest.get("full_disk") or {}, len(regions), latest.get("fallback")),
        f"<img id='map' src='{html.escape(str(latest.get('map_url', '')))}' "
        "alt='situational map of the latest forecast' width='800'>",
        MAP_CHECK,
        "<h2>Active regions</h2>", table(regions, REGION_COLUMNS, "regions"),
        "<h2>Coronal holes</h2>",
        table(latest.get("coronal_holes") or [], HOLE_COLUMNS, "coronal-holes"),
        "<h2>Filaments</h2>", table(latest.get("filaments") or [], FILAMENT_COLUMNS, "filaments"),
        _models(latest.get("model_versions") or {}),
        history,
        "<p><a href='/docs'>API documentation</a></p></body></html>",
    ]
    return "".join(parts)


__all__ = ["FILAMENT_COLUMNS", "HOLE_COLUMNS", "REGION_COLUMNS", "number", "percent",
           "render_index_html", "scientific", "table"]
