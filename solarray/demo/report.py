"""What ``solarray demo`` reports: held-out skill, regions against the synthetic truth, the page.

* :func:`held_out_skill` — FPNet's scores on the held-out month from the forecast CSVs that
  ``train-fpnet`` wrote (per AR, full disk, the per-AR probabilities combined over the disk as
  the service does, and whichever of the two full-disk forecasts ranks the validation month
  better);
* :func:`regions_vs_truth` — the cycle's regions matched to the synthetic Sun's true active
  regions at the observation time (:func:`solarray.metrics.region_match.match_regions`);
* :func:`write_report` — the HTML page (numbers rounded for people).
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from solarray.benchmarks.fpnet import intervals, scores, with_raw
from solarray.core.atomic import write_text
from solarray.forecast.prediction import disk_from_regions, verify_table
from solarray.metrics.region_match import match_regions

SKILL_KEYS = ("roca", "bss", "tss", "hss")
#: The forecasters the demo scores: the product, and FPNet on the truth (an upper bound).
AUTOMATIC = "automatic chain"
UPPER_BOUND = "FPNet* (true features, upper bound)"
#: Truth regions at least this large count for recall (one 128-px pixel is ≈ 50 MSH at centre).
MIN_TRUTH_MSH = 100.0
MATCH_DEG = 5.0


def held_out_skill(fpnet_dirs: Mapping[str, Path]) -> dict[str, dict[str, Any]]:
    """Per mode (``ar``, ``full-disk``, ``aggregated``): ROCA and BSS of the calibrated test
    forecasts, TSS and HSS at the validation-chosen threshold, number of forecasts and events.
    ``fpnet_dirs``: mode → ``train-fpnet --out`` directory (``forecasts_{val,test}.csv``)."""
    out: dict[str, dict[str, Any]] = {}
    tables = {}
    for mode, d in fpnet_dirs.items():
        val, test = Path(d) / "forecasts_val.csv", Path(d) / "forecasts_test.csv"
        if not (val.exists() and test.exists()):
            continue
        tables[mode] = (with_raw(pd.read_csv(val)), with_raw(pd.read_csv(test)))
    if "ar" in tables and "full-disk" in tables:
        labels = {}
        for k, part in zip(("val", "test"), tables["full-disk"], strict=True):
            labels[k] = pd.DataFrame({"t_obs": part["time"], "label": part["observed"]})
        tables["aggregated"] = tuple(
            with_raw(disk_from_regions(part, labels[k]))
            for k, part in zip(("val", "test"), tables["ar"], strict=True))
    for mode, (val, test) in tables.items():
        known = test[test["observed"] >= 0]
        s = scores(val, test)
        out[mode] = {**{k: s.get(k) for k in SKILL_KEYS}, "n": int(len(known)),
                     "events": int(known["observed"].sum()), **intervals(val, test)}
    if "aggregated" in tables:
        # The full-disk forecast to trust: whichever ranks the validation month better.
        val_roca = {m: verify_table(tables[m][0]).roca or 0.0 for m in ("full-disk", "aggregated")}
        best = max(val_roca, key=val_roca.get)
        out["full disk (chosen on validation)"] = {**out[best], "chosen": best,
                                                   "validation_roca": round(val_roca[best], 3)}
    return out


def truth_regions(synth_dir: Path, observation_time: str) -> pd.DataFrame:
    """The synthetic Sun's visible active regions at ``observation_time`` (its ``ar.parquet``)."""
    ar = pd.read_parquet(Path(synth_dir) / "tables" / "ar.parquet")
    t = pd.to_datetime(ar["t_obs"], utc=True)
    want = pd.Timestamp(observation_time)
    want = want.tz_localize("UTC") if want.tzinfo is None else want.tz_convert("UTC")
    near = (t - want).abs() <= pd.Timedelta(minutes=1)
    return ar[near].reset_index(drop=True)


def regions_vs_truth(response: Mapping[str, Any], synth_dir: Path) -> dict[str, Any]:
    """Detected regions of ``response`` against the truth: matched, missed, false, recall for
    truth regions ≥ :data:`MIN_TRUTH_MSH`, median area ratio, and one row per truth region."""
    truth = truth_regions(synth_dir, str(response.get("observation_time")))
    detected = [r for r in response.get("regions", [])
                if r.get("hgs_lon") is not None and r.get("hgs_lat") is not None]
    m = match_regions(detected, truth, max_distance_deg=MATCH_DEG, min_truth_area_msh=MIN_TRUTH_MSH)
    by_truth = {p.truth: p for p in (*m.pairs, *m.ignored)}
    rows = []
    for i, t in truth.iterrows():
        p = by_truth.get(i)
        d = detected[p.detected] if p else {}
        rows.append({"truth": int(t["ar_number"]), "truth_area_msh": round(float(t["area_msh"])),
                     "truth_hale": t["hale"], "detected": d.get("number"),
                     "detected_area_msh": None if not p else round(float(d.get("area_msh") or 0)),
                     "detected_hale": d.get("hale"),
                     "distance_deg": None if not p else round(p.distance_deg, 1)})
    return {**m.to_dict(), "rows": rows}


def _ci(v: Mapping[str, Any], key: str) -> str | None:
    lo, hi = v.get(f"{key}_lo"), v.get(f"{key}_hi")
    return None if lo is None or hi is None else f"[{lo:.2f}, {hi:.2f}]"


def _headline(modes: Mapping[str, Mapping[str, Any]]) -> str:
    """One sentence: the automatic chain's held-out per-region and full-disk ROCA and BSS."""
    parts = []
    for mode, label in (("ar", "per region"), ("full disk (chosen on validation)", "full disk")):
        v = modes.get(mode)
        if v:
            parts.append(f"{label}: ROCA {_cell(v.get('roca'))} {_ci(v, 'roca') or ''}, BSS "
                         f"{_cell(v.get('bss'))} {_ci(v, 'bss') or ''}".replace("  ", " "))
    return "Automatic chain, " + "; ".join(parts) if parts else "Automatic chain: no score"


def _cell(v: Any, digits: int = 2) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return html.escape(str(v))


def _table(rows: Sequence[Mapping[str, Any]], cols: Sequence[tuple[str, str, int]]) -> str:
    head = "".join(f"<th>{html.escape(label)}</th>" for _, label, _ in cols)
    body = "".join("<tr>" + "".join(f"<td>{_cell(r.get(k), d)}</td>" for k, _, d in cols)
                   + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


REGION_COLS = [("number", "AR", 0), ("hgs_lon", "lon °", 1), ("hgs_lat", "lat °", 1),
               ("area_msh", "area MSH", 0), ("hale", "Hale", 0), ("mcintosh", "McIntosh", 0),
               ("flare_index", "FI 24 h", 0), ("p_m24", "P(≥M, 24 h)", 2)]


def _rounded_regions(regions: Sequence[Mapping[str, Any]]) -> list[dict]:
    out = []
    for r in regions:
        row = dict(r)
        if row.get("area_msh") is not None:
            row["area_msh"] = int(round(float(row["area_msh"])))
        if row.get("flare_index") is not None:
            row["flare_index"] = int(round(float(row["flare_index"])))
        out.append(row)
    return out


def write_report(out: Path, response: Mapping[str, Any], stages: Sequence[tuple[str, float, str]],
                 real: Sequence[Mapping[str, Any]], skill: Mapping[str, Mapping[str, Any]],
                 truth: Mapping[str, Any] | None, config: Mapping[str, Any],
                 ckpt_dir: Path) -> Path:
    """``out/report.html``: forecast, map, regions, held-out skill, truth match, stages."""
    esc = html.escape
    fd = response.get("full_disk", {}) or {}
    skill_rows = [{"forecaster": f, "mode": m, **v, "roca_ci": _ci(v, "roca"),
                   "bss_ci": _ci(v, "bss")} for f, modes in skill.items() for m, v in modes.items()]
    skill_html = _table(skill_rows, [("forecaster", "forecaster", 0), ("mode", "forecast", 0),
                                     ("n", "forecasts", 0), ("events", "events", 0),
                                     ("roca", "ROCA", 2), ("roca_ci", "95 % interval", 0),
                                     ("bss", "BSS", 2), ("bss_ci", "95 % interval", 0),
                                     ("tss", "TSS", 2), ("hss", "HSS", 2)])
    headline = _headline(skill.get(AUTOMATIC, {}))
    truth_html = "<p>No synthetic truth for this observation.</p>"
    if truth:
        truth_html = (
            f"<p>{truth['n_matched']} matched, {truth['n_missed']} missed, {truth['n_false']} "
            f"false (centres within {MATCH_DEG:g}°; recall counts true regions ≥ "
            f"{MIN_TRUTH_MSH:g} MSH): recall {_cell(truth.get('recall'))}, precision "
            f"{_cell(truth.get('precision'))}, median area ratio detected/true "
            f"{_cell(truth.get('median_area_ratio'))}.</p>"
            + _table(truth["rows"], [("truth", "true AR", 0), ("truth_area_msh", "true MSH", 0),
                                     ("truth_hale", "true Hale", 0), ("detected", "detected", 0),
                                     ("detected_area_msh", "detected MSH", 0),
                                     ("detected_hale", "detected Hale", 0),
                                     ("distance_deg", "distance °", 1)]))
    stage_rows = [{"stage": n, "s": dt, "result": note} for n, dt, note in stages]
    real_html = _table(real, [("file", "file", 0), ("channel", "channel", 0),
                              ("limb_radius_rsun", "measured limb, R☉", 3)])
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>solarray demo</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:3px 8px}}</style></head><body>
<h1>solarray demo — forecast for {esc(str(response.get('observation_time')))}</h1>
<p>Full-disk probability of an M-class or stronger flare in the next 24 h:
<b>{_cell(fd.get('p_m24'))}</b>. Models: {esc(json.dumps(response.get('model_versions', {})))}</p>
<img src="situational_map.png" alt="situational awareness map" style="max-width:100%">
<h2>Active regions</h2>{_table(_rounded_regions(response.get('regions', [])), REGION_COLS)}
<h2>Detected regions against the synthetic truth</h2>{truth_html}
<h2>The forecaster you get, on the held-out month (January, synthetic)</h2>
<p><b>{esc(headline)}</b></p>
<p>"{AUTOMATIC}": FPNet trained and scored on what the service computes (SPNet regions, IATools
areas and Schrijver R, CNN Hale/McIntosh classes, the flare index of the located XRS history) —
what `solarray serve` delivers. "{UPPER_BOUND}": the same FPNet fed the synthetic Sun's true
features, an upper bound, not the product. Intervals: 95 % bootstrap, resampling true regions
(per region) or days (full disk). ROCA and BSS of the calibrated probabilities (BSS against the test month's own base rate:
climatology scores 0); TSS and HSS at the threshold chosen on the validation month.
"aggregated": the per-AR probabilities combined over the disk, 1 − Π(1 − p); the last row is
whichever full-disk forecast ranks the validation month better (never chosen on the test).</p>{skill_html}
<h2>Real sunpy sample files through the same preprocessing</h2>{real_html}
<h2>Stages</h2>{_table(stage_rows, [("stage", "stage", 0), ("s", "s", 1), ("result", "result", 0)])}
<p>Configuration: {esc(json.dumps(dict(config)))}; checkpoints in {esc(str(ckpt_dir))}.</p>
</body></html>"""
    return write_text(Path(out) / "report.html", page)


__all__ = ["AUTOMATIC", "UPPER_BOUND", "held_out_skill", "regions_vs_truth", "truth_regions", "write_report"]
