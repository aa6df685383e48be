"""``solarray evaluate reconstruction``: a sigma-VAE's per-channel reconstruction metrics
(pixel correlation, ppe10, ppe50, RMSE in DN/s or G, on-disk; Brown 2023 Table 3) and the
compression table (Table 1) on a shard directory. :data:`RECONSTRUCTION` is the
``(help, add_arguments, run)`` entry of ``solarray evaluate``'s kinds."""

from __future__ import annotations

import argparse
import json

from solarray.compress.report import evaluate_reconstruction, format_report
from solarray.core.atomic import write_json

HELP = "sigma_vae reconstruction per channel (corr, ppe10, ppe50, RMSE) + compression table"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--checkpoint", required=True, help="sigma_vae checkpoint")
    p.add_argument("--data", required=True, help="directory of ingest's Parquet shards")
    p.add_argument("--limit", type=int, default=None, help="only the first N samples")
    p.add_argument("--json", nargs="?", const="-", default=None, metavar="FILE",
                   help="print the report as JSON (or write it to FILE)")


def run(args: argparse.Namespace) -> int:
    report = evaluate_reconstruction(args.checkpoint, args.data, args.limit)
    if args.json == "-":
        print(json.dumps(report, indent=2))
    else:
        print(format_report(report))
        if args.json:
            write_json(args.json, report, indent=2)
    return 0


RECONSTRUCTION = (HELP, add_arguments, run)
