"""The forecaster a user gets, measured: the automatic chain on the benchmark Sun's held-out Suns.

One run trains the chain the service runs — SPNet and the Hale/McIntosh CNNs on the training
Suns (:mod:`solarray.train.chain`) — builds FPNet's tables with it
(:func:`solarray.pipeline.feature_tables.build_tables`), and scores, on the same split:

* ``automatic_chain`` — FPNet trained and tested on the pipeline tables (the product);
* ``fpnet_truth`` — FPNet on the synthetic truth's features: an upper bound, not the product;
* baselines on the *same pipeline features*: ``climatology`` (the training base rate),
  ``persistence`` (a ≥M flare in the region / on the disk in the past 24 h, from the located
  XRS history), ``logistic`` (log R, area, flare index), ``hale_rates`` (the training rate of
  each pipeline-predicted Hale class); for the full disk also ``logistic_combined`` (the
  per-region logistic regression combined as 1 − Π(1 − p_i)).

Beside them, two readings of where skill is lost:

* ``oracle`` — the generator's own probability of a ≥M flare (:mod:`solarray.data.synthetic.
  oracle`: the hidden PIL flux and future strength of each region). Not a forecast: the ceiling
  that the flares' randomness leaves to any forecast of this Sun;
* ``stages`` (per region) — the chain with one stage's output swapped for its truth counterpart
  on the regions it detected (``classes``: true Hale/McIntosh; ``area``: true area; ``r``: the
  true PIL flux at the region's strength then, for IATools' Schrijver R; ``all``: the three),
  FPNet (every seed) and the logistic regression retrained on each: the rise over the chain is
  that stage's cost. What is left between ``all`` and ``fpnet_truth`` is detection (missed and
  spurious regions) and the located flare history.

Every forecast is Platt-calibrated on the validation Suns. Test scores: ROCA and BSS with 95 %
bootstrap intervals resampling true regions (per region) or days (full disk), TSS at the
validation-chosen threshold; FPNet arms mean ± std over seeds; paired intervals of the automatic
chain against each baseline (the seed-mean score difference on the same resamples).
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from solarray.benchmarks.fpnet import calibrated, intervals, score_groups, scores, with_raw
from solarray.benchmarks.runs import ProtocolConfig
from solarray.benchmarks.truth_swaps import STAGE_COLUMNS, truth_swapped
from solarray.core.checkpoints import MODEL_FILE, ROLE_FILES
from solarray.data.dataset import assign_splits
from solarray.data.synthetic import forecast_set
from solarray.data.synthetic.oracle import disk_oracle, oracle_columns, run_suns
from solarray.forecast.baselines import climatology, logistic_baseline
from solarray.forecast.examples import Examples, build_examples, config_view, split_examples
from solarray.forecast.features import (
    full_disk_table,
    load_feature_table,
    read_table,
    write_table,
)
from solarray.forecast.frames import load_frames, select_channels
from solarray.forecast.prediction import disk_from_regions, forecast_table
from solarray.forecast.training import FPNetTrainConfig, model_config_for, train_fpnet
from solarray.metrics.bootstrap import SCORES, paired_interval
from solarray.pipeline.feature_tables import TABLE_ROLES, build_tables
from solarray.pipeline.model_set import load_models
from solarray.train.chain import train_classifiers, train_spnet

CHAIN_SCALARS = ("log_r", "area_msh", "flare_index")
LOG_SCALARS = ("area_msh", "flare_index")


@dataclass
class ChainBenchmarkConfig(ProtocolConfig):
    runs_dir: str = ".cache/benchmark_runs/automatic_chain"
    channels: tuple[str, ...] = ("hmi_m", "aia304")  # SA-AI 2025: HMI magnetogram + AIA 304 Å
    spnet_steps: int = 400
    classifier_epochs: int = 3
    ar_steps: int = 400
    disk_steps: int = 300
    batch_size: int = 32
    lr: float = 1e-3
    ar_image_size: int = 32
    model_config: dict = field(default_factory=lambda: {"preset": "tiny"})
    n_boot: int = 1000

    def __post_init__(self) -> None:
        self.seeds, self.channels = tuple(self.seeds), tuple(self.channels)
        if not self.seeds:
            raise ValueError("seeds: expected at least one seed (the protocol wants ≥ 3)")


def train_chain(cfg: ChainBenchmarkConfig, log: Callable[[str], None]) -> Path:
    """SPNet and the classifiers on the benchmark Sun's training Suns, into
    ``runs_dir/checkpoints`` (reused when complete)."""
    root, runs = Path(cfg.root), Path(cfg.runs_dir).resolve()
    ckpt = runs / "checkpoints"
    ckpt.mkdir(parents=True, exist_ok=True)
    if not (ckpt / "spnet.pt").exists():
        t = time.perf_counter()
        train_spnet(root / "shards", runs / "labels", ckpt, steps=cfg.spnet_steps,
                    storage=runs, run_name="chain-spnet", log=lambda *_: None)
        log(f"[chain] SPNet: {time.perf_counter() - t:.0f} s")
    if not (ckpt / "mcintosh.pt").exists():
        dirs = forecast_set.run_dirs(root)
        starts = np.array([d.name.split("_")[1] for d in dirs], dtype="datetime64[s]")
        train_dirs = [d for d, s in zip(dirs, assign_splits(starts), strict=True) if s == "train"]
        train_classifiers(train_dirs, ckpt, seed=0, storage=runs, epochs=cfg.classifier_epochs,
                          prefix="chain", log=lambda *_: None)
    return ckpt


def chain_tables(cfg: ChainBenchmarkConfig, ckpt: Path, log: Callable[[str], None]
                 ) -> dict[str, pd.DataFrame]:
    """The pipeline tables (``ar``, ``disk``) of every benchmark Sun (cached next to the chain)."""
    paths = {k: Path(cfg.runs_dir) / f"pipeline_{k}.parquet" for k in ("ar", "disk")}
    if not all(p.exists() for p in paths.values()):
        t = time.perf_counter()
        models = load_models(roles=TABLE_ROLES, checkpoint_dir=ckpt,
                             channels=("hmi_m", "aia193", "aia304"))
        tables = build_tables(cfg.root, models)
        write_table(tables.ar, paths["ar"])
        write_table(tables.disk, paths["disk"])
        log(f"[chain] pipeline tables: {len(tables.ar)} region rows, {len(tables.disk)} "
            f"observations, {time.perf_counter() - t:.0f} s")
    return {k: read_table(p) for k, p in paths.items()}


def oracle(splits: dict[str, Examples], suns, mode: str) -> dict[str, pd.DataFrame]:
    """The generator's own probabilities (:mod:`solarray.data.synthetic.oracle`) for the
    validation and test rows: the ceiling row, not a forecast."""
    out = {}
    for k in ("val", "test"):
        rows = splits[k].rows
        p = oracle_columns(rows, suns)["oracle"].to_numpy() if mode == "ar" \
            else disk_oracle(rows, suns)
        out[k] = forecast_table(splits[k], p, p)
    return out


def stage_costs(cfg: ChainBenchmarkConfig, frames, table: pd.DataFrame, truth: pd.DataFrame,
                suns, log: Callable[[str], None]) -> dict[str, Any]:
    """Per region: FPNet (every seed) and the logistic regression on the chain's table with
    each stage swapped for its truth (:func:`truth_swapped`) → ``{stage: {"fpnet": [scores per
    seed], "logistic": scores}}``."""
    true_r = oracle_columns(table, suns)["true_r"].to_numpy()
    out: dict[str, Any] = {}
    for stage in STAGE_COLUMNS:
        swapped = truth_swapped(table, truth, true_r, stage)
        runs = [_fpnet(cfg, "ar", frames, swapped, seed, f"swap_{stage}", log)
                for seed in cfg.seeds]
        ex = with_scalars(_examples(cfg, "ar", frames, swapped), CHAIN_SCALARS)
        lr = logistic_baseline(ex, list(CHAIN_SCALARS), list(LOG_SCALARS), [])
        out[stage] = {"fpnet": [_scored(cfg, r["val"], r["test"]) for r in runs],
                      "logistic": _scored(cfg, lr["val"], lr["test"])}
    return out


def serving_set(cfg: ChainBenchmarkConfig, out: str | Path, seed: int | None = None) -> Path:
    """The measured chain as a checkpoint directory ``solarray serve``/``watch`` load
    (:data:`~solarray.core.checkpoints.ROLE_FILES`): SPNet and the classifiers of the run, and
    the automatic-chain FPNet runs (per region, full disk) of ``seed`` (default: the first)."""
    seed = cfg.seeds[0] if seed is None else seed
    runs = Path(cfg.runs_dir)
    sources = {"spnet": runs / "checkpoints" / ROLE_FILES["spnet"],
               "hale": runs / "checkpoints" / ROLE_FILES["hale"],
               "mcintosh": runs / "checkpoints" / ROLE_FILES["mcintosh"],
               "fpnet_ar": runs / f"ar_automatic_chain_s{seed}" / MODEL_FILE,
               "fpnet_full_disk": runs / f"full_disk_automatic_chain_s{seed}" / MODEL_FILE}
    missing = [str(p) for p in sources.values() if not p.exists()]
    if missing:
        raise FileNotFoundError(f"the chain benchmark has not finished seed {seed}: missing "
                                f"{', '.join(missing)}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for role, src in sources.items():
        tmp = out / f".{ROLE_FILES[role]}.tmp"
        shutil.copyfile(src, tmp)
        tmp.replace(out / ROLE_FILES[role])
    return out


def _column(ex: Examples, name: str) -> np.ndarray:
    return pd.to_numeric(ex.rows[name], errors="coerce").fillna(0).to_numpy(float) \
        if name in ex.rows.columns else np.zeros(len(ex))


def persistence(splits: dict[str, Examples]) -> dict[str, pd.DataFrame]:
    """1 when the pipeline's flare history has a ≥M flare (of the region / the disk) in the past
    24 h, else 0 (raw; calibrated on validation like every arm)."""
    out = {}
    for k in ("val", "test"):
        p = ((_column(splits[k], "n_m") + _column(splits[k], "n_x")) > 0).astype(float)
        out[k] = forecast_table(splits[k], p, p)
    return out


def hale_rates(splits: dict[str, Examples]) -> dict[str, pd.DataFrame]:
    """The training split's ≥M rate of each pipeline-predicted Hale class (unknown: overall)."""
    tr = splits["train"]
    known = tr.label >= 0
    hale = tr.rows["hale"].astype(str).to_numpy() if "hale" in tr.rows else np.full(len(tr), "")
    base = float(tr.label[known].mean())
    rates = {h: float(tr.label[known & (hale == h)].mean()) for h in set(hale[known])}
    out = {}
    for k in ("val", "test"):
        h = splits[k].rows["hale"].astype(str).to_numpy() if "hale" in splits[k].rows \
            else np.full(len(splits[k]), "")
        p = np.array([rates.get(x, base) for x in h])
        out[k] = forecast_table(splits[k], p, p)
    return out


def _train_config(cfg: ChainBenchmarkConfig, mode: str, frames, seed: int,
                  arm: str) -> FPNetTrainConfig:
    size = cfg.ar_image_size if mode == "ar" else frames.image.shape[-1]
    return FPNetTrainConfig(
        mode=mode, model_config={**cfg.model_config, "image_size": size},
        steps=cfg.ar_steps if mode == "ar" else cfg.disk_steps, batch_size=cfg.batch_size,
        lr=cfg.lr, seed=seed, storage_path=str(Path(cfg.runs_dir).resolve()),
        run_name=f"{mode}_{arm}_s{seed}")


def _fpnet(cfg: ChainBenchmarkConfig, mode: str, frames, table: pd.DataFrame, seed: int,
           arm: str, log: Callable[[str], None]) -> dict[str, pd.DataFrame]:
    """FPNet's validation and test forecasts for one arm and seed: trained, or read back from a
    finished run of the same name (``model.pt`` and both forecast CSVs in its directory: a
    benchmark stopped after its training resumes without retraining)."""
    tcfg = _train_config(cfg, mode, frames, seed, arm)
    out = Path(cfg.runs_dir) / tcfg.run_name
    done = {k: out / f"forecasts_{k}.csv" for k in ("val", "test")}
    if (out / "model.pt").exists() and all(p.exists() for p in done.values()):
        log(f"[chain] {mode} {arm} seed {seed}: finished run reused ({out})")
        return {k: pd.read_csv(p) for k, p in done.items()}
    t = time.perf_counter()
    res = train_fpnet(tcfg, frames, table, out, log=lambda s: None)
    log(f"[chain] {mode} {arm} seed {seed}: {time.perf_counter() - t:.0f} s")
    return res.forecasts


def _examples(cfg: ChainBenchmarkConfig, mode: str, frames, table: pd.DataFrame
              ) -> dict[str, Examples]:
    """The train/val/test examples FPNet is trained and scored on (for the baselines)."""
    tcfg = _train_config(cfg, mode, frames, cfg.seeds[0], "examples")
    mc = config_view({**model_config_for(tcfg, frames.channels), "channels": frames.channels})
    ex = build_examples(frames, table, mc, tcfg.tolerance_minutes)
    return split_examples(ex, tcfg.val_months, tcfg.test_months, tcfg.gap_hours)


def with_scalars(splits: dict[str, Examples], names: Sequence[str]) -> dict[str, Examples]:
    """``splits`` whose ``scalars`` are the table columns ``names`` (in that order), so a
    baseline's features are chosen by name, not by FPNet's column order."""
    out = {}
    for k, ex in splits.items():
        cols = [pd.to_numeric(ex.rows[n], errors="coerce").to_numpy(np.float64)
                if n in ex.rows.columns else np.full(len(ex), np.nan) for n in names]
        scal = np.stack(cols, axis=1).astype(np.float32) if cols else \
            np.zeros((len(ex), 0), np.float32)
        out[k] = Examples(ex.image, scal, ex.categories, ex.label, ex.rows, ex.dropped)
    return out


def _scored(cfg: ChainBenchmarkConfig, val: pd.DataFrame, test: pd.DataFrame) -> dict[str, Any]:
    """Point scores plus bootstrap intervals of one arm's forecasts."""
    val, test = with_raw(val), with_raw(test)
    known = test[test["observed"] >= 0]
    return {**scores(val, test), **intervals(val, test, cfg.n_boot), "n": int(len(known)),
            "events": int(known["observed"].sum())}


def _paired(cfg: ChainBenchmarkConfig, chain: list[tuple[pd.DataFrame, pd.DataFrame]],
            base: tuple[pd.DataFrame, pd.DataFrame], score_fns=None) -> dict[str, Any]:
    """The automatic chain (seed mean) minus a baseline, ROCA and BSS (or ``score_fns``: name →
    bootstrap score of calibrated probabilities), on the same resamples of the test forecasts
    both made (matched by time, Sun and region)."""
    bval, btest = with_raw(base[0]), with_raw(base[1])
    tk = btest[btest["observed"] >= 0].reset_index(drop=True)
    keys = [k for k in ("time", "run", "ar") if k in tk.columns]
    # a key twice (the time step two consecutive Suns share, when a table has no ``run``) has
    # no single partner: left out
    tk = tk[~tk.duplicated(keys, keep=False)].reset_index(drop=True)
    want = pd.MultiIndex.from_frame(tk[keys].astype(str))
    pa = []
    for val, test in chain:
        val, test = with_raw(val), with_raw(test)
        test = test.assign(probability_raw=calibrated(val, test))
        test = test[~test.duplicated(keys, keep=False)]
        p = pd.Series(test["probability_raw"].to_numpy(),
                      index=pd.MultiIndex.from_frame(test[keys].astype(str)))
        pa.append(p.reindex(want).to_numpy(float))
    pa = np.stack(pa)
    both = np.isfinite(pa).all(axis=0)
    tk = tk[both].reset_index(drop=True)
    groups, _ = score_groups(tk)
    out = {name: paired_interval(fn, tk["observed"].to_numpy(), pa[:, both],
                                 calibrated(bval, tk), groups, n_boot=cfg.n_boot)
           for name, fn in (SCORES if score_fns is None else score_fns).items()}
    return {**out, "n": int(both.sum())}


def run(cfg: ChainBenchmarkConfig, log: Callable[[str], None] = print) -> dict:
    """Train the chain, build its tables, score every arm; → ``{"per_seed", "baselines",
    "paired", "info"}`` per mode (``ar``, ``full_disk``) and ``{"stages": {"ar": …}}``
    (:func:`stage_costs`)."""
    Path(cfg.runs_dir).mkdir(parents=True, exist_ok=True)
    ckpt = train_chain(cfg, log)
    tables = chain_tables(cfg, ckpt, log)
    frames = select_channels(load_frames(Path(cfg.root) / "shards"), cfg.channels)
    truth = load_feature_table(synthetic=cfg.root)
    suns = run_suns(cfg.root)
    out: dict[str, Any] = {"per_seed": {"ar": {}, "full_disk": {}}, "baselines": {},
                           "paired": {}, "info": {}}
    forecasts: dict[str, dict[str, list]] = {"ar": {}, "full_disk": {}}
    chain = {"ar": tables["ar"], "full_disk": tables["disk"]}
    for seed in cfg.seeds:
        for mode, table in chain.items():
            fc = _fpnet(cfg, mode, frames, table, seed, "automatic_chain", log)
            pair = (fc["val"], fc["test"])
            forecasts[mode].setdefault("automatic_chain", []).append(pair)
            out["per_seed"][mode].setdefault("automatic_chain", []).append(_scored(cfg, *pair))
            truth_table = truth if mode == "ar" else full_disk_table(truth)
            tfc = _fpnet(cfg, mode, frames, truth_table, seed, "fpnet_truth", log)
            out["per_seed"][mode].setdefault("fpnet_truth", []).append(
                _scored(cfg, tfc["val"], tfc["test"]))
    splits = {mode: _examples(cfg, mode, frames, table) for mode, table in chain.items()}
    for mode, scal in (("ar", CHAIN_SCALARS), ("full_disk", ("log_r", "area_msh", "flare_index",
                                                             "n_ar"))):
        ex = splits[mode]
        base = {"climatology": (climatology(ex["train"], ex["val"]),
                                climatology(ex["train"], ex["test"]))}
        base["persistence"] = tuple(persistence(ex)[k] for k in ("val", "test"))
        lr = logistic_baseline(with_scalars(ex, scal), list(scal), list(LOG_SCALARS), [])
        base["logistic"] = (lr["val"], lr["test"])
        base["hale_rates"] = tuple(hale_rates(ex)[k] for k in ("val", "test"))
        base["oracle"] = tuple(oracle(ex, suns, mode)[k] for k in ("val", "test"))
        if mode == "full_disk":
            ar_lr = logistic_baseline(with_scalars(splits["ar"], CHAIN_SCALARS),
                                      list(CHAIN_SCALARS), list(LOG_SCALARS), [])
            labels = {k: pd.DataFrame({"t_obs": ex[k].rows["t_obs"], "label": ex[k].label})
                      for k in ("val", "test")}
            base["logistic_combined"] = tuple(disk_from_regions(ar_lr[k], labels[k])
                                              for k in ("val", "test"))
        out["baselines"][mode] = {name: _scored(cfg, *fc) for name, fc in base.items()}
        out["paired"][mode] = {name: _paired(cfg, forecasts[mode]["automatic_chain"], fc)
                               for name, fc in base.items()}
        out["info"][mode] = {k: int(len(v)) for k, v in ex.items()}
    out["stages"] = {"ar": stage_costs(cfg, frames, tables["ar"], truth, suns, log)}
    return out


__all__ = ["ChainBenchmarkConfig", "chain_tables", "hale_rates", "oracle", "persistence", "run",
           "serving_set", "stage_costs", "train_chain"]
