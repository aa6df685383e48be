"""SPNet's segmentation table for checkpoints on a shard directory (``solarray evaluate
segmentation``): IoU (0–100) and pixel accuracy per feature on on-disk pixels (SA-AI 2025
Table 2), for each checkpoint, each checkpoint with one input channel missing, and the threshold
baseline fitted on the training split; against the shards' truth masks or a label version."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

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


@dataclass(frozen=True)
class SegmentationEval:
    """What to evaluate. ``missing``: None = no missing-channel rows; ``()`` = every model
    channel in turn; else these channels. ``threshold`` None: the checkpoints' tuned ones."""

    data: str
    checkpoints: Sequence[str] = ()
    names: Sequence[str] | None = None
    split: str = "test"  # all | train | val | test
    labels: str | None = None
    version: str | None = None
    missing: Sequence[str] | None = None
    baseline: bool = False
    threshold: float | None = None
    frame: float = FRAME_RSUN
    with_map: bool = False  # also return what a situational map of the first sample needs


@dataclass
class SegmentationResult:
    """The table rows (feature order), and what a situational map of the first evaluated sample
    needs (``first``: image, channels, prediction of the first model, meta, present, truth and a
    title; None without ``with_map`` or without a checkpoint)."""

    rows: list[seg.TableRow]
    first: dict[str, Any] | None = field(default=None)

    def json_rows(self) -> list[dict[str, Any]]:
        return [{"feature": r.feature, "model": r.model, "training_set": r.training_set,
                 "testing_set": r.testing_set, **r.summary.__dict__} for r in self.rows]


def _models(ev: SegmentationEval) -> list[tuple[str, Any]]:
    for c in ev.checkpoints:
        if not os.path.exists(c):
            raise UsageError(f"--checkpoint: no such file or directory: {c}")
    if ev.names is not None and len(ev.names) != len(ev.checkpoints):
        raise UsageError(f"--name: {len(ev.names)} name(s) for {len(ev.checkpoints)} checkpoint(s)")
    available = shard_channels("--data", ev.data)
    models = []
    for i, c in enumerate(ev.checkpoints):
        m = load_checkpoint("--checkpoint", c, "spnet")
        if not set(m.config.channels) & set(available):
            raise UsageError(f"--checkpoint {c}: the model reads {', '.join(m.config.channels)}; "
                             f"the shards in {ev.data} have none of them (they have "
                             f"{', '.join(available)}); evaluate a model trained on these channels")
        models.append(((ev.names or [None] * len(ev.checkpoints))[i] or run_name(c), m))
    return models


def _check(ev: SegmentationEval, models: list[tuple[str, Any]]) -> None:
    if ev.threshold is not None and not 0 < ev.threshold < 1:
        raise UsageError(f"--threshold must be in (0, 1), got {ev.threshold}")
    if ev.frame <= 0:
        raise UsageError(f"--frame must be > 0, got {ev.frame}")
    if ev.baseline:
        require_split("--data", ev.data, "train", "--baseline fits its thresholds on training-"
                      "split samples: add data from other months or drop --baseline")
    for ch in ev.missing or ():
        if not any(ch in m.config.channels for _, m in models):
            raise UsageError(f"--missing: no evaluated model uses channel {ch!r}")


def _truth(ev: SegmentationEval, data: dict) -> tuple[np.ndarray, str]:
    """The masks to score against (the data is narrowed to the labelled samples) and their name."""
    if not ev.labels:
        return data["masks"], "truth"
    store = lab.LabelStore(ev.labels)
    try:
        labels = store.read(ev.version)
    except (FileNotFoundError, KeyError) as err:
        raise UsageError(f"--labels: {err.args[0]}") from None
    idx = labels.index()
    keep = [i for i, s in enumerate(data["sample_id"]) if s in idx]
    if not keep:
        raise UsageError(f"--labels: no evaluated sample ({ev.split} split of {ev.data}) "
                         f"is in the label set {ev.labels}")
    for k in ("image", "present"):
        data[k] = data[k][keep]
    data["sample_id"] = [data["sample_id"][i] for i in keep]
    return labels.masks[[idx[s] for s in data["sample_id"]]], \
        f"labels {labels.provenance.get('version')}"


def evaluate_segmentation(ev: SegmentationEval) -> SegmentationResult:
    """Check the inputs (``UsageError`` naming the flag), join Ray, score every arm."""
    require_shards("--data", ev.data)
    if not ev.checkpoints and not ev.baseline:
        raise UsageError("give --checkpoint and/or --baseline (nothing to evaluate)")
    models = _models(ev)
    _check(ev, models)

    connect()
    split = None if ev.split == "all" else ev.split
    data = lab.load_samples(ev.data, split)
    if not len(data["sample_id"]):
        raise UsageError(f"--data: no samples in {ev.data} in split {ev.split}; choose "
                         "another --split (all, train, val, test)")
    truth, truth_name = _truth(ev, data)
    channels = data["channels"]
    testing = f"{ev.split} ({len(data['sample_id'])} images, {truth_name})"
    rows: list[seg.TableRow] = []

    def add_rows(name: str, pred: np.ndarray, training: str, features=FEATURE_KINDS) -> None:
        summ = seg.summarize(seg.segmentation_scores(pred, truth, ev.frame))
        rows.extend(seg.TableRow(f, name, training, testing, summ[f]) for f in features)

    for name, m in models:
        training = "+".join(m.config.channels)
        add_rows(name, predict_masks(m, data["image"], data["present"], channels, ev.threshold),
                 training)
        if ev.missing is not None:
            for ch in ev.missing or m.config.channels:
                if ch in m.config.channels and len(m.config.channels) > 1:
                    pred = predict_masks(m, data["image"], data["present"], channels,
                                         ev.threshold, drop=[ch])
                    add_rows(f"{name} without {ch}", pred, training)
    if ev.baseline:
        train = lab.load_samples(ev.data, "train", columns=("image", "masks"))
        if not len(train["image"]):
            raise UsageError("--baseline needs training-split samples to fit thresholds")
        base = seg.ThresholdBaseline(frame=ev.frame).fit(train["image"], train["masks"], channels)
        pred = base.predict(data["image"], channels, data["present"])
        feats = [f for f in FEATURE_KINDS if f in base.params]
        add_rows("threshold baseline", pred, "train split: " + ", ".join(
            f"{f}:{seg.PRIMARY[f]}" for f in feats), feats)
    rows.sort(key=lambda r: FEATURE_KINDS.index(r.feature))

    first = None
    if ev.with_map and models:
        meta = lab.load_samples(ev.data, split, columns=("sample_id", "meta"))
        name, m = models[0]
        pred = predict_masks(m, data["image"][:1], data["present"][:1], channels, ev.threshold)
        first = {"image": data["image"][0], "channels": channels, "pred": pred[0],
                 "meta": meta["meta"][0], "present": data["present"][0], "truth": truth[0],
                 "title": f"{name}: {data['sample_id'][0]}"}
    return SegmentationResult(rows, first)
