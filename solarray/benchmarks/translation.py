"""Translation on the benchmark Sun (Park 2019; Shen 2025): Pix2Pix HMI → AIA against baselines,
channel selection among the AIA passbands, and label efficiency with a pretrained backbone.

Arms (every model trained by the generic loop, :func:`solarray.translate.training
.train_translation`, in process; scored on the test month in physical units on the disk):

* ``hmi_to_aia`` — Model A (L1) and Model B (L1 + cGAN, λ = 100) from ``hmi_m`` to every AIA
  channel, per seed, against the mean training image and the per-pixel linear fit on |B|;
* ``selection`` — one Ray Tune trial per 1- and 2-channel (optionally 3-) combination of the AIA
  channels predicting the others (:func:`solarray.tune.channel_selection.run_selection`, trials
  in parallel; run by ``benchmarks/translation.py``, since Tune sits above this layer), ranked
  by average and minimum CC on the test month;
* ``label_efficiency`` — 1 %, 10 %, 100 % of the training pairs, HMI → AIA, Pix2Pix (Model A)
  against the ControlNet-style translator on a frozen MAE encoder pretrained on the benchmark
  Sun's training months (same U-Net, same steps).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from solarray.benchmarks.runs import ProtocolConfig
from solarray.data.labels import load_samples
from solarray.metrics.protocol import compare, summarise
from solarray.models import load_model
from solarray.train.checkpoints import latest_checkpoint
from solarray.translate.baselines import LinearFromB, MeanImage
from solarray.translate.data import downsample
from solarray.translate.evaluation import METRICS, score_channels
from solarray.translate.predict import generate
from solarray.translate.training import TranslationRun, train_translation

CHANNELS = ("hmi_m", "aia171", "aia193", "aia211", "aia304")
AIA = CHANNELS[1:]


@dataclass
class TranslationBenchmarkConfig(ProtocolConfig):
    runs_dir: str = ".cache/benchmark_runs/translation"
    image_size: int = 64  # the 128-px benchmark Sun mean-pooled ×2 (CPU budget)
    steps: int = 300
    batch_size: int = 16
    lr: float = 1e-3
    fractions: tuple[float, ...] = (0.01, 0.1, 1.0)
    """HMI → AIA models: image size, steps, batch, learning rate; label-efficiency fractions."""
    selection_steps: int = 300
    selection_inputs_max: int = 2
    selection_concurrent: int = 2
    """Channel selection: steps per trial, most inputs per combination, trials at once."""
    pretrained: str = ""  # MAE/SolarCHIP checkpoint; empty: the pretraining benchmark's MAE
    arms: tuple[str, ...] = ("hmi_to_aia", "selection", "label_efficiency")
    model_config: dict = field(default_factory=lambda: {"preset": "tiny"})


def _load(root: str, size: int) -> dict[str, np.ndarray]:
    out = {}
    for split in ("train", "val", "test"):
        data = load_samples(Path(root) / "shards", split, columns=("sample_id", "image"))
        if list(data["channels"]) != list(CHANNELS):
            idx = [list(data["channels"]).index(c) for c in CHANNELS]
            data["image"] = data["image"][:, idx]
        img = np.nan_to_num(np.asarray(data["image"], np.float32), nan=0.0)
        out[split] = downsample(img, img.shape[-1] // size).astype(np.float32)
    return out


def dataset(images: np.ndarray):
    import ray.data

    rows = [{"image": im, "present": np.ones(len(CHANNELS), np.float32)} for im in images]
    return ray.data.from_items(rows, override_num_blocks=max(1, len(rows) // 64)).materialize()


def _pretrained(cfg: TranslationBenchmarkConfig, seed: int) -> str:
    if cfg.pretrained:
        return cfg.pretrained
    run = Path(cfg.root).parent / "benchmark_runs" / "pretraining" / f"mae_random_s{seed}"
    latest = latest_checkpoint(run)
    if latest is None:
        raise FileNotFoundError(f"no pretrained MAE in {run}: run benchmarks/mae_ppam.py first "
                                "or pass --pretrained")
    return str(latest[1])


def _train_and_score(cfg, data, name: str, seed: int, train_idx=None, **run_kw
                     ) -> dict[str, dict[str, float]]:
    train = data["train"] if train_idx is None else data["train"][train_idx]
    run = TranslationRun(inputs=("hmi_m",), outputs=AIA, model_config={
        **cfg.model_config, "image_size": cfg.image_size}, steps=cfg.steps,
        batch_size=min(cfg.batch_size, len(train)), lr=cfg.lr, seed=seed, num_workers=0,
        run_name=f"{name}_s{seed}", storage_path=str(Path(cfg.runs_dir).resolve()), **run_kw)
    res = train_translation(run, datasets=(dataset(train), None), channels=CHANNELS,
                            log=lambda *_: None)
    model = load_model(res.checkpoint)
    return score_channels(generate(model, data["test"][:, :1]), data["test"][:, 1:], AIA)


def _flat(scores: dict[str, dict[str, float]]) -> dict[str, float]:
    return {f"{k}_{c}": v[k] for c, v in scores.items() for k in METRICS}


def hmi_to_aia(cfg, data, log) -> dict[str, Any]:
    test_y = data["test"][:, 1:]
    mean = _flat(score_channels(MeanImage().fit(data["train"][:, 1:]).predict(len(test_y)),
                                test_y, AIA))
    lin = LinearFromB().fit(data["train"][:, 0], data["train"][:, 1:])
    linear = _flat(score_channels(lin.predict(data["test"][:, 0]), test_y, AIA))
    per_seed: dict[str, list[dict[str, float]]] = {"model_a": [], "model_b": [],
                                                   "mean_image": [], "linear_abs_b": []}
    for seed in cfg.seeds:
        for arm, gan in (("model_a", 0.0), ("model_b", 1.0)):
            t = time.perf_counter()
            per_seed[arm].append(_flat(_train_and_score(cfg, data, f"hmi_{arm}", seed,
                                                        gan_weight=gan)))
            log(f"[translation] {arm} seed {seed}: avg CC {per_seed[arm][-1]['cc_average']:.3f}"
                f" ({time.perf_counter() - t:.0f} s)")
        per_seed["mean_image"].append(mean)
        per_seed["linear_abs_b"].append(linear)
    keys = list(per_seed["model_a"][0])
    summary = {arm: {k: summarise([s[k] for s in v]) for k in keys} for arm, v in
               per_seed.items()}
    comparisons = {m: {b: {k: compare([s[k] for s in per_seed[m]], [s[k] for s in per_seed[b]])
                           for k in ("cc_average", "ppe10_average")}
                       for b in ("mean_image", "linear_abs_b")} for m in ("model_a", "model_b")}
    return {"per_seed": per_seed, "summary": summary, "comparisons": comparisons,
            "n_train": len(data["train"]), "n_test": len(data["test"])}


def label_efficiency(cfg, data, log, model_a: list[dict] | None = None) -> dict[str, Any]:
    n = len(data["train"])
    per: dict[str, dict[str, list[dict[str, float]]]] = {}
    for frac in cfg.fractions:
        for arm in ("pix2pix", "controlnet_mae"):
            key = f"{arm}@{frac:g}"
            per[key] = {"runs": []}
            for i, seed in enumerate(cfg.seeds):
                if arm == "pix2pix" and frac == 1.0 and model_a:
                    per[key]["runs"].append(model_a[i])  # the hmi_to_aia Model A run
                    continue
                rng = np.random.default_rng(1000 + seed)
                idx = np.sort(rng.choice(n, max(1, int(round(frac * n))), replace=False))
                kw = {"model": "controlnet_translator",
                      "pretrained": _pretrained(cfg, seed)} if arm == "controlnet_mae" else {}
                t = time.perf_counter()
                per[key]["runs"].append(_flat(_train_and_score(
                    cfg, data, f"le_{arm}_{frac:g}", seed, train_idx=idx, **kw)))
                log(f"[translation] {key} seed {seed} ({len(idx)} pairs): avg CC "
                    f"{per[key]['runs'][-1]['cc_average']:.3f} ({time.perf_counter() - t:.0f} s)")
            per[key]["pairs"] = max(1, int(round(frac * n)))
    summary = {k: {m: summarise([r[m] for r in v["runs"]]) for m in v["runs"][0]}
               for k, v in per.items()}
    comparisons = {f"{frac:g}": compare(
        [r["cc_average"] for r in per[f"controlnet_mae@{frac:g}"]["runs"]],
        [r["cc_average"] for r in per[f"pix2pix@{frac:g}"]["runs"]]) for frac in cfg.fractions}
    return {"per_arm": per, "summary": summary, "controlnet_vs_pix2pix_cc": comparisons}


def run(cfg: TranslationBenchmarkConfig, log: Callable[[str], None] = print,
        select: Callable[..., dict[str, Any]] | None = None) -> dict[str, Any]:
    """Every arm of ``cfg.arms``. The selection arm runs Tune trials, a layer above this one:
    the benchmark script passes it in as ``select(cfg, data, log)`` (``dataset`` rows from
    :func:`dataset`)."""
    data = _load(cfg.root, cfg.image_size)
    log(f"[translation] {len(data['train'])} train / {len(data['val'])} val / "
        f"{len(data['test'])} test frames at {cfg.image_size} px")
    out: dict[str, Any] = {}
    if "hmi_to_aia" in cfg.arms:
        out["hmi_to_aia"] = hmi_to_aia(cfg, data, log)
    if "selection" in cfg.arms:
        if select is None:
            raise ValueError("the selection arm needs select= (see benchmarks/translation.py)")
        out["selection"] = select(cfg, data, log)
    if "label_efficiency" in cfg.arms:
        model_a = out.get("hmi_to_aia", {}).get("per_seed", {}).get("model_a")
        out["label_efficiency"] = label_efficiency(cfg, data, log, model_a)
    return out


__all__ = ["AIA", "CHANNELS", "TranslationBenchmarkConfig", "dataset", "run"]
