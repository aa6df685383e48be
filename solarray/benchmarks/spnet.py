"""SPNet on the benchmark Sun under the seed protocol, against the tuned threshold baseline.

The multi-modal SPNet (HMI + AIA 193/211/304 Å; SA-AI 2025's MV1 is the multi-modal network)
trained on the truth masks of the training months for each seed; the threshold baseline (per
feature: smoothing and threshold of its primary channel fitted on the same training images,
:class:`solarray.metrics.segmentation.ThresholdBaseline`) in the same run; SPNet's per-feature
decision thresholds tuned for IoU on the validation Suns
(:func:`solarray.train.relabel.tune_decision_thresholds`, as the baseline's are tuned on the
training Suns). Scores on the test month, per feature: IoU, whole-disk pixel accuracy and class
accuracy (the fraction of true feature pixels found; see :mod:`solarray.metrics.segmentation`
for why SA-AI 2025's Table 2 Acc is most plausibly this one), and, with the background, the
2-class mean IoU and mean accuracy (``miou``, ``macc``: the feature's and the background's,
averaged; the seed's "mean IoU" may be this), mean over test images. Missing modalities: each
trained SPNet scored again with one input channel at a time marked missing at test time
(``present`` 0, as the model is trained to see a missing channel).

Optional arms, each trained per seed beside the multi-modal network (``arms``):

* ``sv`` — SA-AI 2025's single-modal per-feature networks: AR from HMI alone, CH from AIA 193 Å
  alone, FL from AIA 304 Å alone (the seed's FL primary is Hα, which the benchmark Sun does not
  render), each the same SPNet with one input channel and only its feature's loss
  (``class_weights`` one-hot), thresholds tuned on validation like the multi-modal network's;
* ``mae`` — the multi-modal network with its ViT encoder initialised from an MAE (``mae_vit``,
  random masking, the same ``tiny`` encoder sizes) pretrained on the same training images for
  ``mae_steps`` (:func:`solarray.models.pretrained.load_encoder` through the ``spnet``
  objective's ``pretrained_encoder``), against the same network from scratch.

Comparisons (:func:`comparisons`): paired by seed (:func:`~solarray.metrics.protocol.compare`)
and, over test images, paired bootstrap 95 % intervals of the seed-mean difference resampling
whole test Suns (the images of one Sun share its regions, so the Sun is the independent unit;
:func:`image_intervals`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from solarray.benchmarks.runs import ProtocolConfig, pretrain_run
from solarray.core.features import FEATURE_KINDS
from solarray.data import labels as lab
from solarray.data.synthetic.forecast_set import RUNS_FILE
from solarray.metrics import segmentation as seg
from solarray.metrics.bootstrap import paired_interval
from solarray.metrics.protocol import compare
from solarray.models import load_model
from solarray.train import relabel
from solarray.train.config import TrainConfig
from solarray.train.loop import fit

SCORES = ("iou", "acc", "class_acc", "miou", "macc")
#: Arms beyond the multi-modal network and the threshold baseline (module docstring).
ARMS = ("sv", "mae")
#: Per-image scores kept for the bootstrap intervals.
IMAGE_SCORES = ("iou", "miou")
#: Pairs compared (model arm, reference arm), when both ran.
PAIRS = (("spnet", "threshold"), ("sv", "threshold"), ("sv", "spnet"), ("mae", "spnet"),
         ("mae", "threshold"))


@dataclass
class SPNetTrainingConfig(ProtocolConfig):
    """How the SPNet benchmarks train each network (this one and the relabelling cycle's)."""

    channels: tuple[str, ...] = ("hmi_m", "aia193", "aia211", "aia304")
    steps: int = 600
    batch_size: int = 8
    lr: float = 3e-3
    dice: float = 0.5
    model_config: dict | None = None  # SPNet config overrides (default: tiny preset at the data size)


@dataclass
class SPNetBenchmarkConfig(SPNetTrainingConfig):
    runs_dir: str = ".cache/benchmark_runs/spnet"
    arms: tuple[str, ...] = ()  # any of ARMS
    missing: bool = True  # the missing-modality table (each channel removed at test time)
    mae_steps: int = 300
    mae_batch_size: int = 16
    mae_lr: float = 1e-3
    mae_ratio: float = 0.75
    n_boot: int = 1000

    def __post_init__(self) -> None:
        self.seeds, self.channels, self.arms = (tuple(self.seeds), tuple(self.channels),
                                                tuple(self.arms))
        unknown = [a for a in self.arms if a not in ARMS]
        if unknown:
            raise ValueError(f"unknown SPNet benchmark arm(s) {unknown}; known: {', '.join(ARMS)}")
        if "sv" in self.arms:
            need = [seg.PRIMARY[f] for f in FEATURE_KINDS if seg.PRIMARY[f] not in self.channels]
            if need:
                raise ValueError(f"the sv arm needs the primary channel(s) {need} in channels")


def summary(per_image: Mapping[str, np.ndarray]) -> dict[str, dict[str, float]]:
    """Per feature, the test-image means of :data:`SCORES` from per-image scores."""
    s = seg.summarize(per_image)
    return {f: {"iou": s[f].iou_mean, "acc": s[f].acc_mean, "class_acc": s[f].class_acc_mean,
                "miou": s[f].miou_mean, "macc": s[f].macc_mean} for f in FEATURE_KINDS}


def sun_of(sample_ids: Sequence[str], runs: Sequence[Mapping]) -> list[str]:
    """The synthetic Sun (``runs.json`` entry ``name``; ``start`` ISO, ``days``) each sample's
    time (ISO ``sample_id``) falls in, ``[start, start + days]`` (a Sun's last time step lies
    ``days`` after its first); ``"?"`` when none."""
    spans = [(datetime.fromisoformat(r["start"]), timedelta(days=float(r["days"])), r["name"])
             for r in runs]
    out = []
    for sid in sample_ids:
        t = datetime.fromisoformat(str(sid).replace("Z", "")).replace(tzinfo=None)
        out.append(next((n for s, d, n in spans if s <= t <= s + d), "?"))
    return out


def _nanmean(_y: np.ndarray, p: np.ndarray) -> float | None:
    p = np.asarray(p, float)
    return float(np.nanmean(p)) if np.isfinite(p).any() else None


def image_intervals(a: Mapping[str, np.ndarray], b: Mapping[str, np.ndarray],
                    groups: Sequence[str], n_boot: int = 1000, seed: int = 0
                    ) -> dict[str, dict[str, dict]]:
    """Per feature and score of :data:`IMAGE_SCORES`: the difference of the seed-mean of
    per-image means, ``a − b``, with its paired bootstrap 95 % interval resampling ``groups``
    (:func:`solarray.metrics.bootstrap.paired_interval`). ``a``/``b``: ``{score: [seeds, N, 3]}``
    or ``[N, 3]`` (a deterministic baseline); NaN images (score undefined) are left out."""
    out: dict[str, dict[str, dict]] = {}
    for j, f in enumerate(FEATURE_KINDS):
        out[f] = {}
        for k in IMAGE_SCORES:
            pa, pb = np.asarray(a[k])[..., j], np.asarray(b[k])[..., j]
            y = np.zeros(pa.shape[-1])
            out[f][k] = paired_interval(_nanmean, y, pa, pb, groups, n_boot=n_boot, seed=seed)
    return out


def train_spnet(cfg, ds, data_channels: Sequence[str], name: str, seed: int,
           size: int, model_channels: Sequence[str], class_weights: Sequence[float] | None = None,
           encoder: str = "") -> tuple[str, float]:
    """One SPNet trained in-process on ``ds`` (a training dataset of a label version) with
    ``cfg``'s recipe (``steps``, ``batch_size``, ``lr``, ``dice``, ``model_config``, ``runs_dir``)
    on ``model_channels``; ``class_weights`` per feature (None: all), ``encoder`` a pretrained
    checkpoint. Returns its checkpoint and the wall seconds."""
    mc = {"preset": "tiny", "image_size": size, **(cfg.model_config or {}),
          "channels": list(model_channels)}
    oc: dict = {"dice_weight": cfg.dice}
    if class_weights is not None:
        oc["class_weights"] = list(class_weights)
    if encoder:
        oc["pretrained_encoder"] = encoder
    tcfg = TrainConfig(model="spnet", model_config=mc, objective="spnet", objective_config=oc,
                       channels=tuple(data_channels), steps=cfg.steps, batch_size=cfg.batch_size,
                       lr=cfg.lr, warmup_steps=min(20, cfg.steps - 1), weight_decay=0.01,
                       seed=seed, checkpoint_every=cfg.steps, report_every=max(1, cfg.steps // 4),
                       num_workers=0, run_name=f"{name}_s{seed}",
                       storage_path=str(Path(cfg.runs_dir).resolve() / "runs"), shuffle_buffer=64)
    t = time.perf_counter()
    res = fit(tcfg, ds, log=lambda s: None)
    return str(res.checkpoint), time.perf_counter() - t


def _mae(cfg: SPNetBenchmarkConfig, seed: int, size: int) -> tuple[str, float, float]:
    """An MAE (``mae_vit`` tiny, random masking) on the training Suns: checkpoint, final loss,
    seconds."""
    res, seconds = pretrain_run(
        cfg.root, str(Path(cfg.runs_dir) / "runs"), f"mae_s{seed}", model="mae_vit",
        objective="mae", channels=cfg.channels,
        model_config={"preset": "tiny", "image_size": size,
                      "masking": {"strategy": "random", "ratio": cfg.mae_ratio}},
        steps=cfg.mae_steps, batch_size=cfg.mae_batch_size, lr=cfg.mae_lr, seed=seed, warmup=50,
        reports=4)
    return str(res.checkpoint), float(res.metrics.get("loss", float("nan"))), seconds


def run(cfg: SPNetBenchmarkConfig, log: Callable[[str], None] = print) -> dict:
    """``{"per_seed": {arm: [scores per seed]}, "intervals", "info", ...}``: each scores entry is
    ``{feature: {score: value}}`` (:data:`SCORES`); arms ``spnet`` (the multi-modal network),
    ``threshold`` and those of ``cfg.arms``."""
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

    def scores(pred) -> dict[str, np.ndarray]:
        return seg.segmentation_scores(pred, test["masks"])

    base_img = scores(base.predict(test["image"], channels, test["present"]))
    threshold = summary(base_img)
    log(f"[spnet-bench] threshold baseline ({time.perf_counter() - t:.0f} s): " + ", ".join(
        f"{f} IoU {v['iou']:.1f}" for f, v in threshold.items()))
    store = lab.LabelStore(work / "labels_truth")
    version = store.latest() or lab.init_from_data(store, shards, "train")
    val_store = lab.LabelStore(work / "labels_val")  # truth of the validation Suns: thresholds
    version_val = val_store.latest() or lab.init_from_data(val_store, shards, "val")
    ds = lab.training_dataset(store, version, shards, "train").materialize()
    size = int(test["image"].shape[-1])
    per_seed: dict[str, list] = {"spnet": [], "threshold": []}
    images: dict[str, dict[str, list]] = {}
    seconds: dict[str, list] = {}

    def evaluate(arm: str, ckpt: str, secs: float, only: str | None = None) -> dict:
        tuned = relabel.tune_decision_thresholds(ckpt, val_store, version_val, shards)
        model = load_model(ckpt)
        img = scores(relabel.predict_masks(model, test["image"], test["present"], channels))
        seconds.setdefault(arm if only is None else f"{arm}_{only}", []).append(round(secs, 1))
        log(f"[spnet-bench] {arm}{'' if only is None else ' ' + only}: {cfg.steps} steps in "
            f"{secs:.0f} s, thresholds {tuned}, " + ", ".join(
                f"{f} IoU {v['iou']:.1f}" for f, v in summary(img).items()
                if only in (None, f)))
        return {"model": model, "img": img, "thresholds": tuned}

    def keep(arm: str, img: Mapping[str, np.ndarray]) -> None:
        per_seed.setdefault(arm, []).append(summary(img))
        for k in IMAGE_SCORES:
            images.setdefault(arm, {}).setdefault(k, []).append(img[k])

    for seed in cfg.seeds:
        ckpt, secs = train_spnet(cfg, ds, channels, "spnet", seed, size, cfg.channels)
        mv = evaluate("spnet", ckpt, secs)
        keep("spnet", mv["img"])
        per_seed["threshold"].append(threshold)
        per_seed.setdefault("thresholds", []).append(mv["thresholds"])
        if cfg.missing:
            per_seed.setdefault("missing", []).append({
                c: summary(scores(relabel.predict_masks(mv["model"], test["image"],
                                                         test["present"], channels, drop=[c])))
                for c in cfg.channels})
        if "sv" in cfg.arms:  # one single-modal network per feature, on its primary channel
            img = {k: np.full_like(mv["img"][k], np.nan) for k in mv["img"]}
            for j, f in enumerate(FEATURE_KINDS):
                w = [1.0 if g == f else 0.0 for g in FEATURE_KINDS]
                ckpt, secs = train_spnet(cfg, ds, channels, f"sv_{f}", seed, size,
                                    (seg.PRIMARY[f],), w)
                one = evaluate("sv", ckpt, secs, only=f)
                for k in img:
                    img[k][:, j] = one["img"][k][:, j]
            keep("sv", img)
        if "mae" in cfg.arms:
            enc, loss, msecs = _mae(cfg, seed, size)
            per_seed.setdefault("mae_loss", []).append(loss)
            seconds.setdefault("mae_pretraining", []).append(round(msecs, 1))
            log(f"[spnet-bench] MAE seed {seed}: {cfg.mae_steps} steps in {msecs:.0f} s, "
                f"final loss {loss:.4f}")
            ckpt, secs = train_spnet(cfg, ds, channels, "spnet_mae", seed, size, cfg.channels,
                                encoder=enc)
            keep("mae", evaluate("mae", ckpt, secs)["img"])
    groups = sun_of(test["sample_id"], json.loads((Path(cfg.root) / RUNS_FILE).read_text())
                    ["runs"])
    arrays = {arm: {k: np.stack(v) for k, v in d.items()} for arm, d in images.items()}
    arrays["threshold"] = {k: base_img[k] for k in IMAGE_SCORES}
    intervals = {f"{a} - {b}": image_intervals(arrays[a], arrays[b], groups, cfg.n_boot)
                 for a, b in PAIRS if a in arrays and b in arrays}
    info = {"train_images": len(train["sample_id"]), "test_images": len(test["sample_id"]),
            "test_suns": len(set(groups)), "channels": list(cfg.channels), "image_size": size,
            "arms": ["spnet", "threshold", *cfg.arms], "seconds": seconds}
    return {"per_seed": per_seed, "intervals": intervals, "info": info}


def comparisons(per_seed: dict[str, list[dict]]) -> dict[str, dict[str, dict[str, dict]]]:
    """Per pair of :data:`PAIRS` that ran (``"sv - threshold"``, ...) and feature: the model
    arm's IoU and mean IoU with background against the reference arm's, paired by seed."""
    return {f"{a} - {b}": {f: {k: compare([s[f][k] for s in per_seed[a]],
                                          [s[f][k] for s in per_seed[b]])
                               for k in ("iou", "miou")} for f in FEATURE_KINDS}
            for a, b in PAIRS if per_seed.get(a) and per_seed.get(b)}


def missing_modality(per_seed: dict[str, list[dict]]) -> dict[str, dict[str, dict]]:
    """Per dropped channel and feature: IoU with that channel missing minus IoU with every
    channel (:func:`~solarray.metrics.protocol.compare`, paired by seed; negative = the feature
    needs that channel)."""
    if not per_seed.get("missing"):
        return {}
    return {c: {f: compare([m[c][f]["iou"] for m in per_seed["missing"]],
                           [s[f]["iou"] for s in per_seed["spnet"]]) for f in FEATURE_KINDS}
            for c in per_seed["missing"][0]}


__all__ = ["ARMS", "IMAGE_SCORES", "PAIRS", "SCORES", "SPNetBenchmarkConfig",
           "SPNetTrainingConfig", "comparisons", "image_intervals", "missing_modality", "run", "summary", "sun_of", "train_spnet"]
