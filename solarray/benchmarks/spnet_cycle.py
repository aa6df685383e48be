"""SA-AI 2025's SV1 → SV2 → SV3 relabelling cycle on the benchmark Sun, per seed.

The seed trains SV1 on an incomplete human label set (V1), lets SV1 relabel the same years and
adds the features it found that the experts confirm (V2), trains SV2 on V2, lets SV2 label an
archive of older data that experts review — correct annotations kept, wrong ones removed — (V3 =
V2 + the reviewed archive), and trains SV3 on V3. Here, on the benchmark Sun's training Suns:

* the training Suns are split in two halves (alternate Suns in time order): the *labelled*
  Suns (the seed's 2010–2022) and the *archive* Suns (its 1996–2009);
* **V1** = the truth masks of the labelled Suns with each feature smaller than ``min_area`` px
  dropped with probability ``drop_fraction`` (a human label set that misses small features;
  fixed label seed, the same V1 for every training seed);
* **V2** = V1 plus each 8-connected component SV1 predicts on the labelled Suns that V1 does not
  already label and that overlaps a true feature (the simulated expert: :func:`expert_review`);
* **V3** = V2 plus, on the archive Suns, each component SV2 predicts that overlaps a true
  feature (kept as the model drew it; components without a true feature removed);
* SV1, SV2, SV3: the same network and recipe (:func:`solarray.benchmarks.spnet.train_spnet`; the
  multi-modal SPNet on all channels — the seed's SV models are single-modal, one per feature;
  one network per version keeps the cycle within the time budget), decision thresholds tuned on
  the validation Suns' truth, scored on the test Suns against the truth like
  :mod:`solarray.benchmarks.spnet`; the threshold baseline in the same run.

The version a seed trains on depends on that seed's model (V2 and V3 are per seed); their feature
and sample counts are recorded per seed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from solarray.benchmarks.spnet import (
    IMAGE_SCORES,
    SPNetTrainingConfig,
    image_intervals,
    summary,
    sun_of,
    train_spnet,
)
from solarray.core.features import FEATURE_KINDS
from solarray.data import labels as lab
from solarray.data.synthetic.forecast_set import RUNS_FILE
from solarray.metrics import segmentation as seg
from solarray.metrics.protocol import compare
from solarray.models import load_model
from solarray.train import relabel

VERSIONS = ("sv1", "sv2", "sv3")
#: Pairs compared (later version, earlier version or baseline).
PAIRS = (("sv2", "sv1"), ("sv3", "sv2"), ("sv3", "sv1"), ("sv3", "threshold"))


@dataclass
class CycleBenchmarkConfig(SPNetTrainingConfig):
    runs_dir: str = ".cache/benchmark_runs/spnet_cycle"
    steps: int = 300
    min_area: int = 6  # px: V1 misses features smaller than this ...
    drop_fraction: float = 0.7  # ... with this probability
    label_seed: int = 0
    n_boot: int = 1000

    def __post_init__(self) -> None:
        self.seeds, self.channels = tuple(self.seeds), tuple(self.channels)
        if not 0.0 <= self.drop_fraction <= 1.0:
            raise ValueError(f"drop_fraction must be in [0, 1], got {self.drop_fraction}")


def expert_review(pred: np.ndarray, truth: np.ndarray, base: np.ndarray | None = None
                  ) -> tuple[np.ndarray, dict[str, int], dict[str, int]]:
    """The simulated expert of the cycle: every 8-connected component of ``pred`` ``[N, 3, H, W]``
    that ``base`` (the labels so far, same shape; None = nothing labelled) does not already touch
    is accepted when it overlaps ``truth`` (1 = feature; 255 unknown counts as no feature) and
    rejected otherwise. Returns the accepted components as 0/1 masks and the accepted and
    rejected counts per feature."""
    pred, truth = np.asarray(pred), np.asarray(truth)
    out = np.zeros(pred.shape, np.uint8)
    accepted, rejected = dict.fromkeys(FEATURE_KINDS, 0), dict.fromkeys(FEATURE_KINDS, 0)
    for i in range(pred.shape[0]):
        for k, f in enumerate(FEATURE_KINDS):
            comp, n = lab.components(pred[i, k])
            if not n:
                continue
            hit_truth = np.bincount(comp[truth[i, k] == 1], minlength=n + 1)
            hit_base = (np.bincount(comp[np.asarray(base[i, k]) == 1], minlength=n + 1)
                        if base is not None else np.zeros(n + 1, int))
            for c in range(1, n + 1):
                if hit_base[c]:
                    continue  # already labelled
                if hit_truth[c]:
                    out[i, k][comp == c] = 1
                    accepted[f] += 1
                else:
                    rejected[f] += 1
    return out, accepted, rejected


def halves(groups: list[str]) -> tuple[list[str], list[str]]:
    """The labelled and the archive Suns: alternate Suns of ``groups`` (sorted by name, which
    is time order), starting with the labelled half."""
    suns = sorted(set(groups))
    return suns[0::2], suns[1::2]


def run(cfg: CycleBenchmarkConfig, log: Callable[[str], None] = print) -> dict:
    """``{"per_seed": {version: [scores per seed], "threshold": [...]}, "labels": [per seed],
    "intervals", "info"}``."""
    shards = Path(cfg.root) / "shards"
    runs = json.loads((Path(cfg.root) / RUNS_FILE).read_text())["runs"]
    test = lab.load_samples(shards, "test")
    train = lab.load_samples(shards, "train")
    channels = list(test["channels"])
    train_sun = np.array(sun_of(train["sample_id"], runs))
    labelled, archive = halves(list(train_sun))
    in_lab, in_arch = np.isin(train_sun, labelled), np.isin(train_sun, archive)
    ids = np.array(train["sample_id"], dtype=object)
    truth = np.asarray(train["masks"], np.uint8)
    work = Path(cfg.runs_dir)
    base = seg.ThresholdBaseline().fit(train["image"], train["masks"], channels)
    base_img = seg.segmentation_scores(base.predict(test["image"], channels, test["present"]),
                                       test["masks"])
    val_store = lab.LabelStore(work / "labels_val")
    version_val = val_store.latest() or lab.init_from_data(val_store, shards, "val")
    v1_masks, dropped = lab.drop_small_features(np.where(truth[in_lab] == 1, 1, 0),
                                                cfg.min_area, cfg.drop_fraction, cfg.label_seed)
    size = int(test["image"].shape[-1])
    per_seed: dict[str, list] = {v: [] for v in (*VERSIONS, "threshold")}
    images: dict[str, dict[str, list]] = {v: {k: [] for k in IMAGE_SCORES} for v in VERSIONS}
    label_log: list[dict] = []
    seconds: list[dict] = []

    def counts(masks: np.ndarray) -> dict[str, int]:
        return dict(zip(FEATURE_KINDS, map(int, lab.count_features(masks).sum(axis=0)),
                        strict=True))

    for seed in cfg.seeds:
        store = lab.LabelStore(work / f"labels_s{seed}")
        v1 = store.write(list(ids[in_lab]), v1_masks, {
            "kind": "init", "suns": labelled, "min_area": cfg.min_area,
            "drop_fraction": cfg.drop_fraction, "seed": cfg.label_seed,
            "dropped_features": dropped})
        entry: dict = {"v1": {"samples": int(in_lab.sum()), "features": counts(v1_masks),
                              "dropped": dropped}}
        version, masks, secs_seed = v1, v1_masks, {}
        for name in VERSIONS:
            ds = lab.training_dataset(store, version, shards, "train").materialize()
            ckpt, secs = train_spnet(cfg, ds, channels, name, seed, size, cfg.channels)
            tuned = relabel.tune_decision_thresholds(ckpt, val_store, version_val, shards)
            model = load_model(ckpt)
            img = seg.segmentation_scores(relabel.predict_masks(
                model, test["image"], test["present"], channels), test["masks"])
            per_seed[name].append(summary(img))
            for k in IMAGE_SCORES:
                images[name][k].append(img[k])
            secs_seed[name] = round(secs, 1)
            log(f"[spnet-cycle] seed {seed} {name} on {version} ({len(store.read(version).sample_ids)}"
                f" samples): {cfg.steps} steps in {secs:.0f} s, thresholds {tuned}, " + ", ".join(
                    f"{f} IoU {v['iou']:.1f}" for f, v in per_seed[name][-1].items()))
            if name == "sv3":
                break
            sel = in_lab if name == "sv1" else in_arch
            pred = relabel.predict_masks(model, train["image"][sel], train["present"][sel],
                                         channels)
            if name == "sv1":  # SV1 relabels the labelled Suns; the expert adds what V1 lacks
                add, acc, rej = expert_review(pred, truth[sel], masks)
                masks = (masks | add).astype(np.uint8)
                new_ids = list(ids[in_lab])
            else:  # SV2 labels the archive; the expert keeps its correct features
                add, acc, rej = expert_review(pred, truth[sel])
                masks = np.concatenate([masks, add])
                new_ids = list(ids[in_lab]) + list(ids[in_arch])
            nxt = "v2" if name == "sv1" else "v3"
            version = store.write(new_ids, masks, {
                "kind": "review", "reviewer": "simulated expert (truth overlap)",
                "model": name, "accepted": acc, "rejected": rej}, parent=version)
            entry[nxt] = {"samples": len(new_ids), "features": counts(masks), "accepted": acc,
                          "rejected": rej}
            log(f"[spnet-cycle] seed {seed} {nxt}: expert accepted {acc}, rejected {rej}; "
                f"features {entry[nxt]['features']}")
        per_seed["threshold"].append(summary(base_img))
        label_log.append(entry)
        seconds.append(secs_seed)
    groups = sun_of(test["sample_id"], runs)
    arrays = {v: {k: np.stack(x) for k, x in d.items()} for v, d in images.items()}
    arrays["threshold"] = {k: base_img[k] for k in IMAGE_SCORES}
    intervals = {f"{a} - {b}": image_intervals(arrays[a], arrays[b], groups, cfg.n_boot)
                 for a, b in PAIRS}
    info = {"train_images": len(ids), "labelled_suns": labelled, "archive_suns": archive,
            "labelled_images": int(in_lab.sum()), "archive_images": int(in_arch.sum()),
            "test_images": len(test["sample_id"]), "test_suns": len(set(groups)),
            "channels": list(cfg.channels), "image_size": size, "seconds": seconds}
    return {"per_seed": per_seed, "labels": label_log, "intervals": intervals, "info": info}


def comparisons(per_seed: dict[str, list[dict]]) -> dict[str, dict[str, dict[str, dict]]]:
    """Per pair of :data:`PAIRS` and feature: IoU and mean IoU with background, paired by seed."""
    return {f"{a} - {b}": {f: {k: compare([s[f][k] for s in per_seed[a]],
                                          [s[f][k] for s in per_seed[b]])
                               for k in ("iou", "miou")} for f in FEATURE_KINDS}
            for a, b in PAIRS}


__all__ = ["PAIRS", "VERSIONS", "CycleBenchmarkConfig", "comparisons", "expert_review", "halves",
           "run"]
