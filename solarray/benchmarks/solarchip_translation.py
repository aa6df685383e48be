"""SolarCHIP 2025's translation downstream arm on the benchmark Sun: HMI → AIA with the
ControlNet-style translator (:mod:`solarray.models.controlnet`) whose locked encoder (and its
trainable copy) start from SolarCHIP's **HMI** encoder, at fractions of the training pairs. Arms
per backbone b (vit, cnn): ``chip_<b>`` (SolarCHIP b's HMI encoder), ``scratch_<b>`` (the same
translator, random encoder weights) and ``mae`` (the MAE encoder, ViT); comparisons
``chip_<b> − scratch_<b>`` and ``chip_<b> − mae``. A finished run (its checkpoint at ``steps``,
trained with the same settings and encoder checkpoint: :func:`cached_run`) is reused; the ViT run
names are those of the first, ViT-only record (``translate_scratch_*`` for
``scratch_vit``).

Each arm trains in-process (:func:`~solarray.benchmarks.solarchip_pretrain.pretrain_frames`:
the Pix2Pix objective, Model A = L1 only, Adam β = (0.5, 0.999)) on the same drawn pairs per
seed and fraction; scores on the test month with :func:`~solarray.translate.evaluation.
score_channels` (CC, |RE|, PPE10 per passband, physical units, on-disk pixels); paired bootstrap
over test days of the per-image CC and |RE| (:func:`~solarray.translate.evaluation.per_image`),
signed so that a positive difference means SolarCHIP is better (for |RE|: other − SolarCHIP).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from solarray.benchmarks.solarchip_pretrain import pretrain_frames
from solarray.core.checkpoints import STATE_FILE
from solarray.metrics.bootstrap import paired_interval
from solarray.metrics.protocol import compare
from solarray.models import load_model
from solarray.train.checkpoints import list_checkpoints
from solarray.translate.evaluation import per_image, score_channels
from solarray.translate.predict import generate

BACKBONES = ("vit", "cnn")


@dataclass
class TranslationArmConfig:
    """The translator and its training: ``tiny`` preset at the frames' size with the
    benchmark's ViT encoder sizes (patch 16, 64-d, 2 blocks), L1 only; ``cnn_config``: what the
    CNN arms change (SolarCHIP CNN's benchmark backbone: widths 8-16-32-64, 64-d, 16-px tokens)."""

    fractions: tuple[float, ...] = (0.01, 0.1, 1.0)
    steps: int = 200
    batch_size: int = 8
    lr: float = 1e-3
    model_config: dict = field(default_factory=lambda: {"preset": "tiny", "patch_size": 16})
    cnn_config: dict = field(default_factory=lambda: {
        "encoder": "cnn", "widths": [8, 16, 32, 64], "embed_dim": 64, "patch_size": 16})
    n_boot: int = 1000


def _mean_metric(_y: np.ndarray, v: np.ndarray) -> float:
    return float(np.mean(v))


def arm_plan(encoders: Mapping[str, object]) -> dict[str, tuple[str, str]]:
    """``{arm: (backbone, encoder key or "")}``: ``chip_<b>`` and ``scratch_<b>`` for every
    ``chip_<b>`` in ``encoders``, ``mae`` when present; ``""``: random encoder weights."""
    out: dict[str, tuple[str, str]] = {}
    for b in BACKBONES:
        if f"chip_{b}" in encoders:
            out[f"chip_{b}"] = (b, f"chip_{b}")
            out[f"scratch_{b}"] = (b, "")
    if "mae" in encoders:
        out["mae"] = ("vit", "mae")
    return out


def arm_run_name(arm: str, frac: float, seed: int) -> str:
    """The arm's run directory name; ``scratch_vit`` keeps the ViT-only record's
    ``translate_scratch_<frac>_s<seed>`` so its cached runs are found."""
    name = "scratch" if arm == "scratch_vit" else arm
    return f"translate_{name}_{frac:g}_s{seed}"


def _plain(value: Any) -> Any:
    """JSON-plain (as a training checkpoint records its config); checkpoint paths resolved."""
    value = json.loads(json.dumps(value))
    if isinstance(value, dict) and value.get("pretrained"):
        value["pretrained"] = os.path.realpath(value["pretrained"])
    return value


def cached_run(run: Path, kw: Mapping[str, Any]) -> Path | None:
    """The finished checkpoint (at ``kw["steps"]``) of ``run`` if one exists, else None; a
    ValueError naming the fields when it was trained with other settings (``kw``: the
    :func:`pretrain_frames` keywords), so a cached run is never reused for another arm."""
    done = dict(list_checkpoints(run)).get(int(kw["steps"]))
    if done is None:
        return None
    saved = torch.load(done / STATE_FILE, map_location="cpu", weights_only=True)["config"]
    differ = [k for k, v in kw.items() if _plain(saved.get(k)) != _plain(v)]
    if differ:
        raise ValueError(f"{done}: cached translation run trained with other "
                         f"{', '.join(differ)} than asked "
                         f"({'; '.join(f'{k}: {saved.get(k)!r} vs {kw[k]!r}' for k in differ)}); "
                         "remove it or use another runs_dir")
    return done


def _pairs(arms: Mapping[str, object]) -> list[tuple[str, str]]:
    return [(a, o) for a in arms if a.startswith("chip_")
            for o in (f"scratch_{a[5:]}", "mae") if o in arms]


def translation_arms(cfg: TranslationArmConfig, x: Mapping[str, np.ndarray],
                     channels: tuple[str, ...], encoders: Mapping[str, Mapping[int, str]],
                     seeds: tuple[int, ...], runs_dir: str, days: np.ndarray,
                     log: Callable[[str], None] = print) -> dict:
    """``x``: frames per split ``[N, C, H, W]`` in ``channels`` order (``hmi_m`` and AIA);
    ``encoders``: ``{"chip_vit" | "chip_cnn" | "mae": {seed: ckpt}}`` (which are present picks
    the arms, :func:`arm_plan`); ``days``: the test frames' day (bootstrap groups). Returns
    per-seed scores, summaries and comparisons."""
    aia = tuple(c for c in channels if c.startswith("aia"))
    ci, co = [channels.index("hmi_m")], [channels.index(c) for c in aia]
    test_in, test_out = x["test"][:, ci], x["test"][:, co]
    n = len(x["train"])
    plan = arm_plan(encoders)
    per_seed: dict = {}
    images: dict = {}
    for frac in cfg.fractions:
        for seed in seeds:
            k = max(1, int(round(frac * n)))
            idx = np.sort(np.random.default_rng(1000 + seed).choice(n, k, replace=False))
            for arm, (backbone, key) in plan.items():
                ckpt = encoders[key][seed] if key else ""
                run = Path(runs_dir) / arm_run_name(arm, frac, seed)
                kw = dict(model="controlnet_translator", objective="pix2pix",
                          channels=channels, steps=cfg.steps, batch_size=min(cfg.batch_size, k),
                          lr=cfg.lr, seed=seed, model_config={
                              **cfg.model_config, **(cfg.cnn_config if backbone == "cnn" else {}),
                              "image_size": int(x["train"].shape[-1]),
                              "inputs": ["hmi_m"], "outputs": list(aia)},
                          objective_config={"gan_weight": 0.0, "pretrained": ckpt,
                                            "instrument": "hmi" if key.startswith("chip") else ""})
                done = cached_run(run, kw)
                if done is None:
                    done, _ = pretrain_frames(x["train"][idx], run, **kw)
                pred = generate(load_model(Path(done) / "model.pt"), test_in)
                s = score_channels(pred, test_out, aia)
                per_seed.setdefault(f"{frac:g}", {}).setdefault(arm, []).append(
                    {f"{m}_{c}": v[m] for c, v in s.items() for m in ("cc", "re_abs", "ppe10")})
                images.setdefault((f"{frac:g}", arm), []).append(per_image(pred, test_out, aia))
                log(f"[solarchip-translation] {frac:.0%} {arm} seed {seed}: avg CC "
                    f"{s['average']['cc']:.3f}, |RE| {s['average']['re_abs']:.3f}, PPE10 "
                    f"{s['average']['ppe10']:.3f}")
    comps: dict = {}
    for frac, arms in per_seed.items():
        for chip, other in _pairs(arms):
            res = {}
            for m, key, sign in (("cc", "cc_average", 1.0), ("re_abs", "re_abs_average", -1.0)):
                a = np.stack([im[m] for im in images[(frac, chip)]])
                b = np.stack([im[m] for im in images[(frac, other)]])
                boot = paired_interval(_mean_metric, np.zeros(a.shape[1]), sign * a, sign * b,
                                       days, n_boot=cfg.n_boot)
                res[m] = {"seeds": compare([s[key] for s in arms[chip]],
                                           [s[key] for s in arms[other]], sign > 0),
                          "bootstrap": boot}
            comps.setdefault(frac, {})[f"{chip} − {other}"] = res
    return {"per_seed": per_seed, "comparisons": comps, "passbands": list(aia),
            "arms": list(plan),
            "n_train_pairs": {f"{f:g}": max(1, int(round(f * n))) for f in cfg.fractions}}


__all__ = ["BACKBONES", "TranslationArmConfig", "arm_plan", "arm_run_name", "cached_run",
           "translation_arms"]
