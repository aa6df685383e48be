"""``solarray forecast-index``: forecast a daily index (F30, F10.7) 1…h days ahead from image
features with Extra Trees, against persistence (Brown 2023 §2.2: image features only by default;
``--target-input`` adds y(t))."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from solarray.core.atomic import write_json
from solarray.core.errors import UsageError
from solarray.forecast.index_forecast import N_ESTIMATORS, forecast_index, format_rows
from solarray.viz.index_forecast import save_index_forecast_png

NAME = "forecast-index"
HELP = "forecast F30/F10.7 h days ahead from image features (Extra Trees vs persistence)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--series", required=True,
                        help="CSV/Parquet with a daily 'date' column and the target column")
    parser.add_argument("--target", default="f30", help="target column (f30, f107, ...)")
    parser.add_argument("--features", default=None,
                        help="Parquet with t_obs (or date) and numeric features, e.g. the output "
                             "of `solarray compress` (several rows per day are averaged)")
    parser.add_argument("--baseline-features", default=None,
                        help="a second extractor's features (same format) to compare against")
    parser.add_argument("--feature-prefix", default=None,
                        help="use only feature columns starting with this (default: mu_* when "
                             "present, else every numeric column)")
    parser.add_argument("--horizons", type=int, nargs="+", default=[1, 2, 3, 4],
                        help="forecast horizons in days (default 1 2 3 4)")
    parser.add_argument("--n-estimators", type=int, nargs="+", default=list(N_ESTIMATORS),
                        help="Extra Trees sizes tried on validation (default 250 … 2000)")
    given = parser.add_mutually_exclusive_group()
    given.add_argument("--target-input", action="store_true",
                       help="also give y(t) to the model (default: image features only, the "
                            "seed's protocol)")
    given.add_argument("--no-target-input", action="store_true",
                       help=argparse.SUPPRESS)  # the default since issue 29; kept for old scripts
    parser.add_argument("--n-boot", type=int, default=1000,
                        help="bootstrap resamples of test days for the intervals (default 1000)")
    parser.add_argument("--seed", type=int, default=0, help="Extra Trees random_state")
    parser.add_argument("--jobs", type=int, default=1, help="Extra Trees n_jobs")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--out", default=None,
                        help="directory for index_forecast.json and index_forecast.png")


def run(args: argparse.Namespace) -> int:
    for flag, path in (("--series", args.series), ("--features", args.features),
                       ("--baseline-features", args.baseline_features)):
        if path is not None and not os.path.isfile(path):
            raise UsageError(f"{flag}: no such file: {path}")
    try:
        result = forecast_index(args.series, args.target, args.features, args.horizons,
                                baseline_path=args.baseline_features, grid=args.n_estimators,
                                seed=args.seed, use_target=args.target_input,
                                feature_prefix=args.feature_prefix, n_jobs=args.jobs,
                                n_boot=args.n_boot)
    except ValueError as err:
        raise UsageError(str(err)) from None
    if args.json:
        print(json.dumps(result))
    else:
        print(format_rows(result))
    if args.out:
        out = Path(args.out)
        write_json(out / "index_forecast.json", result, indent=2)
        save_index_forecast_png(result, out / "index_forecast.png")
        if not args.json:
            print(f"Wrote {out / 'index_forecast.json'} and {out / 'index_forecast.png'}")
    return 0
