"""``solarray label init|predict|review|diff|retrain|list``: SPNet's human-in-the-loop label cycle.

Label versions live in a store directory (``--labels``): ``v1``, ``v2``, … each with
``labels.parquet`` (sample_id + masks) and ``provenance.json``; versions are never modified.
The corrections format of ``review`` is documented in :mod:`solarray.data.labels.corrections`.
"""

from __future__ import annotations

import argparse
import json

from solarray.core.errors import UsageError
from solarray.data import labels as lab
from solarray.train.label_runs import predict_labels, retrain_labels

NAME = "label"
HELP = "SPNet label sets: init | predict | review | diff | retrain | list (versioned, diffable)"


def _common(p: argparse.ArgumentParser, data: bool = True) -> None:
    p.add_argument("--labels", required=True, help="label store directory")
    if data:
        p.add_argument("--data", required=True, help="directory of ingest's Parquet shards")
        p.add_argument("--split", default="all", choices=("all", "train", "val", "test"),
                       help="which time split of the shards (default all)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="label_command", metavar="ACTION")

    p = sub.add_parser("init", help="first label version from the shards' masks (human labels)")
    _common(p)
    p.add_argument("--min-area", type=int, default=0,
                   help="simulate an incomplete label set: drop features smaller than this (px)")
    p.add_argument("--drop-fraction", type=float, default=1.0,
                   help="probability of dropping each small feature (default 1)")
    p.add_argument("--seed", type=int, default=0)

    p = sub.add_parser("predict", help="model masks for a dataset as a new label version")
    _common(p)
    p.add_argument("--checkpoint", required=True, help="spnet checkpoint (model.pt or directory)")
    p.add_argument("--threshold", type=float, default=None,
                   help="probability threshold (0–1); default: the checkpoint's tuned thresholds")
    p.add_argument("--parent", default=None,
                   help="label version the model was trained on (recorded as the parent)")
    p.add_argument("--batch-size", type=int, default=32)

    p = sub.add_parser("review", help="merge a corrections file into a new label version")
    _common(p, data=False)
    p.add_argument("--corrections", required=True,
                   help="corrections JSON (format: solarray.data.labels.corrections)")
    p.add_argument("--base", default=None, help="version to correct (default latest)")

    p = sub.add_parser("diff", help="features added/removed per class between two versions")
    _common(p, data=False)
    p.add_argument("a", help="older version (e.g. v1)")
    p.add_argument("b", help="newer version (e.g. v2)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")

    p = sub.add_parser("retrain", help="train SPNet on a label version (Ray Train)")
    _common(p)
    p.set_defaults(split="train")
    p.add_argument("--version", default=None, help="label version to train on (default latest)")
    p.add_argument("--channels", default=None,
                   help="model input channels, comma-separated (default: all data channels)")
    p.add_argument("--preset", default="tiny", help="model size preset: tiny | paper")
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--dice", type=float, default=0.0, help="weight of the soft-Dice term")
    p.add_argument("--pretrained-encoder", default="",
                   help="ViT/MAE checkpoint to initialise the encoder")
    p.add_argument("--workers", type=int, default=1, help="Ray Train workers (0 = in-process)")
    p.add_argument("--run-name", default=None, help="run name (default spnet_<version>)")
    p.add_argument("--storage", default="ray_results", help="Ray Train storage path")

    p = sub.add_parser("list", help="versions of a label store with their provenance")
    _common(p, data=False)


def run(args: argparse.Namespace) -> int:
    action = getattr(args, "label_command", None)
    if action is None:
        raise UsageError("choose an action: init | predict | review | diff | retrain | list")
    split = None if getattr(args, "split", "all") == "all" else args.split
    if action == "list":
        versions = lab.list_labels(args.labels)
        for v, p in versions:
            print(f"{v}  kind={p.get('kind')}  parent={p.get('parent')}  "
                  f"samples={p.get('n_samples')}  created={p.get('created')}  "
                  f"features={p.get('feature_counts')}")
        if not versions:
            print(f"{args.labels}: no label versions")
        return 0
    if action == "diff":
        d = lab.diff_labels(args.labels, args.a, args.b)
        print(json.dumps(d.to_dict(), indent=2) if args.json else d.text())
        return 0
    if action == "review":
        v = lab.review_labels(args.labels, args.corrections, base=args.base)
        store = lab.LabelStore(args.labels)
        prov = store.provenance(v)
        print(f"Wrote label version {v} (parent {prov['parent']}, "
              f"{prov['corrections']['n_samples']} corrected sample(s)) in {store.path(v)}")
        print(lab.diff(store, prov["parent"], v).text())
        return 0
    if action == "init":
        v = lab.init_labels(args.labels, args.data, split, args.min_area, args.drop_fraction,
                            args.seed)
        prov = lab.LabelStore(args.labels).provenance(v)
        print(f"Wrote label version {v}: {prov['n_samples']} samples, features "
              f"{prov['feature_counts']}, dropped {prov['dropped_features']}")
        return 0
    if action == "predict":
        v = predict_labels(args.labels, args.data, args.checkpoint, split, args.threshold,
                           args.parent, args.batch_size)
        prov = lab.LabelStore(args.labels).provenance(v)
        print(f"Wrote label version {v}: {prov['n_samples']} samples predicted by "
              f"{prov['model_checkpoint']}, features {prov['feature_counts']}")
        return 0
    if action == "retrain":
        version, result = retrain_labels(
            args.labels, args.data, args.version, split, args.channels, args.preset, args.steps,
            args.batch_size, args.lr, args.dice, args.pretrained_encoder, args.workers,
            args.run_name, args.storage)
        print(f"Trained spnet on label version {version}: checkpoint {result.checkpoint}")
        return 0
    raise UsageError(f"unknown action {action!r}")
