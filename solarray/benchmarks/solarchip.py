"""SolarCHIP downstream on the benchmark Sun: full-disk ≥M-in-24-h flare classification at a
fraction of the training labels, as SolarCHIP 2025 evaluates its encoders.

For each seed, pretrained on the training months (cached under ``runs_dir``; a finished run is
reused): ``solarchip_vit`` and ``solarchip_cnn`` (reconstruction + global, local and intra-sample
InfoNCE, :mod:`solarray.losses.contrastive`), an MAE (``mae_vit``, random masking, the same
steps) and, with ``variants``, ``solarchip_vit`` with one contrastive term switched off. Then, at
each label fraction (``draws`` stratified draws of the training frames per seed), every arm of
:mod:`solarray.benchmarks.solarchip_downstream`:

* ``probe``: logistic regression on frozen features (per encoder the class token ⊕ mean patch
  token, ⊕ max patch token with ``readout="max"``) of ``chip_<b>`` (pretrained), ``scratch_<b>``
  (the same network, random weights), ``mae``, ``raw`` (pooled pixels, 8 × 8 per channel) and
  ``disk_stats`` (a few disk-integrated statistics per channel: the task's reference without
  any learned image features);
* ``finetune``: the same networks (not raw pixels) trained whole with a linear head.

Validation (the whole March split) calibrates (Platt) and picks the TSS threshold for every arm
alike; scores on the test month. Comparisons (:func:`comparisons`): per-seed differences and a
paired bootstrap over test days of the seed-mean score.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from solarray.benchmarks.paired_arms import paired_comparisons
from solarray.benchmarks.runs import ProtocolConfig, pretrain_run
from solarray.benchmarks.solarchip_downstream import (
    READOUTS,
    Backbone,
    FinetuneConfig,
    disk_statistics,
    features,
    finetune,
    label_subset,
    pooled_pixels,
    probe,
    verify,
)
from solarray.benchmarks.solarchip_pretrain import pretrain_frames
from solarray.benchmarks.solarchip_translation import TranslationArmConfig, translation_arms
from solarray.core.checkpoints import model_file
from solarray.data.dataset import assign_splits
from solarray.forecast.frames import load_frames
from solarray.models import build, load_model
from solarray.train.checkpoints import METRICS_FILE, latest_checkpoint

METRICS = ("roca", "bss", "tss")
#: Ablation variants: which λ is set to 0 in the SolarCHIP objective.
VARIANTS = {"no_global": "lambda_global", "no_local": "lambda_local", "no_intra": "lambda_intra"}
FRAMES_FILE = "frames.npz"
#: every pretraining run name (``pretrain_once=ALL_RUNS``: one pretraining seed for all)
ALL_RUNS = ("chip_vit", "chip_cnn", "mae", *(f"chip_vit_{v}" for v in VARIANTS))


@dataclass
class SolarCHIPBenchmarkConfig(ProtocolConfig):
    runs_dir: str = ".cache/benchmark_runs/solarchip"
    backbones: tuple[str, ...] = ("vit", "cnn")
    fractions: tuple[float, ...] = (0.01, 0.1, 1.0)
    modes: tuple[str, ...] = ("probe", "finetune")
    #: ablations of ``solarchip_vit`` (keys of :data:`VARIANTS`); empty: none
    variants: tuple[str, ...] = ()
    mae: bool = True
    #: 300 steps at 1e-3 left the global term at chance (log 16) on the benchmark Sun; at 3e-3
    #: it leaves chance after ~600 steps (measured), hence 1000
    pretrain_steps: int = 1000
    pretrain_batch_size: int = 16
    pretrain_lr: float = 3e-3
    #: pretrain in this process over the cached frames (:mod:`solarchip_pretrain`, no Ray);
    #: False: the generic loop under Ray Train local mode on the shards (:func:`pretrain_run`)
    in_process: bool = True
    #: pretraining runs made once (with the first seed) and shared by every downstream seed, to
    #: fit the budget; the downstream seeds still differ in labels, heads and scratch weights
    pretrain_once: tuple[str, ...] = ("chip_vit_no_global", "chip_vit_no_local",
                                      "chip_vit_no_intra")
    vit_config: dict = field(default_factory=lambda: {
        "preset": "tiny", "backbone_config": {"preset": "tiny", "patch_size": 16}})
    cnn_config: dict = field(default_factory=lambda: {
        "preset": "tiny", "backbone_config": {"preset": "tiny", "widths": [8, 16, 32, 64]}})
    mae_config: dict = field(default_factory=lambda: {
        "preset": "tiny", "patch_size": 16, "masking": {"strategy": "random", "ratio": 0.75}})
    #: downstream tasks: ``classification`` (flare), ``translation`` (HMI → AIA, per backbone)
    tasks: tuple[str, ...] = ("classification",)
    finetune: FinetuneConfig = field(default_factory=FinetuneConfig)
    #: how every network's tokens become features (:data:`READOUTS`: ``mean`` = class token ⊕
    #: mean patch token, attempt 1; ``max`` adds the max over patch tokens)
    readout: str = "max"
    #: label draws per seed at fractions < 1 (the 6 frames of 1 % make the draw the largest
    #: source of spread: one encoder fine-tuned on three draws scored 0.31–0.84 validation ROCA)
    draws: int = 1
    translation: TranslationArmConfig = field(default_factory=TranslationArmConfig)
    probe_c: float = 0.1
    n_boot: int = 1000

    def __post_init__(self) -> None:
        self.seeds, self.backbones = tuple(self.seeds), tuple(self.backbones)
        self.fractions, self.modes = tuple(self.fractions), tuple(self.modes)
        self.variants, self.pretrain_once = tuple(self.variants), tuple(self.pretrain_once)
        self.tasks = tuple(self.tasks)
        if isinstance(self.finetune, dict):
            self.finetune = FinetuneConfig(**self.finetune)
        if isinstance(self.translation, dict):
            self.translation = TranslationArmConfig(**self.translation)
        bad = (set(self.backbones) - {"vit", "cnn"}) | (set(self.modes) - {"probe", "finetune"}) \
            | (set(self.variants) - set(VARIANTS)) \
            | (set(self.tasks) - {"classification", "translation"})
        if bad:
            raise ValueError(f"unknown backbone/mode/variant {sorted(bad)}")
        if self.readout not in READOUTS:
            raise ValueError(f"readout: expected one of {sorted(READOUTS)}, got {self.readout!r}")
        if self.draws < 1:
            raise ValueError(f"draws must be ≥ 1, got {self.draws}")


def frames_cached(cfg: SolarCHIPBenchmarkConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                           tuple[str, ...]]:
    """``(images [N, C, H, W] float32, times, ≥M-in-24-h labels, channels)`` of the benchmark
    Sun, read once through Ray (:func:`load_frames`) and kept as float16 in ``runs_dir``."""
    path = Path(cfg.runs_dir) / FRAMES_FILE
    if not path.exists():
        fr = load_frames(Path(cfg.root) / "shards")
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(path, image=fr.image.astype(np.float16), t=fr.t.astype("int64"),
                 y=fr.flare_m24, channels=np.array(fr.channels))
    z = np.load(path)
    return (z["image"].astype(np.float32), z["t"].astype("datetime64[s]"), z["y"],
            tuple(str(c) for c in z["channels"]))


def _runs(cfg: SolarCHIPBenchmarkConfig) -> dict[str, tuple[str, str, dict, dict]]:
    """Pretraining runs per seed-free name: ``(model, objective, model_config, objective_config)``."""
    out = {}
    for b in cfg.backbones:
        out[f"chip_{b}"] = (f"solarchip_{b}", "solarchip",
                            cfg.vit_config if b == "vit" else cfg.cnn_config, {})
    if cfg.mae:
        out["mae"] = ("mae_vit", "mae", cfg.mae_config, {})
    for v in cfg.variants:
        out[f"chip_vit_{v}"] = ("solarchip_vit", "solarchip", cfg.vit_config, {VARIANTS[v]: 0.0})
    return out


def sized(model: str, model_config: dict, size: int) -> dict:
    """``model_config`` with the image size pinned to the frames' ``size`` (SolarCHIP: in its
    backbone's config)."""
    if model.startswith("solarchip"):
        return {**model_config, "backbone_config": {**model_config.get("backbone_config", {}),
                                                    "image_size": size}}
    return {**model_config, "image_size": size}


def run_name(cfg: SolarCHIPBenchmarkConfig, name: str, seed: int) -> str:
    """The cached pretraining run of ``name`` for downstream ``seed`` (``pretrain_once`` names:
    the first seed's run for every seed)."""
    if name in cfg.pretrain_once:
        seed = cfg.seeds[0]
    lr = f"{cfg.pretrain_lr:g}".replace(".", "p")
    return f"{name}_{cfg.pretrain_steps}x{cfg.pretrain_batch_size}_lr{lr}_s{seed}"


def missing_pretraining(cfg: SolarCHIPBenchmarkConfig) -> list[str]:
    """Run names still to pretrain (and ``frames`` when the frame cache is absent); Ray is
    needed for ``frames`` and, unless ``in_process``, for the runs."""
    out = [] if (Path(cfg.runs_dir) / FRAMES_FILE).exists() else ["frames"]
    for seed in cfg.seeds:
        for name in _runs(cfg):
            rn = run_name(cfg, name, seed)
            done = latest_checkpoint(Path(cfg.runs_dir) / rn)
            if (done is None or done[0] < cfg.pretrain_steps) and rn not in out:
                out.append(rn)
    return out


def curve(run_dir: Path) -> list[dict]:
    """The pretraining run's reported metrics (step, loss and its parts) from its metrics file."""
    path = run_dir / METRICS_FILE
    if not path.exists():
        return []
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    keep = ("step", "loss", "loss_rec", "loss_global", "loss_local", "loss_intra")
    return [{k: round(float(r[k]), 4) for k in keep if k in r} for r in rows]


def pretrain_all(cfg: SolarCHIPBenchmarkConfig, channels: tuple[str, ...],
                 train_images: np.ndarray | None = None, log: Callable[[str], None] = print
                 ) -> dict[str, dict[int, str]]:
    """Every pretraining run of every seed (cached runs reused); ``{name: {seed: checkpoint}}``.
    ``train_images``: the training split's frames, needed when ``cfg.in_process``."""
    out: dict[str, dict[int, str]] = {}
    for seed in cfg.seeds:
        for name, (model, objective, mcfg, ocfg) in _runs(cfg).items():
            rn = run_name(cfg, name, seed)
            done = latest_checkpoint(Path(cfg.runs_dir) / rn)
            if done is None or done[0] < cfg.pretrain_steps:
                pseed = cfg.seeds[0] if name in cfg.pretrain_once else seed
                size = int(train_images.shape[-1]) if train_images is not None else 0
                kw = dict(model=model, objective=objective, channels=channels,
                          model_config=sized(model, mcfg, size) if size else mcfg,
                          steps=cfg.pretrain_steps,
                          batch_size=cfg.pretrain_batch_size, lr=cfg.pretrain_lr, seed=pseed,
                          warmup=30, reports=10, objective_config=ocfg)
                if cfg.in_process:
                    if train_images is None:
                        raise ValueError("in-process pretraining needs the training frames")
                    _, sec = pretrain_frames(train_images, Path(cfg.runs_dir) / rn, **kw)
                else:
                    _, sec = pretrain_run(cfg.root, cfg.runs_dir, rn, **kw)
                last = curve(Path(cfg.runs_dir) / rn)[-1:]
                log(f"[solarchip] pretrained {rn} in {sec:.0f} s: {last}")
                done = latest_checkpoint(Path(cfg.runs_dir) / rn)
            out.setdefault(name, {})[seed] = str(done[1])
    return out


def _networks(ckpts: dict[str, dict[int, str]], seed: int, n_channels: int, readout: str
              ) -> dict[str, Backbone]:
    """The seed's pretrained networks, plus ``scratch_<b>``: each SolarCHIP network rebuilt from
    its config with random weights (seeded)."""
    nets = {}
    for name, by_seed in ckpts.items():
        model = load_model(model_file(by_seed[seed]))
        nets[name] = (Backbone.of_single(model, n_channels, readout) if name == "mae"
                      else Backbone.of_solarchip(model, readout=readout))
        if name in ("chip_vit", "chip_cnn"):
            torch.manual_seed(10_000 + seed)
            fresh = build(f"solarchip_{name[-3:]}", **asdict(model.config))
            nets[f"scratch_{name[-3:]}"] = Backbone.of_solarchip(fresh, readout=readout)
    return nets


def label_draws(y_train: np.ndarray, fraction: float, seed: int, draws: int
                ) -> list[tuple[int, np.ndarray]]:
    """``[(draw seed, labelled indices)]``: ``draws`` stratified draws at ``fraction`` < 1 (the
    first with ``seed`` itself, as a single draw), one (every label) at ``fraction`` ≥ 1."""
    n = 1 if fraction >= 1.0 else draws
    return [(seed + 1000 * d, label_subset(y_train, fraction, seed + 1000 * d)) for d in range(n)]


def run(cfg: SolarCHIPBenchmarkConfig, log: Callable[[str], None] = print) -> dict:
    """``{"per_seed": {fraction: {mode: {arm: [scores per (seed, draw)]}}}, "comparisons",
    "curves", "info"}`` (see the module docstring)."""
    images, t, y, channels = frames_cached(cfg)
    split = assign_splits(t)
    ckpts = pretrain_all(cfg, channels, images[split == "train"], log)
    idx = {s: np.flatnonzero((split == s) & (y >= 0)) for s in ("train", "val", "test")}
    ys = {s: y[i].astype(int) for s, i in idx.items()}
    x = {s: images[i] for s, i in idx.items()}
    days = t[idx["test"]].astype("datetime64[D]").astype(str)
    out: dict = {}
    if "translation" in cfg.tasks:
        out["translation"] = translation_arms(
            cfg.translation, x, channels,
            {k: v for k, v in ckpts.items() if k in ("chip_vit", "chip_cnn", "mae")}, cfg.seeds,
            cfg.runs_dir, days, log)
    per_seed: dict = {}
    preds: dict = {}
    for seed in cfg.seeds if "classification" in cfg.tasks else ():
        nets = _networks(ckpts, seed, len(channels), cfg.readout)
        feats = {n: {s: features(net, x[s]) for s in x} for n, net in nets.items()}
        feats["raw"] = {s: pooled_pixels(x[s]) for s in x}
        feats["disk_stats"] = {s: disk_statistics(x[s], channels) for s in x}
        for frac, draw, lab in ((f, d, i) for f in cfg.fractions
                                for d, i in label_draws(ys["train"], f, seed, cfg.draws)):
            for mode in cfg.modes:
                arms = list(feats) if mode == "probe" else list(nets)
                for arm in arms:
                    if mode == "probe":
                        pv, pt = probe(feats[arm]["train"][lab], ys["train"][lab],
                                       [feats[arm]["val"], feats[arm]["test"]], cfg.probe_c)
                    else:
                        pv, pt = finetune(copy.deepcopy(nets[arm]), x["train"][lab],
                                          ys["train"][lab], [x["val"], x["test"]], cfg.finetune,
                                          draw)
                    s, cal, yes = verify(ys["val"], pv, ys["test"], pt)
                    key = (str(frac), mode, arm)
                    per_seed.setdefault(key[0], {}).setdefault(mode, {}).setdefault(
                        arm, []).append(s)
                    preds.setdefault(key, []).append((cal, yes))
                    log(f"[solarchip] seed {seed} draw {draw} {frac:.0%} {mode} {arm}: " + ", ".join(
                        f"{k} {v:.3f}" for k, v in s.items() if v is not None))
    comps = comparisons(per_seed, preds, ys["test"], days, cfg.n_boot) if per_seed else {}
    curves = {run_name(cfg, n, s): curve(Path(cfg.runs_dir) / run_name(cfg, n, s))
              for n in ckpts for s in cfg.seeds}
    info = {"n": {s: int(len(i)) for s, i in idx.items()},
            "base_rate": {s: round(float(v.mean()), 4) for s, v in ys.items()},
            "labelled": {str(f): int(len(label_subset(ys["train"], f, 0))) for f in cfg.fractions},
            "channels": list(channels), "image_size": int(images.shape[-1]),
            "test_days": int(len(set(days)))}
    return {"per_seed": per_seed, "comparisons": comps, "curves": curves, "info": info, **out}


def _pairs(arms: list[str]) -> list[tuple[str, str]]:
    """Which arm is compared with which: every pretrained SolarCHIP arm against its scratch
    network, the MAE encoder, raw pixels and the disk statistics; every ablation against the full SolarCHIP ViT."""
    out = []
    for a in arms:
        if a in ("chip_vit", "chip_cnn"):
            out += [(a, b) for b in (f"scratch_{a[-3:]}", "mae", "raw", "disk_stats")
                    if b in arms]
        elif a.startswith("chip_vit_no_") and "chip_vit" in arms:
            out.append((a, "chip_vit"))
    return out


def comparisons(per_seed: dict, preds: dict, y_test: np.ndarray, days: np.ndarray,
                n_boot: int) -> dict:
    """``{fraction: {mode: {"a − b": {metric: {"seeds": compare, "bootstrap": interval}}}}}``
    (:func:`~solarray.benchmarks.paired_arms.paired_comparisons` over the test days)."""
    out: dict = {}
    for frac, modes in per_seed.items():
        for mode, arms in modes.items():
            pairs = _pairs(list(arms))
            if not pairs:
                continue
            kept = {a: [{"p": cal, "yes": yes} for cal, yes in preds[(frac, mode, a)]]
                    for a in arms}
            out.setdefault(frac, {})[mode] = paired_comparisons(
                arms, kept, y_test, days, pairs, METRICS, n_boot)
    return out


__all__ = ["ALL_RUNS", "METRICS", "VARIANTS", "SolarCHIPBenchmarkConfig", "comparisons", "frames_cached",
           "missing_pretraining", "pretrain_all", "run"]
