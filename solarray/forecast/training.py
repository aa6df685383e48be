"""FPNet training: examples → class-imbalance handling → the generic Ray Train loop →
calibration on the validation months → verification on the test months.

::

    frames = load_frames("data/shards")                       # solarray.forecast.frames
    table = features.synthetic_ar_table(synth_dir)            # or features.read_table("ar.csv")
    result = train_fpnet(FPNetTrainConfig(mode="ar", encoder_checkpoint="mae/checkpoint_..."),
                         frames, table, out_dir="out/fpnet_ar")
    result.reports["test"].table()                            # all verification scores at 0.5

Steps: build examples (full-disk frames, or crops of ``crop_rsun`` R☉ around each region's pixel
position computed from its Stonyhurst lon/lat; :mod:`solarray.forecast.examples`), split by
calendar month with :func:`solarray.data.dataset.assign_splits` (test / validation months held
out, ±24 h gaps), handle class imbalance (``pos_weight`` = negatives/positives, or resampling
positives), train with the generic Ray Train loop (``num_workers=0`` runs in-process), fit a
calibrator on the validation forecasts (:func:`solarray.metrics.calibration.fit_calibration`) so
that "yes" is ``p >= 0.5``, store it in the checkpoint, and verify on the test months. Baselines
on the same splits: :mod:`solarray.forecast.baselines`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from solarray.core.checkpoints import MODEL_FILE
from solarray.forecast.examples import (
    Examples,
    build_examples,
    config_view,
    split_examples,
    to_dataset,
)
from solarray.forecast.features import write_table
from solarray.forecast.frames import Frames
from solarray.forecast.prediction import forecast_table, predict, verify_table
from solarray.metrics.calibration import METHODS, OPERATING_POINTS, fit_calibration
from solarray.metrics.verification import VerificationReport
from solarray.models import load_model, save_model
from solarray.models.fpnet import MODES
from solarray.models.pretrained import encoder_settings
from solarray.train.config import TrainConfig
from solarray.train.loop import fit

IMBALANCE = ("weight", "resample", "none")


@dataclass
class FPNetTrainConfig:
    """One FPNet training run (see module docstring)."""

    mode: str = "full_disk"
    model_config: dict = field(default_factory=lambda: {"preset": "tiny"})
    encoder_checkpoint: str = ""  # mae_vit (or vit_ae) checkpoint; "" = no pretraining
    freeze_encoder: bool = False
    imbalance: str = "weight"  # weight (pos_weight) | resample (oversample positives) | none
    max_pos_weight: float = 20.0
    calibration: str = "platt"  # platt | isotonic | none
    operating_point: str = "reliable"  # reliable | tss | hss | f1 | csi
    steps: int = 200
    batch_size: int = 16
    lr: float = 5e-4
    weight_decay: float = 0.05
    warmup_steps: int = 20
    seed: int = 0
    num_workers: int = 0  # 0: in-process (Ray Train local mode)
    cpus_per_worker: float = 1.0
    torch_threads: int = 0  # torch intra-op threads in the training loop; 0 = torch's default
    storage_path: str = "ray_results"
    run_name: str = "fpnet"
    val_months: tuple[int, ...] = (3,)
    test_months: tuple[int, ...] = (1,)
    gap_hours: float = 24.0
    tolerance_minutes: float = 6.0

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {self.mode!r}")
        if self.imbalance not in IMBALANCE:
            raise ValueError(f"imbalance must be one of {IMBALANCE}, got {self.imbalance!r}")
        if self.calibration not in METHODS:
            raise ValueError(f"calibration must be one of {METHODS}, got {self.calibration!r}")
        if self.operating_point not in OPERATING_POINTS:
            raise ValueError(f"operating_point must be one of {OPERATING_POINTS}, "
                             f"got {self.operating_point!r}")
        self.val_months, self.test_months = tuple(self.val_months), tuple(self.test_months)


def model_config_for(cfg: FPNetTrainConfig, channels: Sequence[str]) -> dict[str, Any]:
    """The FPNet model config dict: preset/overrides, mode, disk-level features in full-disk
    mode, and the encoder settings of ``encoder_checkpoint`` (which must share the channels)."""
    mc = dict(cfg.model_config)
    mc["mode"] = cfg.mode
    mc.setdefault("linear_skip", True)
    if cfg.mode == "full_disk":
        mc.setdefault("scalar_features", ["f107", "flare_index", "log_r", "area_msh", "n_ar"])
        mc.setdefault("log_features", ["flare_index", "area_msh"])
    if cfg.encoder_checkpoint:
        enc = encoder_settings(cfg.encoder_checkpoint, want_channels=channels)
        if "channels" in enc and tuple(enc["channels"]) != tuple(channels):
            raise ValueError(f"{cfg.encoder_checkpoint}: encoder channels {list(enc['channels'])} "
                             f"differ from the data's {list(channels)}")
        for k in ("patch_size", "embed_dim", "depth", "num_heads", "mlp_ratio"):
            if k in enc:
                mc[k] = enc[k]
        if cfg.mode == "full_disk" and "image_size" in enc:
            mc.setdefault("image_size", enc["image_size"])
    return mc


def standardisation(ex: Examples, scalar_features: Sequence[str],
                    log_features: Sequence[str]) -> tuple[list[float], list[float]]:
    """Mean and std (after ``log1p`` of ``log_features``) of each scalar over ``ex``."""
    means, stds = [], []
    for j, name in enumerate(scalar_features):
        x = ex.scalars[:, j].astype(np.float64)
        x = x[np.isfinite(x)]
        if name in log_features:
            x = np.log1p(np.clip(x, 0, None))
        m = float(x.mean()) if x.size else 0.0
        s = float(x.std()) if x.size > 1 else 1.0
        means.append(m)
        stds.append(s if s > 1e-6 else 1.0)
    return means, stds


@dataclass
class FPNetResult:
    """What :func:`train_fpnet` produced."""

    model_path: Path
    out_dir: Path
    reports: dict[str, VerificationReport]
    forecasts: dict[str, pd.DataFrame]
    n_examples: dict[str, int]
    pos_weight: float
    train_base_rate: float
    examples: dict[str, Examples] = field(default_factory=dict, repr=False)


def train_fpnet(cfg: FPNetTrainConfig, frames: Frames, table: pd.DataFrame,
                out_dir: str | os.PathLike, log: Callable[[str], None] = print,
                splits: Mapping[str, Examples] | None = None,
                fitter: Callable[[TrainConfig, Examples], str | os.PathLike] | None = None
                ) -> FPNetResult:
    """Train, calibrate on validation, save ``out_dir/model.pt`` and the validation/test forecast
    CSVs; returns the reports. ``table``: per-AR table (AR mode) or full-disk table. Pass
    ``splits`` (from an earlier call's ``result.examples``) to reuse the cut examples. ``fitter``
    (the training config, the training examples) → checkpoint trains instead of the Ray Train
    loop (a benchmark's in-process training, e.g. over the examples in memory)."""
    import torch

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    mc = model_config_for(cfg, frames.channels)
    mc_view = config_view({**mc, "channels": frames.channels})
    if splits is None:
        ex = build_examples(frames, table, mc_view, cfg.tolerance_minutes)
        if ex.dropped:
            log(f"[fpnet] {ex.dropped} table row(s) had no frame within "
                f"{cfg.tolerance_minutes} min")
        splits = split_examples(ex, cfg.val_months, cfg.test_months, cfg.gap_hours)
    n = {k: len(v) for k, v in splits.items()}
    for name in ("train", "val", "test"):
        lab = splits[name].label
        if len(lab) == 0 or len(np.unique(lab[lab >= 0])) < 2:
            raise ValueError(f"the {name} split has {len(lab)} example(s) and needs both classes "
                             f"(months: val {cfg.val_months}, test {cfg.test_months})")
    tr = splits["train"]
    lab = tr.label[tr.label >= 0]
    base = float(lab.mean())
    pos_weight = 1.0
    if cfg.imbalance == "weight":
        pos_weight = float(min(cfg.max_pos_weight, (lab == 0).sum() / max(1, (lab == 1).sum())))
    log(f"[fpnet] {cfg.mode}: examples {n}, training base rate {base:.3f}, "
        f"imbalance {cfg.imbalance} (pos_weight {pos_weight:.2f})")
    mean, std = standardisation(tr, mc_view.scalar_features, mc_view.log_features)
    mc.update(scalar_mean=mean, scalar_std=std)

    torch.manual_seed(cfg.seed)
    tcfg = TrainConfig(
        model="fpnet", model_config=mc, objective="fpnet",
        objective_config={"pos_weight": pos_weight, "encoder_checkpoint": cfg.encoder_checkpoint,
                          "freeze_encoder": cfg.freeze_encoder},
        channels=frames.channels, steps=cfg.steps, batch_size=cfg.batch_size, lr=cfg.lr,
        weight_decay=cfg.weight_decay, warmup_steps=min(cfg.warmup_steps, cfg.steps - 1),
        seed=cfg.seed, report_every=max(1, min(50, cfg.steps)), checkpoint_every=cfg.steps,
        num_to_keep=1, run_name=cfg.run_name, storage_path=cfg.storage_path,
        num_workers=cfg.num_workers, cpus_per_worker=cfg.cpus_per_worker, shuffle_buffer=0,
        torch_threads=cfg.torch_threads,
    )
    if fitter is not None:
        checkpoint = fitter(tcfg, tr)
    else:
        ds = to_dataset(tr, resample=cfg.imbalance == "resample", seed=cfg.seed,
                        min_rows=cfg.steps * cfg.batch_size * max(1, cfg.num_workers))
        checkpoint = fit(tcfg, ds, log=log).checkpoint
    if checkpoint is None:
        raise RuntimeError(f"training run {cfg.run_name!r} wrote no checkpoint")
    model = load_model(checkpoint)
    model.eval()

    raw = {k: predict(model, splits[k]) for k in ("val", "test")}
    vlab = splits["val"].label
    known = vlab >= 0
    cal = fit_calibration(vlab[known], raw["val"][known], cfg.calibration, cfg.operating_point)
    model.config.calibration = cal.to_dict()
    model_path = save_model(model, out_dir / MODEL_FILE)
    forecasts, reports = {}, {}
    for k in ("val", "test"):
        df = forecast_table(splits[k], model.calibrated(raw[k]), raw[k])
        write_table(df, out_dir / f"forecasts_{k}.csv")
        forecasts[k] = df
        reports[k] = verify_table(df)
    log(f"[fpnet] saved {model_path}; test: " + ", ".join(
        f"{k} {v:.3f}" for k, v in reports["test"].scores().items()
        if k in ("bss", "roca", "tss", "f1") and v is not None))
    return FPNetResult(model_path, out_dir, reports, forecasts, n, pos_weight, base,
                       dict(splits))
