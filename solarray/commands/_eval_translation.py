"""``solarray evaluate translation``: Park 2019's table (CC, the mean signed RE of Park's passband
rows and our mean |RE| over images, PPE10 per generated passband and their average, on inverse-scaled
on-disk pixels; the fine-scale power ratio for realism) for translation checkpoints and the baselines,
plus side-by-side PNGs (input, target, generated, difference)."""

from __future__ import annotations

import argparse
import json
import sys

from solarray.core.atomic import write_json
from solarray.core.frame import FRAME_RSUN
from solarray.translate.evaluate import evaluate_translation
from solarray.translate.evaluation import format_table

HELP = ("translation models: CC, mean |RE| (and signed), PPE10 per generated passband (Park 2019) "
        "in physical units on the disk, fine-scale power ratio, with side-by-side PNGs")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--checkpoint", nargs="+", required=True, metavar="CKPT",
                   help="pix2pix / controlnet_translator checkpoint(s) (model.pt or a training "
                        "checkpoint directory)")
    p.add_argument("--data", required=True, help="directory of ingest's Parquet shards")
    p.add_argument("--split", default="test", choices=("all", "train", "val", "test"),
                   help="samples to evaluate (default test)")
    p.add_argument("--outputs", default=None,
                   help="comma-separated subset of the generated channels to score")
    p.add_argument("--baselines", action="store_true",
                   help="add the mean training image and the per-pixel linear fit on |B| "
                        "(fitted on the training split)")
    p.add_argument("--frame", type=float, default=FRAME_RSUN, help="frame half-width in R☉")
    p.add_argument("--json", nargs="?", const="-", default=None, metavar="FILE",
                   help="print the rows as JSON instead of the table (or also write them to FILE)")
    p.add_argument("--out", default=None, help="directory for side-by-side PNGs")
    p.add_argument("--figures", type=int, default=3, help="PNGs per checkpoint with --out")


def run(args: argparse.Namespace) -> int:
    # with --json on stdout, progress lines go to stderr so stdout stays one JSON document
    def say(msg: str) -> None:
        print(msg, file=sys.stderr if args.json == "-" else sys.stdout)

    outputs = [c.strip() for c in args.outputs.split(",") if c.strip()] if args.outputs else None
    rows = evaluate_translation(args.checkpoint, args.data, None if args.split == "all" else
                                args.split, outputs, args.baselines, args.frame, args.out,
                                args.figures, log=say)
    if args.json == "-":
        print(json.dumps(rows, indent=2))
        return 0
    print(format_table(rows))
    if args.json:
        write_json(args.json, rows, indent=2)
        print(f"Rows written to {args.json}")
    return 0


TRANSLATION = (HELP, add_arguments, run)

__all__ = ["TRANSLATION"]
