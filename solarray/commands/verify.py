"""``solarray verify``: verification scores, ROC and reliability figures for a forecast CSV."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from solarray.core.atomic import staged_dir
from solarray.core.errors import UsageError
from solarray.forecast.verification_io import read_forecast_csv
from solarray.live.verify_store import score_rows, verify_store
from solarray.metrics.verification import verify
from solarray.metrics.verification.report import format_table
from solarray.viz.verification import save_reliability_png, save_roc_png

NAME = "verify"
HELP = (
    "Score probabilistic flare forecasts (CSV with observed, probability, or a `solarray watch` "
    "store): table, ROC, reliability."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument(
        "--forecasts", metavar="F.csv",
        help="CSV with columns 'observed' (0/1) and 'probability' ([0, 1]); other columns ignored",
    )  # fmt: skip
    src.add_argument(
        "--store", metavar="STORE",
        help="a `solarray watch` forecast store: verify its outcomes, update its running scores "
             "(full disk and per region, per model version, since start and over --last-days)",
    )  # fmt: skip
    parser.add_argument("--last-days", type=float, nargs="*", default=[7.0, 30.0],
                        help="--store: rolling windows in days (default 7 30)")
    parser.add_argument("--goes", default=None,
                        help="--store: GOES XRS file or tables/ dir to verify pending forecasts")
    parser.add_argument("--ccmc", default=None, metavar="CSV",
                        help="--store: also export the forecasts in the CCMC Flare Scoreboard's "
                             "fields to this CSV")
    parser.add_argument(
        "--threshold", default="0.5",
        help="forecast 'yes' when probability >= threshold (default 0.5, the calibrated threshold)",
    )  # fmt: skip
    parser.add_argument(
        "--base-rate", default=None,
        help="climatological event rate for BSS (default: the event rate of the CSV)",
    )  # fmt: skip
    parser.add_argument("--bins", default="10", help="reliability-diagram bins (default 10)")
    parser.add_argument(
        "--omit-nan", action="store_true",
        help="drop rows whose probability is empty/NaN (default: they are an error)",
    )  # fmt: skip
    parser.add_argument(
        "--json", action="store_true",
        help="print one JSON object (tp tn fp fn precision recall far accuracy f1 csi tss hss "
        "bs bss roca; null = undefined) instead of the table",
    )  # fmt: skip
    parser.add_argument(
        "--out", default=None, metavar="DIR",
        help="directory for <name>_roc.png and <name>_reliability.png (default: beside the CSV)",
    )  # fmt: skip


def _unit_interval(flag: str, text: str):
    try:
        value = float(text)
    except ValueError:
        raise UsageError(f"{flag} must be a number in [0, 1], got {text!r}") from None
    if not (0.0 <= value <= 1.0):
        raise UsageError(f"{flag} must be a number in [0, 1], got {text!r}")
    return value


def _run_store(args: argparse.Namespace, threshold: float) -> int:
    v = verify_store(args.store, threshold, args.last_days, args.goes, args.ccmc)
    if args.json:
        print(json.dumps(v.scores, allow_nan=False, default=str))
        return 0
    print(f"{args.store}: {v.n_forecasts} forecasts, {v.n_outcomes} with outcomes, "
          f"{v.n_forecasts - v.n_outcomes} pending; threshold {threshold:g}")
    rows, names = score_rows(v.scores)
    print(format_table(rows) if rows else "no verified forecasts yet")
    for version, short in names.items():
        print(f"{short}: {version}")
    if args.ccmc:
        print(f"wrote {args.ccmc}")
    return 0


def run(args: argparse.Namespace) -> int:
    if args.store:
        return _run_store(args, _unit_interval("--threshold", args.threshold))
    threshold = _unit_interval("--threshold", args.threshold)
    base_rate = None if args.base_rate is None else _unit_interval("--base-rate", args.base_rate)
    try:
        bins = int(args.bins)
    except ValueError:
        bins = 0
    if bins < 1:
        raise UsageError(f"--bins must be a positive integer, got {args.bins!r}")

    path = Path(args.forecasts)
    observed, probability, dropped = read_forecast_csv(path, omit_nan=args.omit_nan)
    report = verify(observed, probability, threshold, base_rate=base_rate, bins=bins)

    out_dir = Path(args.out) if args.out is not None else path.resolve().parent
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"--out: not a directory: {out_dir}")
    label = path.stem
    roc_png, rel_png = out_dir / f"{label}_roc.png", out_dir / f"{label}_reliability.png"
    with staged_dir(out_dir) as stage:  # both figures or neither
        save_roc_png(report, stage / roc_png.name, label)
        save_reliability_png(report, stage / rel_png.name, label)

    if args.json:
        print(report.to_json())
        # Reasons for nulls go to stderr so stdout stays exactly one JSON object.
        for key, why in report.undefined.items():
            print(f"solarray verify: note: {key} undefined — {why}", file=sys.stderr)
        if dropped:
            print(f"solarray verify: note: omitted {dropped} row(s) with empty/NaN probability",
                  file=sys.stderr)  # fmt: skip
        return 0

    print(f"{path}: N = {report.n}, events = {report.counts.observed_yes} "
          f"(base rate {report.base_rate:.4f}), threshold = {threshold:g}"
          + (f", BSS reference base rate = {report.reference_base_rate:g}"
             if base_rate is not None else ""))  # fmt: skip
    print(report.table(f"{label} (Th={threshold:g})"))
    if dropped:
        print(f"omitted {dropped} row(s) with empty/NaN probability")
    print(f"wrote {roc_png}")
    print(f"wrote {rel_png}")
    return 0
