"""``solarray verify``: verification scores, ROC and reliability figures for a forecast CSV."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

NAME = "verify"
HELP = (
    "Score probabilistic flare forecasts (CSV with observed, probability): table, ROC, reliability."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--forecasts", required=True, metavar="F.csv",
        help="CSV with columns 'observed' (0/1) and 'probability' ([0, 1]); other columns ignored",
    )  # fmt: skip
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
    from solarray.core.errors import UsageError

    try:
        value = float(text)
    except ValueError:
        raise UsageError(f"{flag} must be a number in [0, 1], got {text!r}") from None
    if not (0.0 <= value <= 1.0):
        raise UsageError(f"{flag} must be a number in [0, 1], got {text!r}")
    return value


def read_forecast_csv(path: Path, *, omit_nan: bool = False):
    """Read ``observed`` and ``probability`` from a CSV as float arrays (checked, see module doc).

    Raises :class:`solarray.core.errors.UsageError` naming the file, column and CSV line of the first
    problem: missing column, non-numeric value, empty cell, observed not 0/1, probability outside
    [0, 1]. Empty probability cells are dropped instead when ``omit_nan``; returns
    ``(observed, probability, n_dropped)``.
    """
    import numpy as np
    import pandas as pd

    from solarray.core.errors import UsageError

    if not path.is_file():
        raise UsageError(f"--forecasts: no such file: {path}")
    try:
        frame = pd.read_csv(
            path, dtype=str, keep_default_na=False, skipinitialspace=True, encoding="utf-8-sig"
        )
    except pd.errors.EmptyDataError:
        raise UsageError(
            f"{path}: empty CSV (expected columns 'observed' and 'probability')"
        ) from None
    except (pd.errors.ParserError, UnicodeDecodeError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise UsageError(f"{path}: not a readable CSV: {first}") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    for col in ("observed", "probability"):
        if col not in frame.columns:
            have = ", ".join(repr(c) for c in frame.columns) or "none"
            raise UsageError(f"{path}: missing column '{col}' (columns: {have})")
    if len(frame) == 0:
        raise UsageError(f"{path}: no rows")

    def numeric(col: str) -> np.ndarray:
        text = frame[col].str.strip()
        values = pd.to_numeric(text, errors="coerce").to_numpy(dtype=np.float64)
        lower = text.str.lower()
        # Boolean spellings are valid labels.
        if col == "observed":
            values = np.where(lower == "true", 1.0, np.where(lower == "false", 0.0, values))
        bad = np.isnan(values) & ~((text == "") | lower.isin(["nan", "na"]))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise UsageError(
                f"{path}: column '{col}' line {i + 2}: non-numeric value {frame[col].iloc[i]!r}"
            )
        return values

    observed = numeric("observed")
    probability = numeric("probability")
    missing_o = np.isnan(observed)
    if missing_o.any():
        i = int(np.flatnonzero(missing_o)[0])
        raise UsageError(f"{path}: column 'observed' line {i + 2}: empty value")
    bad = ~((observed == 0.0) | (observed == 1.0))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise UsageError(
            f"{path}: column 'observed' line {i + 2}: must be 0 or 1, got {frame['observed'].iloc[i]!r}"
        )
    missing_p = np.isnan(probability)
    dropped = 0
    if missing_p.any():
        if not omit_nan:
            i = int(np.flatnonzero(missing_p)[0])
            raise UsageError(
                f"{path}: column 'probability' line {i + 2}: empty/NaN value "
                f"({int(missing_p.sum())} such rows; --omit-nan drops them)"
            )
        dropped = int(missing_p.sum())
        observed, probability = observed[~missing_p], probability[~missing_p]
        if observed.size == 0:
            raise UsageError(f"{path}: column 'probability' has no values (all empty/NaN)")
    bad = ~((probability >= 0.0) & (probability <= 1.0))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        line = int(np.flatnonzero(~missing_p)[i]) + 2
        raise UsageError(
            f"{path}: column 'probability' line {line}: must lie in [0, 1], got "
            f"{frame['probability'].iloc[line - 2]!r}"
        )
    return observed, probability, dropped


def run(args: argparse.Namespace) -> int:
    from solarray.core.errors import UsageError
    from solarray.forecast import verify as v

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
    report = v.verify(observed, probability, threshold, base_rate=base_rate, bins=bins)

    out_dir = Path(args.out) if args.out is not None else path.resolve().parent
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"--out: not a directory: {out_dir}")
    label = path.stem
    roc_png = v.save_roc_png(report, out_dir / f"{label}_roc.png", label)
    rel_png = v.save_reliability_png(report, out_dir / f"{label}_reliability.png", label)

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
