"""FPNet on the benchmark Sun under the seed protocol: per active region and full disk, against
climatology and a logistic regression on the physics features, with ablations.

Arms (every one trained or fitted in the same run, on the same splits, for each seed):

* per AR — ``fpnet`` (crops + physics features), ``fpnet_physics_only`` (the crops replaced by
  noise of the same per-channel mean and std: what the physics features alone give FPNet),
  ``fpnet_image_only`` (the physics columns shuffled jointly across rows: what the image alone
  gives), ``logistic`` (scikit-learn on the physics features), ``climatology``;
* full disk — ``fpnet_full_disk`` (the full-disk ViT), ``fpnet_aggregated`` (the per-AR FPNet's
  calibrated probabilities combined as 1 − Π(1 − p_i), as the service does),
  ``fpnet_full_disk_physics_only`` (noise frames), ``logistic``, ``climatology``.

Every model is Platt-calibrated on the validation month. Scores on the test month: ROCA and
BSS of the calibrated probabilities, TSS and HSS at the validation-chosen TSS threshold.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from solarray.benchmarks.paired_arms import examples_fitter, paired_comparisons
from solarray.benchmarks.runs import ProtocolConfig
from solarray.forecast.baselines import climatology, logistic_baseline
from solarray.forecast.features import full_disk_table, load_feature_table
from solarray.forecast.frames import Frames, load_frames, select_channels
from solarray.forecast.prediction import disk_from_regions, verify_table
from solarray.forecast.training import FPNetTrainConfig, train_fpnet
from solarray.metrics.bootstrap import SCORES, interval
from solarray.metrics.calibration import fit_calibration
from solarray.metrics.protocol import compare

AR_SCALARS = ("f107", "flare_index", "log_r", "area_msh")
DISK_SCALARS = ("f107", "flare_index", "area_msh", "n_ar")
LOG_SCALARS = ("flare_index", "area_msh")
CATEGORIES = ("mcintosh", "hale")
#: Per-AR table columns that carry the physics (shuffled together by the image-only ablation).
PHYSICS_COLUMNS = ("f107", "flare_index", "log_r", "area_msh", "mcintosh", "hale")
METRICS = ("roca", "bss", "tss", "hss")
#: FPNet's model config without physical inputs: the crops alone
CROPS_ONLY = {"scalar_features": [], "log_features": [], "categorical_features": []}


@dataclass
class FPNetBenchmarkConfig(ProtocolConfig):
    runs_dir: str = ".cache/benchmark_runs/fpnet"
    channels: tuple[str, ...] = ("hmi_m", "aia304")  # SA-AI 2025: HMI magnetogram + AIA 304 Å
    modes: tuple[str, ...] = ("ar", "full_disk")
    ar_steps: int = 400
    disk_steps: int = 300
    batch_size: int = 32
    lr: float = 1e-3
    ar_image_size: int = 32
    model_config: dict = field(default_factory=lambda: {"preset": "tiny"})
    encoder_checkpoint: str = ""
    ablations: bool = True
    #: extra arms: FPNet whose encoder sees only some image patches (``random`` | ``ppam``:
    #: FPNetConfig.input_masking), each mode, named ``fpnet[_full_disk]_input_<masking>``
    input_maskings: tuple[str, ...] = ()
    input_mask_ratio: float = 0.5
    #: FPNet sees the crops alone (no physical features): the image pathway is all it has
    crops_only: bool = False
    #: train in this process over the examples in memory (no Ray: ``paired_arms.examples_fitter``)
    in_process: bool = False
    n_boot: int = 1000  # bootstrap resamples of the paired intervals of the input-masking arms

    def __post_init__(self) -> None:
        if len(self.seeds) < 1:
            raise ValueError("seeds: expected at least one seed (the protocol wants ≥ 3)")
        bad = set(self.modes) - {"ar", "full_disk"}
        if bad:
            raise ValueError(f"modes: expected 'ar' and/or 'full_disk', got {sorted(bad)}")
        self.seeds, self.modes = tuple(self.seeds), tuple(self.modes)
        self.input_maskings = tuple(self.input_maskings)
        bad = set(self.input_maskings) - {"random", "ppam"}
        if bad:
            raise ValueError(f"input_maskings: expected 'random' and/or 'ppam', got {sorted(bad)}")
        self.channels = tuple(self.channels)


def noise_frames(frames: Frames, seed: int) -> Frames:
    """``frames`` with every image replaced by Gaussian noise of each channel's mean and std."""
    rng = np.random.default_rng(seed)
    img = frames.image
    mean = img.mean(axis=(0, 2, 3), keepdims=True)
    std = img.std(axis=(0, 2, 3), keepdims=True)
    noise = (rng.standard_normal(img.shape, dtype=np.float32) * std + mean).astype(np.float32)
    return Frames(noise, frames.t, frames.flare_m24, frames.f107, frames.channels,
                  frames.frame_rsun)


def shuffle_physics(table: pd.DataFrame, seed: int,
                    columns: Sequence[str] = PHYSICS_COLUMNS) -> pd.DataFrame:
    """``table`` with its physics ``columns`` permuted jointly across rows (positions, times and
    labels kept): a model then sees each region's image with another region's physics."""
    rng = np.random.default_rng(seed)
    out = table.copy()
    cols = [c for c in columns if c in out.columns]
    perm = rng.permutation(len(out))
    out[cols] = out[cols].to_numpy()[perm]
    return out


def scores(val: pd.DataFrame, test: pd.DataFrame) -> dict[str, float | None]:
    """ROCA and BSS of the Platt-calibrated test forecasts; TSS and HSS at the validation
    TSS-optimal threshold. ``val``/``test``: forecast tables with ``observed`` and
    ``probability_raw``."""
    vk, tk = val[val["observed"] >= 0], test[test["observed"] >= 0]
    out = {}
    for op in ("reliable", "tss"):
        cal = fit_calibration(vk["observed"].to_numpy(), vk["probability_raw"].to_numpy(),
                              "platt", op)
        rep = verify_table(tk.assign(probability=cal(tk["probability_raw"].to_numpy())))
        s = rep.scores()
        if op == "reliable":
            out.update(roca=s["roca"], bss=s["bss"], bs=s["bs"])
        else:
            out.update(tss=s["tss"], hss=s["hss"])
    return out


def calibrated(val: pd.DataFrame, test: pd.DataFrame, operating_point: str = "reliable"
               ) -> np.ndarray:
    """``test``'s probabilities Platt-calibrated on ``val`` (``probability_raw``; the reliable
    operating point, as :func:`scores` calibrates them for ROCA and BSS; ``"tss"``: shifted so
    that ``≥ 0.5`` is the yes of :func:`scores`' TSS and HSS)."""
    vk = val[val["observed"] >= 0]
    cal = fit_calibration(vk["observed"].to_numpy(), vk["probability_raw"].to_numpy(),
                          "platt", operating_point)
    return cal(test["probability_raw"].to_numpy())


def kept_forecasts(val: pd.DataFrame, test: pd.DataFrame) -> dict[str, np.ndarray]:
    """One seed's test forecasts (rows with a known outcome) as :func:`scores` scores them: ``p``
    (reliable Platt) and ``yes`` (1.0 where the TSS-point calibration says yes)."""
    tk = test[test["observed"] >= 0].reset_index(drop=True)
    return {"p": calibrated(val, tk), "yes": (calibrated(val, tk, "tss") >= 0.5).astype(float)}


def score_groups(test: pd.DataFrame) -> tuple[np.ndarray, str]:
    """Bootstrap groups of a forecast table: per region, the physical region — the true one a
    detected region was matched to (``truth_ar``; an unmatched detection is its own group), or
    the table's own ``ar`` on a truth table — within its synthetic Sun (``run``); else (full
    disk) the day."""
    if "ar" not in test.columns:
        return test["time"].astype(str).str[:10].to_numpy(), "days"
    tag = test["run"].astype(str) + ":" if "run" in test.columns else ""
    key = test["truth_ar"] if "truth_ar" in test.columns else test["ar"]
    own = "unmatched:" + test.index.astype(str)
    return np.where(key.to_numpy() >= 0, tag + key.astype(str), own), "regions"


def intervals(val: pd.DataFrame, test: pd.DataFrame, n_boot: int = 1000) -> dict[str, Any]:
    """95 % bootstrap intervals of ROCA and BSS of the Platt-calibrated test forecasts (as
    :func:`scores` calibrates them), resampling :func:`score_groups`."""
    vk, tk = val[val["observed"] >= 0], test[test["observed"] >= 0].reset_index(drop=True)
    if not len(tk) or not len(vk):
        return {}
    p = calibrated(val, tk)
    groups, unit = score_groups(tk)
    out: dict[str, Any] = {"resampled": unit}
    for name, fn in SCORES.items():
        iv = interval(fn, tk["observed"].to_numpy(), p, groups, n_boot=n_boot)
        out[f"{name}_lo"], out[f"{name}_hi"], out["n_groups"] = iv["lo"], iv["hi"], iv["n_groups"]
    return out


def with_raw(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with ``probability_raw`` (a copy of ``probability`` when it has none)."""
    return df if "probability_raw" in df.columns else df.assign(probability_raw=df["probability"])


def _train(cfg: FPNetBenchmarkConfig, mode: str, frames: Frames, table: pd.DataFrame, seed: int,
           arm: str, log: Callable[[str], None], input_masking: str = "none", splits=None):
    size = cfg.ar_image_size if mode == "ar" else frames.image.shape[-1]
    masking = {} if input_masking == "none" else {"input_masking": input_masking,
                                                  "input_mask_ratio": cfg.input_mask_ratio}
    physics = CROPS_ONLY if cfg.crops_only and mode == "ar" else {}
    tcfg = FPNetTrainConfig(
        mode=mode, model_config={**cfg.model_config, "image_size": size, **masking, **physics},
        encoder_checkpoint=cfg.encoder_checkpoint,
        steps=cfg.ar_steps if mode == "ar" else cfg.disk_steps, batch_size=cfg.batch_size,
        lr=cfg.lr, seed=seed, storage_path=str(Path(cfg.runs_dir).resolve()),
        run_name=f"{mode}_{arm}_s{seed}")
    t = time.perf_counter()
    res = train_fpnet(tcfg, frames, table, Path(cfg.runs_dir) / tcfg.run_name,
                      log=lambda s: None, splits=splits,
                      fitter=examples_fitter() if cfg.in_process else None)
    s = scores(res.forecasts["val"], res.forecasts["test"])
    log(f"[fpnet-bench] {mode} {arm} seed {seed}: {time.perf_counter() - t:.0f} s, "
        + ", ".join(f"{k} {v:.3f}" for k, v in s.items() if v is not None))
    return res, s


def _baselines(splits, scalars: Sequence[str], logistic: bool = True) -> dict[str, dict]:
    """Climatology and (``logistic``: the examples carry the physics features) the logistic
    regression on them."""
    clim_val = climatology(splits["train"], splits["val"])
    clim_test = climatology(splits["train"], splits["test"])
    out = {"climatology": scores(with_raw(clim_val), with_raw(clim_test))}
    if logistic:
        lr = logistic_baseline(splits, list(scalars), list(LOG_SCALARS), list(CATEGORIES))
        out = {"logistic": scores(lr["val"], lr["test"]), **out}
    return out


def run(cfg: FPNetBenchmarkConfig, log: Callable[[str], None] = print) -> dict:
    """Every arm for every seed; returns ``{"per_seed": {mode: {arm: [scores per seed]}},
    "comparisons": {mode: {model_arm: {baseline: {metric: compare(...)}}}}, "info": ...}``."""
    root = Path(cfg.root)
    frames = select_channels(load_frames(root / "shards", local=cfg.in_process), cfg.channels)
    table = load_feature_table(synthetic=root)
    disk_table = full_disk_table(table)
    per_seed: dict[str, dict[str, list]] = {m: {} for m in cfg.modes}
    info: dict[str, dict] = {}
    kept: dict[str, list] = {}  # per-AR arms' test forecasts per seed, for the paired intervals

    def add(mode: str, arm: str, s: dict) -> None:
        per_seed[mode].setdefault(arm, []).append(s)

    for seed in cfg.seeds:
        ar_res = None
        if "ar" in cfg.modes or "full_disk" in cfg.modes:
            ar_res, s = _train(cfg, "ar", frames, table, seed, "fpnet", log)
            info["ar"] = {"n": ar_res.n_examples, "train_base_rate": ar_res.train_base_rate}
            if "ar" in cfg.modes:
                add("ar", "fpnet", s)
                kept.setdefault("fpnet", []).append(kept_forecasts(
                    ar_res.forecasts["val"], ar_res.forecasts["test"]))
                for m in cfg.input_maskings:
                    r, s = _train(cfg, "ar", frames, table, seed, f"fpnet_input_{m}", log, m,
                                  splits=ar_res.examples)
                    add("ar", f"fpnet_input_{m}", s)
                    kept.setdefault(f"fpnet_input_{m}", []).append(kept_forecasts(
                        r.forecasts["val"], r.forecasts["test"]))
                for name, b in _baselines(ar_res.examples, AR_SCALARS,
                                          logistic=not cfg.crops_only).items():
                    add("ar", name, b)
                if cfg.ablations:
                    _, s = _train(cfg, "ar", noise_frames(frames, seed), table, seed,
                                  "fpnet_physics_only", log)
                    add("ar", "fpnet_physics_only", s)
                    _, s = _train(cfg, "ar", frames, shuffle_physics(table, seed), seed,
                                  "fpnet_image_only", log)
                    add("ar", "fpnet_image_only", s)
        if "full_disk" in cfg.modes:
            fd_res, s = _train(cfg, "full_disk", frames, disk_table, seed, "fpnet_full_disk", log)
            info["full_disk"] = {"n": fd_res.n_examples, "train_base_rate": fd_res.train_base_rate}
            add("full_disk", "fpnet_full_disk", s)
            for m in cfg.input_maskings:
                _, s = _train(cfg, "full_disk", frames, disk_table, seed,
                              f"fpnet_full_disk_input_{m}", log, m)
                add("full_disk", f"fpnet_full_disk_input_{m}", s)
            if cfg.ablations:
                _, s = _train(cfg, "full_disk", noise_frames(frames, seed), disk_table, seed,
                              "fpnet_full_disk_physics_only", log)
                add("full_disk", "fpnet_full_disk_physics_only", s)
            agg = {k: disk_from_regions(ar_res.forecasts[k], disk_table) for k in ("val", "test")}
            add("full_disk", "fpnet_aggregated", scores(with_raw(agg["val"]),
                                                        with_raw(agg["test"])))
            for name, b in _baselines(fd_res.examples, DISK_SCALARS).items():
                add("full_disk", name, b)
    out = {"per_seed": per_seed, "comparisons": comparisons(per_seed), "info": info}
    if cfg.input_maskings and "ar" in cfg.modes:
        out["intervals"] = {"ar": input_masking_intervals(per_seed["ar"], kept, ar_res,
                                                          cfg.n_boot)}
    return out


def input_masking_intervals(arms: dict[str, list], kept: dict[str, list], res,
                            n_boot: int) -> dict:
    """The input-masking arms (PPAM − random, each − every patch) paired on the test rows of
    ``res`` (an FPNetResult of the same splits), with bootstrap intervals resampling
    :func:`score_groups` (per region: the physical region)."""
    test = res.forecasts["test"]
    tk = test[test["observed"] >= 0].reset_index(drop=True)
    groups, unit = score_groups(tk)
    names = [a for a in ("fpnet_input_ppam", "fpnet_input_random") if a in kept]
    pairs = [(a, "fpnet") for a in names]
    if len(names) == 2:
        pairs.insert(0, ("fpnet_input_ppam", "fpnet_input_random"))
    comp = paired_comparisons(arms, kept, tk["observed"].to_numpy(), groups, pairs,
                              n_boot=n_boot)
    return {"resampled": unit, "n_groups": int(len(set(groups))), "n_rows": int(len(tk)),
            "n_boot": n_boot, "comparisons": comp}


def comparisons(per_seed: dict[str, dict[str, list]]) -> dict:
    """Each model arm against each baseline arm (and the physics/image ablations against the
    full model), per metric, paired by seed (:func:`solarray.metrics.protocol.compare`)."""
    out: dict = {}
    for mode, arms in per_seed.items():
        models = [a for a in arms if a.startswith("fpnet")]
        bases = [a for a in arms if not a.startswith("fpnet")]
        out[mode] = {}
        for m in models:
            against = list(bases)
            if m in ("fpnet", "fpnet_full_disk"):
                against += [a for a in models if a != m]
            if m.endswith("_input_ppam") and m.replace("_ppam", "_random") in arms:
                against.append(m.replace("_ppam", "_random"))  # PPAM vs random dropping
            out[mode][m] = {b: {k: compare([s[k] for s in arms[m]], [s[k] for s in arms[b]])
                                for k in METRICS if all(s.get(k) is not None
                                                        for s in arms[m] + arms[b])}
                            for b in against}
    return out


__all__ = ["CROPS_ONLY", "FPNetBenchmarkConfig", "calibrated", "comparisons",
           "input_masking_intervals", "intervals", "kept_forecasts", "noise_frames", "run",
           "score_groups", "scores", "shuffle_physics", "with_raw"]
