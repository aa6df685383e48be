"""``solarray flares``: detect flares in a GOES XRS file with the NOAA/SEPC rule."""

from __future__ import annotations

import argparse
import json
import sys

from solarray.analysis import flares as F
from solarray.core.errors import UsageError
from solarray.core.goes import class_to_flux
from solarray.data.tables.goes_xrs import XRSReadError

NAME = "flares"
HELP = "detect flares in GOES XRS 1-8 Å flux (NOAA/SEPC rule): start, peak, end, class"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--goes", required=True, metavar="FILE",
                   help="GOES XRS file: FITS/netCDF (sunpy TimeSeries) or xrs.parquet/CSV "
                        "with columns time, xrsa, xrsb")
    p.add_argument("--json", action="store_true",
                   help="one JSON object per event: start, peak, end (ISO UTC), peak_flux "
                        "(W m-2), goes_class")
    p.add_argument("--min-class", default=None, metavar="CLASS",
                   help="only report events at or above this class, e.g. C1.0")
    p.add_argument("--max-interp", type=int, default=3, metavar="MIN",
                   help="interpolate data gaps up to this many minutes (default 3)")


def run(args: argparse.Namespace) -> int:
    if args.max_interp < 0:
        raise UsageError(f"--max-interp must be ≥ 0 minutes, got {args.max_interp}")
    min_flux = 0.0
    if args.min_class:
        try:
            min_flux = class_to_flux(args.min_class)
        except ValueError as err:
            raise UsageError(f"--min-class: {err}") from None
    try:
        events, data = F.detect_from_file(args.goes, F.DetectConfig(min_peak_flux=min_flux),
                                          max_interp_minutes=args.max_interp)
    except XRSReadError as err:
        raise UsageError(f"--goes: {err}") from None
    r = data.report
    bad = r.get("xrsb_nonfinite", 0) + r.get("xrsb_nonpositive", 0) + r.get("xrsb_flagged", 0)
    summary = (f"{data.source}: {r['minutes']} one-minute values, {bad} bad 1-8 Å samples removed, "
               f"{r['missing_minutes']} missing minutes ({r['interpolated_minutes']} interpolated)")
    for gap in r["long_gaps"]:
        summary += f"\n  gap: {gap['minutes']} min from {gap['start']}"
    records = F.events_to_records(events)
    if args.json:
        print(summary, file=sys.stderr)
        for rec in records:
            print(json.dumps({k: rec[k] for k in ("start", "peak", "end", "peak_flux", "goes_class")}))
        return 0
    print(summary)
    if not records:
        print("no flares detected")
        return 0
    print(f"{'start':20} {'peak':20} {'end':20} {'class':>6} {'peak W m-2':>11}  note")
    for rec in records:
        note = "" if rec["end_reason"] == "half" else rec["end_reason"]
        if rec["gap_minutes"]:
            note += f" {rec['gap_minutes']} min missing"
        print(f"{rec['start']:20} {rec['peak']:20} {rec['end'] or '-':20} {rec['goes_class']:>6} "
              f"{rec['peak_flux']:11.3e}  {note.strip()}")
    return 0
