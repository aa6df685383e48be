"""The forecast cycle's speed at 512²: per stage, per lever (interleaved arms), against its floor.

One synthetic 512² observation (HMI, AIA 193 and 304 Å level-1 FITS) goes through the library
cycle exactly as ``POST /v1/forecast`` runs it without Serve: FITS bytes →
:func:`~solarray.pipeline.inputs.sample_from_fits` (input) →
:func:`~solarray.pipeline.cycle.run_cycle` (perception, analysis, forecast). Each lever is an
arm that undoes (or adds) one speed-up; :func:`solarray.benchmarks.arms.interleave` runs the arms
in rotated rounds. The floor is the FLOPs of the cycle's model forwards
(:func:`solarray.benchmarks.floor.count_flops`) over the GEMM rate measured in the same run.
"""

from __future__ import annotations

import copy
import dataclasses
import statistics
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from solarray.analysis.fast_coords import map_geometry as fast_geometry
from solarray.analysis.regions import find_entities
from solarray.benchmarks.arms import interleave, ratio, summary
from solarray.benchmarks.floor import count_flops, floor_seconds, gemm_rate
from solarray.data.synthetic import SynthConfig, generate
from solarray.models import build
from solarray.pipeline.analysis_stage import analyse
from solarray.pipeline.config import CycleConfig
from solarray.pipeline.cycle import run_cycle
from solarray.pipeline.flare_history import FlareHistory
from solarray.pipeline.forecast_stage import forecast
from solarray.pipeline.inputs import InputConfig, sample_from_fits
from solarray.pipeline.model_set import UNTRAINED, LoadedModel, ModelSet
from solarray.pipeline.perception import perceive

CHANNELS = ("hmi_m", "aia193", "aia304")
STAGES = ("input", "perception", "analysis", "forecast")
CONV_ROLES = ("spnet", "hale", "mcintosh")  # the roles with convolutions (channels-last arm)
#: The roles the ``small_untrained`` arm rebuilds at the registry's ``small`` preset (the Hale and
#: McIntosh CNNs have no ``small`` preset: they ship at their paper size and stay).
SMALL_ROLES = {"spnet": "spnet", "fpnet_full_disk": "fpnet", "fpnet_ar": "fpnet"}
#: Fields a ``small`` model keeps from the shipped one: what the cycle feeds it (sizes, channels,
#: inputs), so that only the widths and depths change.
KEPT_FIELDS = ("channels", "image_size", "mode", "scalar_features", "log_features",
               "categorical_features", "scalar_mean", "scalar_std", "crop_rsun", "frame_rsun",
               "thresholds", "linear_skip")


@dataclass
class CycleBenchConfig:
    size: int = 512
    seed: int = 7  # the synthetic Sun of benchmarks/serve.py
    repeats: int = 5
    warmup: int = 1
    threads: int = 2
    gemm_size: int = 1024
    arms: tuple[str, ...] = ("default", "dbscan_pixels", "coords_sunpy", "crops_one_by_one",
                             "threads_1", "channels_last", "small_untrained")
    extra: dict[str, Any] = field(default_factory=dict)


def make_uploads(out: Path, size: int, seed: int) -> list[tuple[str, bytes]]:
    """One rendered time step of a synthetic Sun (cached in ``out``) as uploaded FITS bytes."""
    if not (out / "fits").is_dir():
        generate(SynthConfig(start="2024-03-01T00:00", hours=0, size=size, seed=seed,
                             channels=CHANNELS, preview=False), out)
    files = [sorted((out / "fits" / c).glob("*.fits"))[0] for c in CHANNELS]
    return [(f.name, f.read_bytes()) for f in files]


def channels_last(models: ModelSet) -> ModelSet:
    """A copy of ``models`` with the convolutional models in channels-last memory format."""
    out = copy.deepcopy(models)
    for role in CONV_ROLES:
        lm = out.roles.get(role)
        if lm is not None and lm.ok:
            lm.model = lm.model.to(memory_format=torch.channels_last)
    return out


def small_models(models: ModelSet, seed: int = 0) -> ModelSet:
    """A copy of ``models`` whose SPNet and FPNets are rebuilt, untrained (seeded), at the
    registry's ``small`` preset, keeping each shipped model's image size, channels and inputs.

    Untrained weights time the forwards as well as trained ones do; the SPNet's masks (hence the
    analysis stage's work and the regions FPNet crops) are not the shipped model's."""
    out = copy.copy(models)
    out.roles = dict(models.roles)
    for role, name in SMALL_ROLES.items():
        lm = models.roles.get(role)
        if lm is None or not lm.ok:
            continue
        shipped = dataclasses.asdict(lm.model.config)
        keep = {k: shipped[k] for k in KEPT_FIELDS if k in shipped}
        torch.manual_seed(seed)
        model = build(name, preset="small", **keep).eval()
        out.roles[role] = LoadedModel(role, model, f"{name}-small:{UNTRAINED}", UNTRAINED,
                                      fallback="benchmark arm: small preset, untrained")
    return out


@dataclass
class Arm:
    """One lever setting: the models, cycle settings, torch threads and crops per forward."""

    models: ModelSet
    config: CycleConfig
    threads: int
    crop_batch: int | None = None


def build_arms(models: ModelSet, cfg: CycleBenchConfig) -> dict[str, Arm]:
    """The arms: ``default`` (every lever on) and one arm per lever turned off (or, for
    channels-last, turned on)."""
    base = CycleConfig()
    pixels = CycleConfig(region={**base.region, "ar_method": "pixels"})
    sunpy = CycleConfig(region={**base.region, "coords": "sunpy"})
    all_arms = {
        "default": Arm(models, base, cfg.threads),
        "dbscan_pixels": Arm(models, pixels, cfg.threads),
        "coords_sunpy": Arm(models, sunpy, cfg.threads),
        "crops_one_by_one": Arm(models, base, cfg.threads, crop_batch=1),
        "threads_1": Arm(models, base, 1),
        "channels_last": Arm(channels_last(models), base, cfg.threads),
    }
    if "small_untrained" in cfg.arms:
        all_arms["small_untrained"] = Arm(small_models(models, cfg.seed), base, cfg.threads)
    unknown = sorted(set(cfg.arms) - set(all_arms) - {"small_untrained"})
    if unknown:
        raise ValueError(f"unknown arm(s) {unknown}; known: {', '.join(all_arms)}")
    return {a: all_arms[a] for a in cfg.arms}


def _runner(arm: Arm, uploads, icfg: InputConfig, history: FlareHistory,
            log: list[dict[str, Any]]) -> Callable[[], None]:
    def run() -> None:
        before = torch.get_num_threads()
        torch.set_num_threads(arm.threads)
        try:
            t0 = time.perf_counter()
            sample = sample_from_fits(uploads, icfg)
            t_in = time.perf_counter() - t0
            r = run_cycle(sample, arm.models, arm.config, history=history,
                          crop_batch=arm.crop_batch)
        finally:
            torch.set_num_threads(before)
        log.append({"input": t_in, **{s: r.timings[s] for s in STAGES[1:]},
                    "cycle": r.timings["total"], "end_to_end": t_in + r.timings["total"],
                    "regions": len(r.analysis.ars),
                    "areas": [round(a["area_msh"] or 0.0, 3) for a in r.analysis.ars]})
    return run


def model_flops(models: ModelSet, uploads, icfg: InputConfig, history: FlareHistory
                ) -> dict[str, int]:
    """FLOPs of each stage's model forwards on the benchmark observation (one cycle)."""
    sample = sample_from_fits(uploads, icfg)
    config = CycleConfig()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f_per, (perception,) = count_flops(lambda: perceive(models.get("spnet"), [sample],
                                                            config.threshold))
        f_ana, analysis = count_flops(lambda: analyse(
            sample, perception, hale=models.optional("hale"),
            mcintosh=models.optional("mcintosh"), history=history, config=config))
        f_disk, _ = count_flops(lambda: forecast(models.optional("fpnet_full_disk"), None,
                                                 [sample], [analysis]))
        f_ar, _ = count_flops(lambda: forecast(None, models.optional("fpnet_ar"), [sample],
                                               [analysis], config.max_regions))
    return {"perception": f_per, "analysis": f_ana, "forecast_full_disk": f_disk,
            "forecast_ar": f_ar, "forecast": f_disk + f_ar,
            "total": f_per + f_ana + f_disk + f_ar}


def analysis_parts(models: ModelSet, uploads, icfg: InputConfig, history: FlareHistory,
                   repeats: int, untrained: ModelSet | None = None) -> dict[str, Any]:
    """Where the analysis stage spends its time (interleaved sub-arms on one perception):
    the closed-form geometry alone, entities (geometry + clustering + description), the stage
    without the Hale/McIntosh classifiers, the whole stage; and, on the masks of an untrained
    SPNet (which cover much of the disk), the stage with component vs per-pixel DBSCAN."""
    sample = sample_from_fits(uploads, icfg)
    base = CycleConfig()
    grid = sample.grid_map()
    out: dict[str, Any] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        perception = perceive(models.get("spnet"), [sample])[0]
        kw = {"hale": models.optional("hale"), "mcintosh": models.optional("mcintosh"),
              "history": history}
        parts = interleave({
            "geometry": lambda: fast_geometry(grid),
            "entities": lambda: find_entities(perception.masks, grid,
                                              b_los=sample.magnetogram(),
                                              config=base.region_config()),
            "no_classifiers": lambda: analyse(sample, perception,
                                              config=CycleConfig(classify=False), **kw),
            "analysis": lambda: analyse(sample, perception, config=base, **kw),
        }, repeats, warmup=1)
        out["parts"] = {k: summary(v) for k, v in parts.items()}
        if untrained is not None:
            p_u = perceive(untrained.get("spnet"), [sample])[0]
            arms = {m: (lambda m=m: analyse(sample, p_u, config=CycleConfig(
                region={**base.region, "ar_method": m}), **kw)) for m in ("components", "pixels")}
            t = interleave(arms, repeats, warmup=0)
            out["untrained_masks"] = {
                "mask_pixels": [int(v) for v in p_u.masks.sum(axis=(1, 2))],
                **{m: summary(v) for m, v in t.items()},
                "pixels_over_components": ratio(t["pixels"], t["components"])}
    return out


def floor_report(rows: list[dict[str, Any]], models: ModelSet, flops: dict[str, int],
                 rate: float) -> dict[str, Any]:
    """One model set's stages against their FLOP floor: per stage (and the cycle) the measured
    seconds (median, range), FLOPs, floor seconds and time / floor (median and the range of the
    per-round ratios)."""
    out: dict[str, Any] = {"versions": models.versions(), "params_M": params_m(models),
                           "regions": sorted({r["regions"] for r in rows}), "stages": {}}
    for stage, key in (("perception", "perception"), ("analysis", "analysis"),
                       ("forecast", "forecast"), ("cycle", "total")):
        times = [r[stage] for r in rows]
        fl = floor_seconds(flops[key], rate)
        out["stages"][stage] = {
            "seconds": summary(times), "gflop": flops[key] / 1e9, "floor_s": fl,
            "time_over_floor": {k: v / fl for k, v in summary(times).items() if k != "n"}
            if fl else None}
    return out


def params_m(models: ModelSet) -> dict[str, float]:
    """Parameters (millions) of each loaded role."""
    return {r: round(sum(p.numel() for p in lm.model.parameters()) / 1e6, 3)
            for r, lm in models.roles.items() if lm.ok}


def run(models: ModelSet, synth_dir: Path, cfg: CycleBenchConfig,
        progress: Callable[[str], None] | None = None,
        untrained: ModelSet | None = None) -> dict[str, Any]:
    """Every arm ``cfg.repeats`` times (interleaved), the floor and the ratios; the analysis
    stage's parts (and, with ``untrained`` models, component vs pixel DBSCAN on their masks)."""
    torch.set_num_threads(cfg.threads)
    uploads = make_uploads(synth_dir, cfg.size, cfg.seed)
    icfg = InputConfig(size=cfg.size, accepted=CHANNELS)
    history = FlareHistory.load(xrs=str(synth_dir))
    rate_before = gemm_rate(cfg.gemm_size)
    arms = build_arms(models, cfg)
    logs: dict[str, list[dict[str, Any]]] = {a: [] for a in arms}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        totals = interleave({a: _runner(arm, uploads, icfg, history, logs[a])
                             for a, arm in arms.items()}, cfg.repeats, cfg.warmup,
                            progress=progress)
    rate_after = gemm_rate(cfg.gemm_size)
    # The tiny ViTs' own GEMM shape (256 tokens × 64-d → 256): what their matmuls can reach.
    rate_small = gemm_rate(256, repeats=50, k=64, n=256)
    rate = max(rate_before, rate_after)
    flops = model_flops(models, uploads, icfg, history)
    parts = analysis_parts(models, uploads, icfg, history, max(3, cfg.repeats), untrained)
    timed = {a: rows[cfg.warmup:] for a, rows in logs.items()}
    stages = {a: {k: summary([r[k] for r in rows])
                  for k in (*STAGES, "cycle", "end_to_end")} for a, rows in timed.items()}
    ratios = {a: {k: ratio([r[k] for r in timed[a]], [r[k] for r in timed["default"]])
                  for k in ("analysis", "forecast", "cycle", "end_to_end")}
              for a in timed if a != "default"} if "default" in timed else {}
    floor = {k: floor_seconds(v, rate) for k, v in flops.items()}
    default = stages.get("default") or next(iter(stages.values()))
    model_stages = ("perception", "analysis", "forecast")
    sets = {"shipped": ("default", models, flops)}
    if "small_untrained" in arms:
        small = arms["small_untrained"].models
        sets["small"] = ("small_untrained", small, model_flops(small, uploads, icfg, history))
    return {
        "stages": stages,
        "analysis_parts": parts,
        "end_to_end_totals": {a: summary(v) for a, v in totals.items()},
        "ratios_vs_default": ratios,
        "flops": flops,
        "gemm_rate_flops_per_s": {"before": rate_before, "after": rate_after, "used": rate,
                                  "size": cfg.gemm_size, "threads": cfg.threads,
                                  "token_shaped_256x64x256": rate_small},
        "floor_s": floor,
        "ratio_to_floor": {
            "cycle": default["cycle"]["median"] / floor["total"],
            "model_stages": {k: default[k]["median"] / floor[k] if floor[k] else None
                             for k in model_stages}},
        "model_sets": {k: floor_report(timed[a], m, f, rate) for k, (a, m, f) in sets.items()
                       if a in timed},
        "regions": {a: sorted({r["regions"] for r in rows}) for a, rows in timed.items()},
        "same_entities": {a: all(r["areas"] == timed[a][0]["areas"] for r in rows)
                          and rows[0]["areas"] == timed[cfg.arms[0]][0]["areas"]
                          for a, rows in timed.items() if a != "small_untrained"},
        "params_M": params_m(models),
        "versions": models.versions(),
        "p50_cycle_s": statistics.median([r["cycle"] for r in timed[cfg.arms[0]]]),
        "per_round": {a: [{k: round(float(v), 4) for k, v in r.items()
                           if isinstance(v, int | float)} for r in rows]
                      for a, rows in timed.items()},
        "areas_msh": {a: rows[0]["areas"] for a, rows in timed.items()},
        "mean_regions": float(np.mean([r["regions"] for r in timed[cfg.arms[0]]])),
    }


__all__ = ["CHANNELS", "STAGES", "CycleBenchConfig", "build_arms", "channels_last",
           "floor_report", "make_uploads", "model_flops", "run", "small_models"]
