"""Translation on a nine-passband synthetic Sun (Park 2019, Lim 2021; Shen 2025).

The translation Sun (:data:`TRANSLATION_SUN`): the benchmark Sun's generator and splits (January
test, March validation, February training) with ``hmi_m`` and all nine AIA passbands, 7 Suns
× 40 time steps at 128 px, mean-pooled to ``image_size`` for CPU budgets.

Arms (every model trained by the generic loop, :func:`solarray.translate.training
.train_translation`, in process; scored on the test month in physical units on the disk):

* ``per_passband`` — Park's setting: one model per AIA passband, ``hmi_m`` → that passband,
  Model A (L1) and Model B (L1 + cGAN, λ = 100), per seed; with the mean training image and the
  per-pixel linear fit on |B| as baselines. Realism is ``hf_ratio`` (fine-scale power of the
  generated image over the target's, :func:`solarray.metrics.translation.high_frequency_ratio`);
  paired bootstrap intervals over test Suns for B − A in CC and in ``hf_ratio``;
* ``multi_output`` — one model ``hmi_m`` → all nine passbands (Model A and B), against the
  per-passband models (paired intervals over test Suns);
* ``greedy`` — Lim's greedy channel selection among the nine passbands (run by
  ``benchmarks/translation.py``: Tune sits above this layer);
* ``label_efficiency`` — 1 %, 10 %, 100 % of the training pairs, Pix2Pix (Model A) against the
  ControlNet-style translator on a frozen pretrained encoder (``--pretrained``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from solarray.benchmarks.frames_fit import fit_frames
from solarray.benchmarks.runs import ProtocolConfig
from solarray.core.channels import DEFAULT_CHANNELS
from solarray.data.dataset import assign_splits
from solarray.data.labels import load_samples
from solarray.data.shard_reader import iter_rows
from solarray.data.synthetic.benchmark_sun import BenchmarkSunConfig
from solarray.metrics.bootstrap import paired_interval
from solarray.metrics.protocol import compare, summarise
from solarray.models import load_model
from solarray.translate.baselines import LinearFromB, MeanImage
from solarray.translate.data import downsample
from solarray.translate.evaluation import per_image, score_channels
from solarray.translate.predict import generate
from solarray.translate.training import TranslationRun, train_translation

AIA = tuple(c for c in DEFAULT_CHANNELS if c.startswith("aia"))
CHANNELS = ("hmi_m", *AIA)
SUN_ROOT = ".cache/translation_sun"
#: 2 test Suns (January), 3 training (February), 2 validation (March), 40 steps each at 3 h
TRANSLATION_SUN = BenchmarkSunConfig(channels=CHANNELS, runs_per_month={1: 2, 2: 3, 3: 2})
#: per image: the keys scored, and the flattened per-passband keys of a run
PER_IMAGE = ("cc", "re_abs", "hf_ratio")
KEYS = ("cc", "re_abs", "re_signed", "ppe10", "hf_ratio")


@dataclass
class TranslationBenchmarkConfig(ProtocolConfig):
    root: str = SUN_ROOT
    runs_dir: str = ".cache/benchmark_runs/translation9"
    image_size: int = 32  # the 128-px translation Sun mean-pooled ×4 (CPU budget)
    steps: int = 200
    batch_size: int = 16
    lr: float = 1e-3
    fractions: tuple[float, ...] = (0.01, 0.1, 1.0)
    """Models: image size, steps, batch, learning rate; label-efficiency fractions."""
    selection_steps: int = 200
    selection_inputs_max: int = 3
    selection_concurrent: int = 2
    """Greedy selection: steps per trial, rounds (inputs of the last set), trials at once."""
    n_boot: int = 1000
    pretrained: str = ""  # label efficiency: MAE/SolarCHIP checkpoint of the frozen encoder
    arms: tuple[str, ...] = ("per_passband", "multi_output", "greedy")
    in_process: bool = False  # per_passband/multi_output: read and train without Ray
    model_config: dict = field(default_factory=lambda: {"preset": "tiny"})


def _read_splits(shards: Path) -> dict[str, dict[str, Any]]:
    """:func:`load_samples`' splits read with pyarrow (no Ray): the same time split
    (:func:`assign_splits`' defaults, as :func:`~solarray.data.dataset.split_by_time`)."""
    rows = sorted(iter_rows(shards), key=lambda r: r.t_obs)
    split = assign_splits(np.array([np.datetime64(r.t_obs, "s") for r in rows]))
    return {name: {"channels": list(rows[0].channels),
                   "image": np.stack([r.image for r, s in zip(rows, split, strict=True)
                                      if s == name]),
                   "sample_id": [r.sample_id for r, s in zip(rows, split, strict=True)
                                 if s == name]} for name in ("train", "val", "test")}


def _load(root: str, size: int, in_process: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {}
    read = _read_splits(Path(root) / "shards") if in_process else None
    for split in ("train", "val", "test"):
        data = read[split] if read else load_samples(Path(root) / "shards", split,
                                                     columns=("sample_id", "image"))
        idx = [list(data["channels"]).index(c) for c in CHANNELS]
        img = np.nan_to_num(np.asarray(data["image"], np.float32)[:, idx], nan=0.0)
        out[split] = downsample(img, img.shape[-1] // size).astype(np.float32)
        out[f"{split}_ids"] = list(data["sample_id"])
    return out


def sun_groups(sample_ids) -> np.ndarray:
    """The Sun of each sample id (``YYYY-MM-DDT…``): Suns start every 5 days from the 2nd of a
    month (:mod:`solarray.data.synthetic.benchmark_sun`), so (year, month, (day − 2) // 5)."""
    return np.array([f"{s[:7]}-{(int(s[8:10]) - 2) // 5}" for s in sample_ids])


def dataset(images: np.ndarray):
    import ray.data

    rows = [{"image": im, "present": np.ones(len(CHANNELS), np.float32)} for im in images]
    return ray.data.from_items(rows, override_num_blocks=max(1, len(rows) // 64)).materialize()


def _train(cfg, data, name: str, seed: int, outputs: tuple[str, ...], train_idx=None,
           **run_kw) -> np.ndarray:
    """Train ``hmi_m`` → ``outputs``; → the scaled test predictions ``[N, len(outputs), H, W]``."""
    train = data["train"] if train_idx is None else data["train"][train_idx]
    run = TranslationRun(inputs=("hmi_m",), outputs=outputs, model_config={
        **cfg.model_config, "image_size": cfg.image_size}, steps=cfg.steps,
        batch_size=min(cfg.batch_size, len(train)), lr=cfg.lr, seed=seed, num_workers=0,
        run_name=f"{name}_s{seed}", storage_path=str(Path(cfg.runs_dir).resolve()), **run_kw)
    if cfg.in_process:
        ckpt = fit_frames(train, run.train_config(CHANNELS), Path(run.storage_path) / run.run_name)
    else:
        ckpt = train_translation(run, datasets=(dataset(train), None), channels=CHANNELS,
                                 log=lambda *_: None).checkpoint
    return generate(load_model(ckpt), data["test"][:, :1])


def _flat(scores: dict[str, dict[str, float]]) -> dict[str, float]:
    return {f"{k}_{c}": v[k] for c, v in scores.items() for k in v}


def _pair(score_a: dict, score_b: dict, groups, key: str, n_boot: int) -> dict:
    """Paired bootstrap over test Suns of mean-over-seeds per-image ``key``: a − b."""
    a, b = np.asarray(score_a[key]), np.asarray(score_b[key])
    return paired_interval(lambda _y, p: float(np.nanmean(p)), np.zeros(a.shape[-1]), a, b,
                           groups, n_boot=n_boot)


def per_passband(cfg, data, log, multi: bool = False) -> dict[str, Any]:
    """Model A and B per seed: one model per passband (``multi``: one model for all nine)."""
    test_y = data["test"][:, 1:]
    per_seed: dict[str, list[dict[str, float]]] = {"model_a": [], "model_b": []}
    images: dict[str, dict[str, list]] = {arm: {k: [] for k in PER_IMAGE} for arm in per_seed}
    for seed in cfg.seeds:
        for arm, gan in (("model_a", 0.0), ("model_b", 1.0)):
            t = time.perf_counter()
            if multi:
                pred = _train(cfg, data, f"multi_{arm}", seed, AIA, gan_weight=gan)
            else:
                pred = np.concatenate([_train(cfg, data, f"{arm}_{c}", seed, (c,),
                                              gan_weight=gan) for c in AIA], axis=1)
            per_seed[arm].append(_flat(score_channels(pred, test_y, AIA)))
            for k, v in per_image(pred, test_y, AIA).items():
                images[arm][k].append(v)
            log(f"[translation] {'multi' if multi else 'per-passband'} {arm} seed {seed}: "
                f"avg CC {per_seed[arm][-1]['cc_average']:.3f}, HF "
                f"{per_seed[arm][-1]['hf_ratio_average']:.2f} ({time.perf_counter() - t:.0f} s)")
    out: dict[str, Any] = {"per_seed": per_seed, "per_image": images}
    if not multi:
        mean = _flat(score_channels(MeanImage().fit(data["train"][:, 1:]).predict(len(test_y)),
                                    test_y, AIA))
        lin = LinearFromB().fit(data["train"][:, 0], data["train"][:, 1:])
        linear = _flat(score_channels(lin.predict(data["test"][:, 0]), test_y, AIA))
        per_seed["mean_image"] = [mean] * len(cfg.seeds)
        per_seed["linear_abs_b"] = [linear] * len(cfg.seeds)
        out["comparisons"] = {m: {b: {k: compare([s[k] for s in per_seed[m]],
                                                 [s[k] for s in per_seed[b]])
                                      for k in ("cc_average", "ppe10_average")}
                                  for b in ("mean_image", "linear_abs_b")}
                              for m in ("model_a", "model_b")}
        groups = sun_groups(data["test_ids"])
        out["b_minus_a"] = {k: _pair(images["model_b"], images["model_a"], groups, k,
                                     cfg.n_boot) for k in PER_IMAGE}
    keys = list(per_seed["model_a"][0])
    out["summary"] = {arm: {k: summarise([s[k] for s in v]) for k in keys}
                      for arm, v in per_seed.items()}
    out["n_train"], out["n_test"] = len(data["train"]), len(data["test"])
    return out


def multi_vs_per_passband(cfg, data, per: dict, multi: dict) -> dict[str, Any]:
    """Per-passband minus multi-output, per model, paired over test Suns (cc, re_abs, hf)."""
    groups = sun_groups(data["test_ids"])
    return {arm: {k: _pair(per["per_image"][arm], multi["per_image"][arm], groups, k,
                           cfg.n_boot) for k in PER_IMAGE} for arm in ("model_a", "model_b")}


def label_efficiency(cfg, data, log) -> dict[str, Any]:
    if not cfg.pretrained:
        raise ValueError("label_efficiency needs --pretrained (an MAE/SolarCHIP checkpoint)")
    n = len(data["train"])
    per: dict[str, dict[str, Any]] = {}
    for frac in cfg.fractions:
        for arm in ("pix2pix", "controlnet_mae"):
            key = f"{arm}@{frac:g}"
            per[key] = {"runs": [], "pairs": max(1, int(round(frac * n)))}
            for seed in cfg.seeds:
                rng = np.random.default_rng(1000 + seed)
                idx = np.sort(rng.choice(n, per[key]["pairs"], replace=False))
                kw = {"model": "controlnet_translator",
                      "pretrained": cfg.pretrained} if arm == "controlnet_mae" else {}
                pred = _train(cfg, data, f"le_{arm}_{frac:g}", seed, AIA, train_idx=idx, **kw)
                per[key]["runs"].append(_flat(score_channels(pred, data["test"][:, 1:], AIA)))
                log(f"[translation] {key} seed {seed}: avg CC "
                    f"{per[key]['runs'][-1]['cc_average']:.3f}")
    summary = {k: {m: summarise([r[m] for r in v["runs"]]) for m in v["runs"][0]}
               for k, v in per.items()}
    comparisons = {f"{frac:g}": compare(
        [r["cc_average"] for r in per[f"controlnet_mae@{frac:g}"]["runs"]],
        [r["cc_average"] for r in per[f"pix2pix@{frac:g}"]["runs"]]) for frac in cfg.fractions}
    return {"per_arm": per, "summary": summary, "controlnet_vs_pix2pix_cc": comparisons}


def run(cfg: TranslationBenchmarkConfig, log: Callable[[str], None] = print,
        select: Callable[..., dict[str, Any]] | None = None) -> dict[str, Any]:
    """Every arm of ``cfg.arms``. The greedy arm runs Tune trials, a layer above this one: the
    benchmark script passes it in as ``select(cfg, data, log)`` (rows from :func:`dataset`)."""
    data = _load(cfg.root, cfg.image_size, cfg.in_process)
    log(f"[translation] {len(data['train'])} train / {len(data['val'])} val / "
        f"{len(data['test'])} test frames at {cfg.image_size} px, {len(AIA)} AIA passbands")
    out: dict[str, Any] = {}
    if "per_passband" in cfg.arms:
        out["per_passband"] = per_passband(cfg, data, log)
    if "multi_output" in cfg.arms:
        out["multi_output"] = per_passband(cfg, data, log, multi=True)
        if "per_passband" in out:
            out["per_passband_minus_multi"] = multi_vs_per_passband(
                cfg, data, out["per_passband"], out["multi_output"])
    if "greedy" in cfg.arms:
        if select is None:
            raise ValueError("the greedy arm needs select= (see benchmarks/translation.py)")
        out["greedy"] = select(cfg, data, log)
    if "label_efficiency" in cfg.arms:
        out["label_efficiency"] = label_efficiency(cfg, data, log)
    for arm in ("per_passband", "multi_output"):  # per-image arrays: in the intervals only
        out.get(arm, {}).pop("per_image", None)
    return out


__all__ = ["AIA", "CHANNELS", "SUN_ROOT", "TRANSLATION_SUN", "TranslationBenchmarkConfig",
           "dataset", "run", "sun_groups"]
