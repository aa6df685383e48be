"""``solarray label init|predict|review|diff|retrain|list``: SPNet's human-in-the-loop label cycle.

Label versions live in a store directory (``--labels``): ``v1``, ``v2``, … each with
``labels.parquet`` (sample_id + masks) and ``provenance.json``; versions are never modified.
The corrections format of ``review`` is documented in :mod:`solarray.data.labels.corrections`.
"""

from __future__ import annotations

import argparse
import json
import os

from solarray.commands._checks import (
    load_checkpoint,
    require_file,
    require_shards,
    require_split,
    shard_channels,
)
from solarray.core import channels as chans
from solarray.core.errors import UsageError
from solarray.core.ray_connect import connect
from solarray.data import labels as lab
from solarray.train import relabel
from solarray.train.config import TrainConfig

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


def _positive(name: str, v: int, low: int = 1) -> None:
    if v < low:
        raise UsageError(f"{name} must be an integer ≥ {low}, got {v}")


def run(args: argparse.Namespace) -> int:
    action = getattr(args, "label_command", None)
    if action is None:
        raise UsageError("choose an action: init | predict | review | diff | retrain | list")
    if os.path.exists(args.labels) and not os.path.isdir(args.labels):
        raise UsageError(f"--labels: {args.labels} is a file; give the label store directory")
    if action == "review":
        require_file("--corrections", args.corrections)
    store = lab.LabelStore(args.labels)
    split = None if getattr(args, "split", "all") == "all" else args.split
    if hasattr(args, "data"):
        require_shards("--data", args.data)
        if split is not None:
            require_split("--data", args.data, split, "choose another --split (all, train, val, "
                          "test) or add data from other months")
    if action == "predict":
        model = load_checkpoint("--checkpoint", args.checkpoint, "spnet")
        available = shard_channels("--data", args.data)
        if not set(model.config.channels) & set(available):
            raise UsageError(f"--checkpoint {args.checkpoint}: the model reads "
                             f"{', '.join(model.config.channels)}; the shards in {args.data} have "
                             f"none of them ({', '.join(available)}); use a model trained on them")

    try:
        if action == "list":
            for v in store.versions():
                p = store.provenance(v)
                print(f"{v}  kind={p.get('kind')}  parent={p.get('parent')}  "
                      f"samples={p.get('n_samples')}  created={p.get('created')}  "
                      f"features={p.get('feature_counts')}")
            if not store.versions():
                print(f"{args.labels}: no label versions")
            return 0
        if action == "diff":
            d = lab.diff(store, args.a, args.b)
            print(json.dumps(d.to_dict(), indent=2) if args.json else d.text())
            return 0
        if action == "review":
            v = lab.review(store, args.corrections, base=args.base)
            prov = store.provenance(v)
            print(f"Wrote label version {v} (parent {prov['parent']}, "
                  f"{prov['corrections']['n_samples']} corrected sample(s)) in {store.path(v)}")
            print(lab.diff(store, prov["parent"], v).text())
            return 0
    except lab.CorrectionsError as err:
        raise UsageError(f"--corrections: {err}") from None
    except (KeyError, FileNotFoundError) as err:
        raise UsageError(str(err.args[0] if err.args else err)) from None

    if action == "retrain":
        try:  # validate the store before starting Ray
            store.resolve(args.version)
        except (KeyError, FileNotFoundError) as err:
            raise UsageError(f"--version: {err.args[0]}") from None
    connect()
    if action == "init":
        _positive("--min-area", args.min_area, 0)
        if not 0 <= args.drop_fraction <= 1:
            raise UsageError(f"--drop-fraction must be in [0, 1], got {args.drop_fraction}")
        v = lab.init_from_data(store, args.data, split, args.min_area, args.drop_fraction,
                               args.seed)
        prov = store.provenance(v)
        print(f"Wrote label version {v}: {prov['n_samples']} samples, features "
              f"{prov['feature_counts']}, dropped {prov['dropped_features']}")
        return 0
    if action == "predict":
        if args.threshold is not None and not 0 < args.threshold < 1:
            raise UsageError(f"--threshold must be in (0, 1), got {args.threshold}")
        _positive("--batch-size", args.batch_size)
        if not os.path.exists(args.checkpoint):
            raise UsageError(f"--checkpoint: no such file or directory: {args.checkpoint}")
        parent = None
        if args.parent:
            try:
                parent = store.resolve(args.parent)
            except (KeyError, FileNotFoundError) as err:
                raise UsageError(f"--parent: {err.args[0]}") from None
        try:
            v = relabel.predict(store, args.checkpoint, args.data, split, args.threshold, parent,
                            args.batch_size)
        except ValueError as err:
            raise UsageError(str(err)) from None
        prov = store.provenance(v)
        print(f"Wrote label version {v}: {prov['n_samples']} samples predicted by "
              f"{prov['model_checkpoint']}, features {prov['feature_counts']}")
        return 0
    if action == "retrain":
        _positive("--steps", args.steps)
        _positive("--batch-size", args.batch_size)
        _positive("--workers", args.workers, 0)
        try:
            version = store.resolve(args.version)
        except (KeyError, FileNotFoundError) as err:
            raise UsageError(f"--version: {err.args[0]}") from None
        mc: dict = {"preset": args.preset}
        if args.channels:
            try:
                mc["channels"] = list(chans.resolve(args.channels))
            except (KeyError, ValueError) as err:
                raise UsageError(f"--channels: {err.args[0]}") from None
        oc: dict = {"dice_weight": args.dice}
        if args.pretrained_encoder:
            if not os.path.exists(args.pretrained_encoder):
                raise UsageError(f"--pretrained-encoder: no such file: {args.pretrained_encoder}")
            oc["pretrained_encoder"] = os.path.abspath(args.pretrained_encoder)
        try:
            cfg = TrainConfig(model="spnet", model_config=mc, objective="spnet",
                              objective_config=oc, steps=args.steps, batch_size=args.batch_size,
                              lr=args.lr, warmup_steps=min(20, args.steps // 10),
                              weight_decay=0.01, checkpoint_every=args.steps,
                              report_every=max(1, min(50, args.steps // 5)),
                              num_workers=args.workers,
                              run_name=args.run_name or f"spnet_{version}",
                              storage_path=args.storage, torch_threads=1)
        except ValueError as err:
            raise UsageError(str(err)) from None
        result = relabel.retrain(store, version, args.data, cfg, split=split)
        print(f"Trained spnet on label version {version}: checkpoint {result.checkpoint}")
        return 0
    raise UsageError(f"unknown action {action!r}")
