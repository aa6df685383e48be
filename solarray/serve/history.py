"""The forecast store behind the service: ``GET /v1/forecasts`` (JSON or CSV), ``GET /v1/scores``,
the track-record plot and the page's history section. The store is the one ``solarray watch``
writes (:mod:`solarray.live.store`), named by the ``forecast_store`` option."""

from __future__ import annotations

import html
import io
import json
import math
from typing import Any

import pandas as pd

from solarray.live.store import ForecastStore
from solarray.viz.forecast_history import history_png

COLUMNS = ("observation_time", "issued_at", "p_full_disk", "p_from_regions", "n_regions",
           "observed", "max_class", "model_version", "latency_s", "degraded", "missing",
           "fallback")


def parse_since(text: str | None) -> pd.Timestamp | None:
    """``since`` query value (ISO time, UTC) → naive UTC timestamp; ValueError names it."""
    if not text:
        return None
    try:
        ts = pd.Timestamp(text)
    except ValueError:
        raise ValueError(f"since: expected an ISO time like 2024-01-01T00:00, got {text!r}") \
            from None
    return ts.tz_convert("UTC").tz_localize(None) if ts.tzinfo is not None else ts


def _plain(v: Any) -> Any:
    if isinstance(v, pd.Timestamp):
        return v.strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v.item() if hasattr(v, "item") else v


def forecast_records(store: ForecastStore, since: pd.Timestamp | None) -> list[dict[str, Any]]:
    """One dict per forecast (:data:`COLUMNS` + ``regions``; ``missing`` a list), oldest
    first."""
    j = store.joined(since)
    out = []
    for _, r in j.iterrows():
        rec = {c: _plain(r.get(c)) for c in COLUMNS}
        rec["missing"] = json.loads(r["missing"])
        rec["regions"] = json.loads(r["regions"])
        out.append(rec)
    return out


def forecast_csv(store: ForecastStore, since: pd.Timestamp | None) -> str:
    j = store.joined(since)
    buf = io.StringIO()
    j.reindex(columns=list(COLUMNS)).to_csv(buf, index=False)
    return buf.getvalue()


def track_record_png(store: ForecastStore) -> bytes | None:
    j = store.joined()
    if not len(j):
        return None
    return history_png(j["observation_time"], j["p_full_disk"], j["observed"])


def scores(store: ForecastStore) -> dict[str, Any]:
    path = store.root / "scores.json"
    return json.loads(path.read_text()) if path.exists() else {}


def history_section(store: ForecastStore) -> str:
    """HTML: the track-record plot and the rolling full-disk scores."""
    sc = scores(store).get("full_disk", {}).get("all", {})
    n = len(store.forecasts())
    rows = "".join(
        f"<tr><td>{html.escape(w)}</td><td>{v.get('n', 0)}</td>"
        + "".join(f"<td>{'–' if v.get(k) is None else format(v[k], '.3f')}</td>"
                  for k in ("tss", "hss", "bss", "roca")) + "</tr>"
        for w, v in sc.items())
    table = ("<table><tr><th>window</th><th>verified</th><th>TSS</th><th>HSS</th><th>BSS</th>"
             f"<th>ROCA</th></tr>{rows}</table>") if rows else "<p><i>no verified forecasts yet</i></p>"
    return (f"<h2>Track record</h2><p>{n} forecasts in the store.</p>"
            "<img src='/v1/forecasts/history.png' alt='forecast history' style='max-width:100%'>"
            f"{table}")


__all__ = ["COLUMNS", "forecast_csv", "forecast_records", "history_section", "parse_since",
           "scores", "track_record_png"]
