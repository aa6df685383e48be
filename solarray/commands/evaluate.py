"""``solarray evaluate <kind>``: evaluation tables. Kinds live in :data:`EVALUATIONS` (name →
(help, add_arguments, run)); add a kind by adding an entry — ``segmentation`` is the first."""

from __future__ import annotations

import argparse
import os

import numpy as np

from solarray.commands._eval_reconstruction import RECONSTRUCTION
from solarray.commands._eval_translation import TRANSLATION
from solarray.core.atomic import write_json
from solarray.core.checkpoints import run_name
from solarray.core.errors import UsageError
from solarray.core.features import FEATURE_KINDS
from solarray.core.frame import FRAME_RSUN
from solarray.core.ray_connect import connect
from solarray.data import labels as lab
from solarray.data.dataset import require_shards, require_split, shard_channels
from solarray.metrics import segmentation as seg
from solarray.models.registry import load_checkpoint
from solarray.train.relabel import predict_masks
from solarray.viz.situational_map import situational_map

NAME = "evaluate"
HELP = ("evaluation tables (segmentation: SPNet IoU/accuracy per class, SA-AI 2025 Table 2; "
        "reconstruction: sigma_vae per-channel metrics and compression, Brown 2023 Tables 1, 3; "
        "translation: CC/RE/PPE10 per passband, Park 2019)")


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
    require_shards("--data", args.data)
    if not args.checkpoint and not args.baseline:
        raise UsageError("give --checkpoint and/or --baseline (nothing to evaluate)")
    for c in args.checkpoint:
        if not os.path.exists(c):
            raise UsageError(f"--checkpoint: no such file or directory: {c}")
    if args.name is not None and len(args.name) != len(args.checkpoint):
        raise UsageError(f"--name: {len(args.name)} name(s) for {len(args.checkpoint)} checkpoint(s)")
    if args.threshold is not None and not 0 < args.threshold < 1:
        raise UsageError(f"--threshold must be in (0, 1), got {args.threshold}")
    if args.frame <= 0:
        raise UsageError(f"--frame must be > 0, got {args.frame}")
    models = []
    available = shard_channels("--data", args.data)
    for i, c in enumerate(args.checkpoint):
        m = load_checkpoint("--checkpoint", c, "spnet")
        if not set(m.config.channels) & set(available):
            raise UsageError(f"--checkpoint {c}: the model reads {', '.join(m.config.channels)}; "
                             f"the shards in {args.data} have none of them (they have "
                             f"{', '.join(available)}); evaluate a model trained on these channels")
        models.append(((args.name or [None] * len(args.checkpoint))[i] or run_name(c), m))
    if args.baseline:
        require_split("--data", args.data, "train", "--baseline fits its thresholds on training-"
                      "split samples: add data from other months or drop --baseline")
    if args.missing:
        for ch in args.missing:
            if not any(ch in m.config.channels for _, m in models):
                raise UsageError(f"--missing: no evaluated model uses channel {ch!r}")

    connect()
    split = None if args.split == "all" else args.split
    data = lab.load_samples(args.data, split)
    if not len(data["sample_id"]):
        raise UsageError(f"--data: no samples in {args.data} in split {args.split}; choose "
                         "another --split (all, train, val, test)")
    truth = data["masks"]
    truth_name = "truth"
    if args.labels:
        store = lab.LabelStore(args.labels)
        try:
            labels = store.read(args.version)
        except (FileNotFoundError, KeyError) as err:
            raise UsageError(f"--labels: {err.args[0]}") from None
        idx = labels.index()
        keep = [i for i, s in enumerate(data["sample_id"]) if s in idx]
        if not keep:
            raise UsageError(f"--labels: no evaluated sample ({args.split} split of {args.data}) "
                             f"is in the label set {args.labels}")
        for k in ("image", "present"):
            data[k] = data[k][keep]
        data["sample_id"] = [data["sample_id"][i] for i in keep]
        truth = labels.masks[[idx[s] for s in data["sample_id"]]]
        truth_name = f"labels {labels.provenance.get('version')}"
    channels = data["channels"]
    testing = f"{args.split} ({len(data['sample_id'])} images, {truth_name})"

    rows = []

    def add_rows(name: str, pred: np.ndarray, training: str, features=FEATURE_KINDS) -> None:
        summ = seg.summarize(seg.segmentation_scores(pred, truth, args.frame))
        for f in features:
            rows.append(seg.TableRow(f, name, training, testing, summ[f]))

    for name, m in models:
        training = "+".join(m.config.channels)
        pred = predict_masks(m, data["image"], data["present"], channels, args.threshold)
        add_rows(name, pred, training)
        if args.missing is not None:
            for ch in args.missing or m.config.channels:
                if ch in m.config.channels and len(m.config.channels) > 1:
                    pred = predict_masks(m, data["image"], data["present"], channels,
                                             args.threshold, drop=[ch])
                    add_rows(f"{name} without {ch}", pred, training)
    if args.baseline:
        train = lab.load_samples(args.data, "train", columns=("image", "masks"))
        if not len(train["image"]):
            raise UsageError("--baseline needs training-split samples to fit thresholds")
        base = seg.ThresholdBaseline(frame=args.frame).fit(train["image"], train["masks"],
                                                           channels)
        pred = base.predict(data["image"], channels, data["present"])
        feats = [f for f in FEATURE_KINDS if f in base.params]
        add_rows("threshold baseline", pred, "train split: " + ", ".join(
            f"{f}:{seg.PRIMARY[f]}" for f in feats), feats)
    rows.sort(key=lambda r: FEATURE_KINDS.index(r.feature))
    print(seg.format_table(rows))
    if args.json:
        payload = [{"feature": r.feature, "model": r.model, "training_set": r.training_set,
                    "testing_set": r.testing_set, **r.summary.__dict__} for r in rows]
        write_json(args.json, payload, indent=2)
        print(f"Rows written to {args.json}")
    if args.map and models:
        meta = lab.load_samples(args.data, split, columns=("sample_id", "meta"))
        name, m = models[0]
        pred = predict_masks(m, data["image"][:1], data["present"][:1], channels,
                                 args.threshold)
        situational_map(data["image"][0], channels, pred[0], args.map, meta=meta["meta"][0],
                        present=data["present"][0], truth=truth[0],
                        title=f"{name}: {data['sample_id'][0]}")
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
