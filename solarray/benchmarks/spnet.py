"""SPNet on the benchmark Sun under the seed protocol, against the tuned threshold baseline.

The multi-modal SPNet (HMI + AIA 193/211/304 Å) trained on the truth masks of the training months
for each seed; the threshold baseline (per feature: smoothing and threshold of its primary channel
fitted on the same training images, :class:`solarray.metrics.segmentation.ThresholdBaseline`)
in the same run; SPNet's per-feature decision thresholds tuned for IoU on the validation Suns
(:func:`solarray.train.relabel.tune_decision_thresholds`, as the baseline's are tuned on the
training Suns). Scores on the test month, per feature: IoU, whole-disk pixel accuracy and class
accuracy (the fraction of true feature pixels found; see :mod:`solarray.metrics.segmentation`
for why SA-AI 2025's Table 2 Acc is most plausibly this one), and, with the background, the
2-class mean IoU and mean accuracy (``miou``, ``macc``: the feature's and the background's,
averaged; the seed's "mean IoU" may be this), mean over test images. Missing modalities: each
trained SPNet scored again with one input channel at a time marked missing at test time
(``present`` 0, as the model is trained to see a missing channel).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from solarray.benchmarks.runs import ProtocolConfig
from solarray.core.features import FEATURE_KINDS
from solarray.data import labels as lab
from solarray.metrics import segmentation as seg
from solarray.metrics.protocol import compare
from solarray.models import load_model
from solarray.train import relabel
from solarray.train.config import TrainConfig
from solarray.train.loop import fit

SCORES = ("iou", "acc", "class_acc", "miou", "macc")


@dataclass
class SPNetBenchmarkConfig(ProtocolConfig):
    runs_dir: str = ".cache/benchmark_runs/spnet"
    channels: tuple[str, ...] = ("hmi_m", "aia193", "aia211", "aia304")
    steps: int = 600
    batch_size: int = 8
    lr: float = 3e-3
    dice: float = 0.5
    model_config: dict | None = None  # SPNet config overrides (default: tiny preset at the data size)

    def __post_init__(self) -> None:
        self.seeds, self.channels = tuple(self.seeds), tuple(self.channels)


def _summary(pred, truth) -> dict[str, dict[str, float]]:
    s = seg.summarize(seg.segmentation_scores(pred, truth))
    return {f: {"iou": s[f].iou_mean, "acc": s[f].acc_mean, "class_acc": s[f].class_acc_mean,
                "miou": s[f].miou_mean, "macc": s[f].macc_mean} for f in FEATURE_KINDS}


def run(cfg: SPNetBenchmarkConfig, log: Callable[[str], None] = print) -> dict:
    """``{"per_seed": {"spnet": [scores per seed], "threshold": [...]}, "info": ...}`` where each
    scores entry is ``{feature: {"iou", "acc", "class_acc"}}``."""
    shards = Path(cfg.root) / "shards"
    test = lab.load_samples(shards, "test")
    train = lab.load_samples(shards, "train")
    channels = list(test["channels"])
    missing = [c for c in cfg.channels if c not in channels]
    if missing:
        raise ValueError(f"{shards}: channels {missing} are not in the shards ({channels})")
    work = Path(cfg.runs_dir)
    t = time.perf_counter()
    base = seg.ThresholdBaseline().fit(train["image"], train["masks"], channels)
    threshold = _summary(base.predict(test["image"], channels, test["present"]), test["masks"])
    log(f"[spnet-bench] threshold baseline ({time.perf_counter() - t:.0f} s): " + ", ".join(
        f"{f} IoU {v['iou']:.1f}" for f, v in threshold.items()))
    store = lab.LabelStore(work / "labels_truth")
    version = store.latest() or lab.init_from_data(store, shards, "train")
    val_store = lab.LabelStore(work / "labels_val")  # truth of the validation Suns: thresholds
    version_val = val_store.latest() or lab.init_from_data(val_store, shards, "val")
    ds = lab.training_dataset(store, version, shards, "train").materialize()
    size = int(test["image"].shape[-1])
    per_seed: dict[str, list] = {"spnet": [], "threshold": []}
    for seed in cfg.seeds:
        mc = {"preset": "tiny", "image_size": size, **(cfg.model_config or {}),
              "channels": list(cfg.channels)}
        tcfg = TrainConfig(model="spnet", model_config=mc, objective="spnet",
                           objective_config={"dice_weight": cfg.dice}, channels=tuple(channels),
                           steps=cfg.steps, batch_size=cfg.batch_size, lr=cfg.lr,
                           warmup_steps=min(20, cfg.steps - 1), weight_decay=0.01, seed=seed,
                           checkpoint_every=cfg.steps, report_every=max(1, cfg.steps // 4),
                           num_workers=0, run_name=f"spnet_s{seed}",
                           storage_path=str(work.resolve() / "runs"), shuffle_buffer=64)
        t = time.perf_counter()
        res = fit(tcfg, ds, log=lambda s: None)
        tuned = relabel.tune_decision_thresholds(res.checkpoint, val_store, version_val, shards)
        model = load_model(res.checkpoint)
        scores = _summary(relabel.predict_masks(model, test["image"], test["present"], channels),
                          test["masks"])
        per_seed["spnet"].append(scores)
        per_seed.setdefault("missing", []).append({
            c: _summary(relabel.predict_masks(model, test["image"], test["present"], channels,
                                              drop=[c]), test["masks"]) for c in cfg.channels})
        per_seed["threshold"].append(threshold)
        per_seed.setdefault("thresholds", []).append(tuned)
        log(f"[spnet-bench] seed {seed}: {cfg.steps} steps in {time.perf_counter() - t:.0f} s, "
            f"thresholds {tuned}, "
            + ", ".join(f"{f} IoU {v['iou']:.1f}" for f, v in scores.items()))
    info = {"train_images": len(train["sample_id"]), "test_images": len(test["sample_id"]),
            "channels": list(cfg.channels), "image_size": size}
    return {"per_seed": per_seed, "info": info}


def comparisons(per_seed: dict[str, list[dict]]) -> dict[str, dict[str, dict]]:
    """Per feature: SPNet's IoU and mean IoU with background against the threshold baseline's,
    paired by seed."""
    return {f: {k: compare([s[f][k] for s in per_seed["spnet"]],
                           [s[f][k] for s in per_seed["threshold"]]) for k in ("iou", "miou")}
            for f in FEATURE_KINDS}


def missing_modality(per_seed: dict[str, list[dict]]) -> dict[str, dict[str, dict]]:
    """Per dropped channel and feature: IoU with that channel missing minus IoU with every
    channel (:func:`~solarray.metrics.protocol.compare`, paired by seed; negative = the feature
    needs that channel)."""
    if not per_seed.get("missing"):
        return {}
    return {c: {f: compare([m[c][f]["iou"] for m in per_seed["missing"]],
                           [s[f]["iou"] for s in per_seed["spnet"]]) for f in FEATURE_KINDS}
            for c in per_seed["missing"][0]}


__all__ = ["SCORES", "SPNetBenchmarkConfig", "comparisons", "missing_modality", "run"]
