"""``solarray demo``: the whole path on the embedded default, a local Ray and bundled data.

synthetic Suns (+ the real sunpy sample FITS) → Ray Data ingest → MAE pretraining with physics-prior
masking (Ray Train) → SPNet (segmentation) → Hale/McIntosh classifiers → FPNet (full disk and per
AR) trained on the tables the served chain computes (and, as an upper bound, on the truth) → one
perception → analysis → forecast cycle on a held-out January sample: the region table and flare
probabilities printed, the situational map PNG, the HTML report and ``scores.json`` written. The checkpoints land
where ``solarray serve`` looks for them (:func:`solarray.core.checkpoints.default_checkpoint_dir`).

Every stage calls the same library function its command calls (``solarray pretrain`` →
:func:`solarray.train.pretraining.run_pretraining`, ``label init``/``retrain`` →
:func:`solarray.train.chain.train_spnet`,
``train-fpnet`` → :func:`solarray.forecast.fpnet_run.run_fpnet_training`); nothing here is
demo-only science. Independent Suns in January (test), March (validation), February and April (training) so
that the held-out scores are measured on Suns the models never saw (as on the benchmark Sun,
:mod:`solarray.benchmarks.sun`).
"""

from __future__ import annotations

import os
import shutil
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from solarray.core.atomic import atomic_path, write_bytes, write_json
from solarray.core.checkpoints import MODEL_FILE, ROLE_FILES, default_checkpoint_dir
from solarray.core.ray_connect import connect
from solarray.data.dataset import assign_splits
from solarray.data.preprocess import PreprocessConfig, preprocess_file
from solarray.data.quality import measure_limb
from solarray.data.synthetic import forecast_set
from solarray.demo.report import (
    AUTOMATIC,
    UPPER_BOUND,
    held_out_skill,
    regions_vs_truth,
    write_report,
)
from solarray.forecast.features import write_table
from solarray.forecast.fpnet_run import run_fpnet_training
from solarray.forecast.training import FPNetTrainConfig
from solarray.pipeline.batch import forecast_shards
from solarray.pipeline.feature_tables import TABLE_ROLES, build_tables, run_sample_ids
from solarray.pipeline.flare_history import FlareHistory
from solarray.pipeline.model_set import load_models
from solarray.train.chain import train_classifiers, train_spnet
from solarray.train.config import TrainConfig
from solarray.train.pretraining import run_pretraining
from solarray.viz.forecast_map import map_png

DEMO_CHANNELS = ("hmi_m", "aia193", "aia304")  # SPNet: HMI/193/304; FPNet: HMI + 304


#: Independent synthetic Suns per calendar month: January = test, March = validation, February
#: and April = training (the time split of :func:`solarray.data.dataset.assign_splits`).
DEMO_MONTHS = (1, 2, 3, 4)

#: Activity of the first and second Sun of each month (1 ≈ solar maximum; the benchmark Sun's
#: levels, :data:`~solarray.data.synthetic.benchmark_sun.ACTIVITY_LEVELS`): the training Suns
#: hold every level and the test month spans quiet to active, so probabilities calibrated at one
#: base rate show it. The first January Sun (the cycle's observation) is an active one.
DEMO_ACTIVITY = {1: (1.0, 0.3), 2: (1.35, 0.3), 3: (1.0, 0.65), 4: (0.65, 1.0)}


#: Steps of SPNet and of each FPNet run per ``DemoConfig.steps``: SPNet's features are a few
#: pixels wide at demo sizes, and FPNet's wide path (a logistic regression on the physical
#: inputs) needs a few hundred steps at lr 1e-3 to move from zero.
SPNET_STEPS_PER_STEP = 4
FPNET_STEPS_PER_STEP = 4


@dataclass
class DemoConfig:
    out: str = "demo_out"
    suns_per_month: int = 2
    days: float = 5.0  # per synthetic Sun
    cadence_hours: float = 4.0
    size: int = 128
    seed: int = 0
    steps: int = 60  # per training stage
    num_cpus: int = 2
    checkpoint_dir: str | None = None  # default: where `solarray serve` looks

    def __post_init__(self) -> None:
        if self.size < 32 or self.size % 16:
            raise ValueError(f"size: expected a multiple of 16 ≥ 32, got {self.size}")
        if not 2 <= self.days <= 10:
            raise ValueError(f"days: expected 2–10 days per synthetic Sun (each stays in its "
                             f"month), got {self.days}")
        if self.suns_per_month < 1 or self.suns_per_month > 2:
            raise ValueError(f"suns_per_month: expected 1 or 2, got {self.suns_per_month}")
        if self.steps < 10:
            raise ValueError(f"steps: expected ≥ 10, got {self.steps}")

    def runs(self) -> list[forecast_set.SynthRun]:
        """One run per Sun, on the 3rd and 14th of each month (the 24-h gaps cut nothing), at the
        month's :data:`DEMO_ACTIVITY`."""
        return [forecast_set.SynthRun(f"2024-{m:02d}-{(3, 14)[k]:02d}T00:00", self.days,
                                      self.seed * 100 + 2 * i + k, DEMO_ACTIVITY[m][k])
                for i, m in enumerate(DEMO_MONTHS) for k in range(self.suns_per_month)]


@dataclass
class StageLog:
    """Wall-clock seconds and a one-line result per stage, for the console and the report."""

    rows: list[tuple[str, float, str]] = field(default_factory=list)

    def run(self, name: str, fn, describe=lambda r: ""):
        n = len(self.rows) + 1
        print(f"\n[{n}/{N_STAGES}] {name} ...", flush=True)
        t = time.perf_counter()
        result = fn()
        dt = time.perf_counter() - t
        note = describe(result)
        self.rows.append((name, dt, note))
        print(f"[{n}/{N_STAGES}] {name}: done in {dt:.1f} s{' — ' + note if note else ''}", flush=True)
        return result


N_STAGES = 9


def _real_files() -> list[dict]:
    """The real AIA and HMI sample files shipped with sunpy through the same preprocessing."""
    from sunpy.data.test import get_test_filepath

    rows = []
    for name in ("aia_171_level1.fits", "resampled_hmi.fits"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pre = preprocess_file(get_test_filepath(name), cfg=PreprocessConfig(size=128))
        rows.append({"file": name, "channel": pre.info["channel"],
                     "limb_radius_rsun": round(float(measure_limb(pre.data)), 3)})
    return rows


def _latest_model(fit_result) -> Path:
    ckpt = Path(fit_result.checkpoint)
    model = ckpt / MODEL_FILE
    return model if model.exists() else ckpt


def _runs_in(split: str, cfg: DemoConfig, run_dirs: list[Path]) -> list[Path]:
    """The run directories of the Suns in ``split`` of the time split (by their start)."""
    starts = np.array([r.start for r in cfg.runs()], dtype="datetime64[s]")
    return [d for d, s in zip(run_dirs, assign_splits(starts), strict=True) if s == split]


def _pipeline_tables(root: Path, ckpt_dir: Path, out: Path) -> dict[str, Path]:
    """FPNet's per-region and disk tables from the served perception and analysis
    (:func:`solarray.pipeline.feature_tables.build_tables`) with the demo's SPNet and
    classifiers; → mode → table path."""
    models = load_models(roles=TABLE_ROLES, checkpoint_dir=ckpt_dir, channels=DEMO_CHANNELS)
    tables = build_tables(root, models)
    return {"ar": write_table(tables.ar, out / "pipeline_ar.parquet"),
            "full-disk": write_table(tables.disk, out / "pipeline_disk.parquet")}


def run_demo(cfg: DemoConfig) -> dict:
    """Run every stage; returns the forecast response (also written to ``out/forecast.json``)."""
    out = Path(cfg.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    ckpt_dir = Path(cfg.checkpoint_dir).expanduser() if cfg.checkpoint_dir else default_checkpoint_dir()
    ckpt_dir.mkdir(parents=True, exist_ok=True)
    storage = out / "ray_results"
    log = StageLog()
    t_total = time.perf_counter()
    connect(num_cpus=cfg.num_cpus, quiet=False)  # local instance unless $RAY_ADDRESS is set

    root = out / "suns"
    shards = root / "shards"
    runs = cfg.runs()
    log.run("synthetic Suns + ingest (Ray Data)", lambda: forecast_set.make_synthetic_set(
        root, runs, size=cfg.size, cadence_minutes=cfg.cadence_hours * 60,
        channels=DEMO_CHANNELS, ingest_workers=cfg.num_cpus),
        lambda r: f"{len(runs)} Suns × {cfg.days:g} days ({cfg.suns_per_month} per month, "
                  f"Jan test, Mar validation, Feb/Apr training) → {shards}")
    run_dirs = forecast_set.run_dirs(root)
    # The cycle's observation: the last of the first held-out (January) Sun, never trained on.
    synth_dir = _runs_in("test", cfg, run_dirs)[0]
    real = log.run("real sunpy sample files", _real_files,
                   lambda r: ", ".join(f"{x['channel']} limb at {x['limb_radius_rsun']} R☉" for x in r))

    # `solarray pretrain --model mae_vit --masking ppam --preset tiny --workers 1 ...`
    mae_cfg = TrainConfig.from_dict({
        "model": "mae_vit", "num_workers": 1, "steps": cfg.steps, "run_name": "demo-mae",
        "storage_path": str(storage), "checkpoint_every": cfg.steps,
        "model_config": {"preset": "tiny", "image_size": cfg.size,
                         "masking": {"strategy": "ppam"}}}, source="demo")
    mae = log.run("MAE pretraining, PPAM masking (Ray Train)",
                  lambda: run_pretraining(mae_cfg, data=str(shards)),
                  lambda r: f"step {r.final_step}, loss {r.metrics.get('loss', float('nan')):.4f}")
    mae_model = _latest_model(mae)

    # Features are a few pixels wide at demo sizes: SPNet needs more steps than the other
    # stages (SPNET_STEPS_PER_STEP) and the Dice term to predict any foreground at all.
    def spnet():
        return train_spnet(shards, out / "labels", ckpt_dir,
                           steps=SPNET_STEPS_PER_STEP * cfg.steps,
                           storage=storage, run_name="demo-spnet", encoder=str(mae_model))
    log.run("SPNet segmentation (Ray Train)", spnet, lambda s: f"step {s}")

    log.run("Hale / McIntosh classifiers (training Suns only)",
            lambda: train_classifiers(_runs_in("train", cfg, run_dirs), ckpt_dir, seed=cfg.seed,
                                      storage=storage, prefix="demo", log=lambda *_: None),
            lambda r: f"{r['n_crops']} AR crops")

    fpnet_dirs = {mode: out / f"fpnet_{mode}" for mode in ("full-disk", "ar")}
    truth_dirs = {mode: out / f"fpnet_truth_{mode}" for mode in ("full-disk", "ar")}
    def fpnet():
        # The tables FPNet trains on come from the chain it will be served with.
        paths = _pipeline_tables(root, ckpt_dir, out / "tables")
        for mode, role in (("full-disk", "fpnet_full_disk"), ("ar", "fpnet_ar")):
            for arm, dirs, source in ((AUTOMATIC, fpnet_dirs, {"table": str(paths[mode])}),
                                      (UPPER_BOUND, truth_dirs, {"synthetic": str(root)})):
                name = "fpnet" if arm == AUTOMATIC else "fpnet-truth"
                fp_cfg = FPNetTrainConfig(  # `solarray train-fpnet --mode MODE --encoder MAE ...`
                    mode=mode.replace("-", "_"), model_config={"preset": "tiny"},
                    encoder_checkpoint=str(mae_model), steps=FPNET_STEPS_PER_STEP * cfg.steps,
                    storage_path=os.path.abspath(storage), run_name=f"demo-{name}-{mode}")
                result, _ = run_fpnet_training(fp_cfg, str(shards), str(dirs[mode]), **source)
                print(result.reports["test"].table(f"FPNet {fp_cfg.mode}, {arm} (test)"))
            shutil.copy(fpnet_dirs[mode] / MODEL_FILE, ckpt_dir / ROLE_FILES[role])
        return {AUTOMATIC: held_out_skill(fpnet_dirs), UPPER_BOUND: held_out_skill(truth_dirs)}
    skill = log.run("FPNet on the served chain's tables (full disk + per AR)", fpnet,
                    lambda r: "; ".join(f"{m}: ROCA {_fmt(v.get('roca'))}, BSS {_fmt(v.get('bss'))}"
                                        for m, v in r[AUTOMATIC].items()))

    response = log.run("forecast cycle on the newest sample",
                       lambda: _cycle(root, synth_dir, ckpt_dir, cfg, out),
                       lambda r: f"{len(r['regions'])} regions, P(≥M, 24 h, disk) = "
                                 f"{_fmt(r['full_disk']['p_m24'])}")
    truth = log.run("regions against the synthetic truth",
                    lambda: regions_vs_truth(response, synth_dir),
                    lambda m: f"{m['n_matched']} matched, {m['n_missed']} missed, "
                              f"{m['n_false']} false, median area ratio "
                              f"{_fmt(m.get('median_area_ratio'))}")
    log.run("report", lambda: write_report(out, response, log.rows, real, skill, truth,
                                           asdict(cfg), ckpt_dir), lambda p: str(p))
    write_json(out / "scores.json", {  # what docs/results/demo.json records
        "held_out": skill, "regions_vs_truth": truth, "observation": response.get(
            "observation_time"), "truth_sun": synth_dir.name, "config": asdict(cfg),
        "stages_s": {n: round(dt, 1) for n, dt, _ in log.rows}}, indent=1, default=str)
    print(f"\nsolarray demo finished in {time.perf_counter() - t_total:.0f} s")
    _print_table(response)
    print(f"\nsituational map: {out / 'situational_map.png'}\nreport: {out / 'report.html'}\n"
          f"checkpoints (used by `solarray serve`): {ckpt_dir}")
    return response


def _fmt(p) -> str:
    return "n/a" if p is None else f"{float(p):.2f}"


def _cycle(root: Path, synth_dir: Path, ckpt_dir: Path, cfg: DemoConfig, out: Path) -> dict:
    tables = synth_dir / "tables"
    history = FlareHistory.load(xrs=str(tables / "xrs.parquet"), events=str(tables / "events.parquet"),
                                indices=str(tables / "indices.parquet"))
    models = load_models(checkpoint_dir=ckpt_dir, channels=DEMO_CHANNELS)
    # Batch forecasting on that Sun's newest sample: what `solarray cycle` runs.
    last = run_sample_ids(root)[synth_dir][-1:]
    result = next(forecast_shards(root / "shards", models, history=history, sample_ids=last))
    response = result.to_json()
    write_json(out / "forecast.json", response, indent=2, default=str)
    write_bytes(out / "situational_map.png", map_png(result.map_inputs(), dpi=110))
    with atomic_path(out / "regions.csv") as tmp:
        pd.DataFrame(response["regions"]).to_csv(tmp, index=False)
    return response


def _print_table(response: dict) -> None:
    regions = response.get("regions", [])
    print(f"\nobservation {response.get('observation_time')}: {len(regions)} active regions")
    print(f"{'AR':>4} {'lon':>7} {'lat':>6} {'area MSH':>9} {'Hale':>7} {'McI':>4} {'P(≥M)':>6}")
    for r in regions:
        print(f"{r.get('number', ''):>4} {_num(r.get('hgs_lon')):>7} {_num(r.get('hgs_lat')):>6} "
              f"{_num(r.get('area_msh'), 0):>9} {str(r.get('hale') or '-'):>7} "
              f"{str(r.get('mcintosh') or '-'):>4} {_fmt(r.get('p_m24')):>6}")
    print(f"full-disk P(≥M flare in 24 h): {_fmt(response.get('full_disk', {}).get('p_m24'))}")


def _num(v, digits: int = 1) -> str:
    return "-" if v is None else f"{float(v):.{digits}f}"
