"""``solarray evaluate reconstruction``: a sigma-VAE's per-channel reconstruction metrics
(pixel correlation, ppe10, ppe50, RMSE in DN/s or G, on-disk; seed 003 Table 3) and the
compression table (Table 1) on a shard directory. :data:`RECONSTRUCTION` is the
``(help, add_arguments, run)`` entry of ``solarray evaluate``'s kinds."""

from __future__ import annotations

import argparse
import json
import os

from solarray.compress.report import format_report, reconstruction_report
from solarray.core.atomic import write_json
from solarray.core.errors import UsageError

HELP = "sigma_vae reconstruction per channel (corr, ppe10, ppe50, RMSE) + compression table"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--checkpoint", required=True, help="sigma_vae checkpoint")
    p.add_argument("--data", required=True, help="directory of ingest's Parquet shards")
    p.add_argument("--limit", type=int, default=None, help="only the first N samples")
    p.add_argument("--json", nargs="?", const="-", default=None, metavar="FILE",
                   help="print the report as JSON (or write it to FILE)")


def run(args: argparse.Namespace) -> int:
    if not os.path.isdir(args.data):
        raise UsageError(f"--data: no such directory: {args.data}")
    if args.limit is not None and args.limit < 1:
        raise UsageError(f"--limit must be a positive integer, got {args.limit}")
    try:
        report = reconstruction_report(args.checkpoint, args.data, limit=args.limit,
                                       log=lambda s: None)
    except (ValueError, FileNotFoundError) as err:
        raise UsageError(str(err)) from None
    if args.json == "-":
        print(json.dumps(report, indent=2))
    else:
        print(format_report(report))
        if args.json:
            write_json(args.json, report, indent=2)
    return 0


RECONSTRUCTION = (HELP, add_arguments, run)
