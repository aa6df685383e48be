"""``solarray evaluate <kind>``: evaluation tables. Kinds live in :data:`EVALUATIONS` (name →
(help, add_arguments, run)); add a kind by adding an entry — ``segmentation`` is the first."""

from __future__ import annotations

import argparse

from solarray.commands._eval_reconstruction import RECONSTRUCTION
from solarray.commands._eval_translation import TRANSLATION
from solarray.core.atomic import write_json
from solarray.core.errors import UsageError
from solarray.core.frame import FRAME_RSUN
from solarray.metrics import segmentation as seg
from solarray.train.segmentation_eval import SegmentationEval, evaluate_segmentation
from solarray.viz.situational_map import situational_map

NAME = "evaluate"
HELP = ("evaluation tables (segmentation: SPNet IoU/accuracy per class, SA-AI 2025 Table 2; "
        "reconstruction: sigma_vae per-channel metrics and compression, Brown 2023 Tables 1, 3; "
        "translation: CC, mean |RE|, PPE10 per passband, Park 2019)")


# --------------------------------------------------------------------------------------------------
# segmentation
# --------------------------------------------------------------------------------------------------


def _seg_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", required=True, help="directory of ingest's Parquet shards")
    p.add_argument("--checkpoint", nargs="*", default=[], metavar="CKPT",
                   help="spnet checkpoint(s): model.pt files or training checkpoint directories")
    p.add_argument("--name", nargs="*", default=None,
                   help="display names for the checkpoints (default: parent directory names)")
    p.add_argument("--split", default="test", choices=("all", "train", "val", "test"),
                   help="samples to evaluate (time split of solarray.data.dataset; default test)")
    p.add_argument("--labels", default=None,
                   help="label store to score against (default: the shards' truth masks)")
    p.add_argument("--version", default=None, help="label version with --labels (default latest)")
    p.add_argument("--missing", nargs="*", default=None, metavar="CHANNEL",
                   help="also score each model with each of these channels missing "
                        "(no names: every model channel in turn)")
    p.add_argument("--baseline", action="store_true",
                   help="add the threshold baseline (fit on the training split)")
    p.add_argument("--threshold", type=float, default=None,
                   help="probability threshold (0–1); default: the checkpoint's tuned thresholds")
    p.add_argument("--frame", type=float, default=FRAME_RSUN,
                   help=f"frame half-width in R☉ (default {FRAME_RSUN:g})")
    p.add_argument("--json", default=None, help="also write the table rows to this JSON file")
    p.add_argument("--map", default=None, metavar="PNG",
                   help="write a situational map of the first evaluated sample (first model)")


def _seg_run(args: argparse.Namespace) -> int:
    result = evaluate_segmentation(SegmentationEval(
        data=args.data, checkpoints=args.checkpoint, names=args.name, split=args.split,
        labels=args.labels, version=args.version, missing=args.missing, baseline=args.baseline,
        threshold=args.threshold, frame=args.frame, with_map=bool(args.map)))
    print(seg.format_table(result.rows))
    if args.json:
        write_json(args.json, result.json_rows(), indent=2)
        print(f"Rows written to {args.json}")
    if args.map and result.first:
        f = result.first
        situational_map(f["image"], f["channels"], f["pred"], args.map, meta=f["meta"],
                        present=f["present"], truth=f["truth"], title=f["title"])
        print(f"Situational map written to {args.map}")
    return 0


#: name → (help, add_arguments, run)
EVALUATIONS = {
    "segmentation": ("SPNet masks: IoU (0–100) and pixel accuracy per class, mean ± std over "
                     "images, on-disk pixels", _seg_arguments, _seg_run),
    "reconstruction": RECONSTRUCTION,
    "translation": TRANSLATION,
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="evaluation", metavar="KIND")
    for name, (help_, add, run_) in EVALUATIONS.items():
        p = sub.add_parser(name, help=help_, description=help_)
        add(p)
        p.set_defaults(_evaluate=run_)


def run(args: argparse.Namespace) -> int:
    fn = getattr(args, "_evaluate", None)
    if fn is None:
        raise UsageError(f"choose what to evaluate: {', '.join(EVALUATIONS)}")
    return int(fn(args) or 0)
