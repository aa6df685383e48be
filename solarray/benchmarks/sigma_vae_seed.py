"""sigma-VAE under the seed's protocol (Brown 2023): 12 channels, Table 1, F30 from image features.

A synthetic daily series of ``days`` (≥ 3 years) rendered with the nine AIA passbands and the HMI
vector field (``solarray synth --vector``) at ``size`` px and ingested at the same size (the
rendered FITS are the "native" data the manifest records). Per seed:

* a ``small`` sigma_vae pretrained with the generic loop on the training months (not January, not
  March), the seed's 12 channels;
* reconstruction of the test days (every January) per channel, trained vs untrained (same seed);
* F30 forecasts 1–4 days ahead, Extra Trees on image features only (the seed's protocol): the
  VAE's μ against a random-init ResNet-18 on 211 Å (pooled 512 features; ImageNet weights are not
  available offline; BatchNorm statistics estimated on the training frames) and persistence.

Per horizon: mean ± std over seeds and paired bootstrap 95 % intervals over test days of the
improvement over persistence (``1 − RMSE / RMSE_persistence``, the seeds' forecasts scored
together on each resample) and of RMSE_ResNet − RMSE_VAE. Compression: ``evaluate
reconstruction``'s report (Table 1 of this dataset, native and per-shard) for the seed-0 model.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from solarray.benchmarks.frames_fit import fit_frames
from solarray.benchmarks.runs import ProtocolConfig, pretrain_run
from solarray.compress.codec import encode, load_vae
from solarray.compress.latents import Latents, write_latents
from solarray.compress.native import MIB, model_mib, table1
from solarray.compress.report import metrics_for, reconstruction_report
from solarray.data import ingest as ing
from solarray.data import preprocess as pp
from solarray.data.dataset import assign_splits
from solarray.data.shard_reader import iter_rows
from solarray.data.synthetic.generator import SynthConfig, generate
from solarray.forecast.frames import Frames, ingest_frame, load_frames
from solarray.forecast.index_forecast import forecast_index, rmse
from solarray.forecast.index_series import split_of
from solarray.metrics.bootstrap import interval, paired_interval
from solarray.metrics.protocol import compare, summarise
from solarray.models import build
from solarray.models.resnet import ResNet18Features, calibrate_batchnorm, extract_features
from solarray.models.sigma_vae import BOTTLENECKS, SEED_CHANNELS, SigmaVAEConfig
from solarray.train.config import TrainConfig

ROW_KEYS = ("pixel_correlation", "ppe10", "ppe50", "rmse")
AIA = SEED_CHANNELS[:9]
#: Brown 2023 Table 1 (MB as printed) per bottleneck.
SEED_TABLE1 = {"original": 238174.5, "model": (131.1, 155.3, 203.3, 299.3),
               "reduced": (310.1, 620.2, 1240.5, 2481.0), "total": (441.2, 775.5, 1443.8, 2780.3),
               "percent": (0.19, 0.33, 0.61, 1.17)}


def table1_record() -> dict:
    """The seed's Table 1 from our ``paper`` preset (no data, no training): model MiB per
    bottleneck (unpadded, and "same"-padded for comparison), and the table at the N the seed's
    latent rows imply (N = 2481.0 MiB / (2048 · 4 B)) with the original = N × 12 × 128² float32
    values — the seed's own arithmetic."""
    paper = SigmaVAEConfig(**SigmaVAEConfig.PRESETS["paper"])
    same = SigmaVAEConfig(**{**SigmaVAEConfig.PRESETS["paper"], "padding": "same"})
    n = round(SEED_TABLE1["reduced"][-1] * MIB / (BOTTLENECKS[-1] * 4))
    original = n * len(paper.channels) * paper.image_size**2 * 4
    return {"model_mib_valid": {k: model_mib(paper, k) for k in BOTTLENECKS},
            "model_mib_same": {k: model_mib(same, k) for k in BOTTLENECKS},
            "seed_n": n, "table1_at_seed_n": table1(paper, n, original, original),
            "seed_table1": SEED_TABLE1}


@dataclass
class SeedProtocolConfig(ProtocolConfig):
    runs_dir: str = ".cache/benchmark_runs/sigma_vae_seed"
    series_root: str = ".cache/benchmark_runs/sigma_vae_series12"
    start: str = "2021-01-01T00:00"
    days: float = 1096.0  # 3 years of daily frames
    size: int = 64
    series_seed: int = 2029
    preset: str = "small"
    bottleneck: int = 128
    steps: int = 300
    batch_size: int = 16
    lr: float = 2e-3
    horizons: tuple[int, ...] = (1, 2, 3, 4)
    grid: tuple[int, ...] = (250, 500, 1000)
    n_boot: int = 1000
    resnet_channel: str = "aia211"
    in_process: bool = False  # read the shards with pyarrow and train without Ray

    def __post_init__(self) -> None:
        self.seeds, self.horizons, self.grid = tuple(self.seeds), tuple(self.horizons), \
            tuple(self.grid)


def make_series(cfg: SeedProtocolConfig, log: Callable[[str], None] = print) -> Path:
    """Render and ingest the 12-channel daily series once (reused while its spec is unchanged);
    ``series_root/indices.csv`` holds the daily F10.7/F30. Needs Ray (ingest)."""
    root = Path(cfg.series_root)
    spec = {k: getattr(cfg, k) for k in ("start", "days", "size", "series_seed")}
    done = root / "series.json"
    if done.exists() and json.loads(done.read_text()) == spec:
        return root
    synth = root / "synth"
    t = time.perf_counter()
    if not (synth / "synth.json").exists():
        generate(SynthConfig(start=cfg.start, hours=24.0 * cfg.days, cadence_minutes=1440.0,
                             size=cfg.size, seed=cfg.series_seed, channels=AIA, vector=True,
                             preview=False), synth)
    log(f"[sigma-vae-seed] rendered {cfg.days:g} days in {time.perf_counter() - t:.0f} s")
    ing.run_ingest(ing.IngestConfig(
        input=str(synth / "fits"), out_dir=str(root / "shards"), channels=SEED_CHANNELS,
        preprocess=pp.PreprocessConfig(size=cfg.size), cadence_minutes=1440.0,
        tables_dir=str(synth / "tables"), num_workers=1, shard_size=64), log=lambda s: None)
    pd.read_parquet(synth / "tables" / "indices.parquet").to_csv(root / "indices.csv",
                                                                  index=False)
    done.write_text(json.dumps(spec))
    log(f"[sigma-vae-seed] series ready in {time.perf_counter() - t:.0f} s")
    return root


def read_frames(shards: Path) -> Frames:
    """:func:`load_frames` read with pyarrow (no Ray): every sample sorted by time; no labels
    (``flare_m24`` −1, ``f107`` NaN)."""
    rows = sorted(iter_rows(shards), key=lambda r: r.t_obs)
    n = len(rows)
    return Frames(np.stack([r.image for r in rows]).astype(np.float32),
                  np.array([np.datetime64(r.t_obs, "s") for r in rows]),
                  np.full(n, -1, np.int64), np.full(n, np.nan, np.float32),
                  tuple(rows[0].channels), ingest_frame(shards))


def _train(cfg: SeedProtocolConfig, root: Path, frames: Frames, mcfg: dict, seed: int
           ) -> tuple[str, float, dict]:
    """One seed's VAE → (``model.pt`` path, wall seconds, final metrics): the Ray Train loop
    on the shards' training split, or (``in_process``) the same loop's step over the frames of
    that split (:func:`~solarray.data.dataset.assign_splits`, as the loop's time split)."""
    name = f"sigma_vae_seed_s{seed}"
    if not cfg.in_process:
        res, seconds = pretrain_run(
            str(root), cfg.runs_dir, name, model="sigma_vae", objective="sigma_vae",
            channels=SEED_CHANNELS, model_config=mcfg, steps=cfg.steps,
            batch_size=cfg.batch_size, lr=cfg.lr, seed=seed, warmup=20, reports=5)
        return (str(Path(str(res.checkpoint)) / "model.pt"), seconds,
                {k: res.metrics.get(k) for k in ("loss", "kl", "mse", "log_sigma")})
    tcfg = TrainConfig(model="sigma_vae", objective="sigma_vae", channels=SEED_CHANNELS,
                       model_config=dict(mcfg), steps=cfg.steps, batch_size=cfg.batch_size,
                       lr=cfg.lr, warmup_steps=min(20, cfg.steps - 1), seed=seed, run_name=name)
    t = time.perf_counter()
    train = frames.image[assign_splits(frames.t) == "train"]
    ckpt = fit_frames(train, tcfg, Path(cfg.runs_dir) / name)
    return str(ckpt / "model.pt"), time.perf_counter() - t, {}


def _features(path: Path, t: np.ndarray, x: np.ndarray, prefix: str) -> Path:
    cols = {"t_obs": pd.to_datetime(t, utc=True)}
    cols.update({f"{prefix}{i:04d}": x[:, i] for i in range(x.shape[1])})
    pd.DataFrame(cols).to_parquet(path)
    return path


def _pooled_improvement(y: np.ndarray, p: np.ndarray) -> float | None:
    """``1 − mean_s RMSE(y, p[:, s]) / RMSE(y, p[:, -1])``: the seeds' forecasts (every column
    but the last) against the reference (the last column)."""
    ref = rmse(y, p[:, -1])
    return None if not ref > 0 else 1.0 - float(np.mean([rmse(y, p[:, s])
                                                         for s in range(p.shape[1] - 1)])) / ref


def run(cfg: SeedProtocolConfig, log: Callable[[str], None] = print) -> dict:
    root = make_series(cfg, log)
    frames = read_frames(root / "shards") if cfg.in_process else load_frames(root / "shards")
    assert frames.channels == SEED_CHANNELS, frames.channels
    split = split_of(frames.t.astype("datetime64[D]"))
    test = frames.image[split == "test"]
    r = frames.channels.index(cfg.resnet_channel)
    work = Path(cfg.runs_dir)
    work.mkdir(parents=True, exist_ok=True)
    mcfg = {"preset": cfg.preset, "image_size": cfg.size, "bottleneck": cfg.bottleneck}
    per_seed: dict[str, list] = {k: [] for k in ("trained", "untrained", "forecast",
                                                 "train_metrics")}
    compression, ckpt0 = None, None
    for seed in cfg.seeds:
        ckpt, seconds, metrics = _train(cfg, root, frames, mcfg, seed)
        ckpt0 = ckpt0 or ckpt
        log(f"[sigma-vae-seed] seed {seed}: {cfg.steps} steps in {seconds:.0f} s, loss "
            f"{metrics.get('loss') or float('nan'):.4f}")
        per_seed["train_metrics"].append(metrics)
        model, _ = load_vae(ckpt)
        torch.manual_seed(seed)
        raw = build("sigma_vae", channels=SEED_CHANNELS, **mcfg).eval()
        with torch.no_grad():
            per_seed["trained"].append(metrics_for(model, test, SEED_CHANNELS, frames.frame_rsun))
            per_seed["untrained"].append(metrics_for(raw, test, SEED_CHANNELS,
                                                     frames.frame_rsun))
            mu, ls = encode(model, frames.image)
            torch.manual_seed(seed)
            net = calibrate_batchnorm(ResNet18Features(1), frames.image[split == "train"][:, [r]])
            res_x = extract_features(net, frames.image[:, [r]])
        lat = work / f"latents_s{seed}.parquet"
        write_latents(lat, Latents(frames.t, [str(t) for t in frames.t], mu, ls,
                                   {"model": "sigma_vae", "seed": seed}))
        resnet = _features(work / f"resnet18_s{seed}.parquet", frames.t, res_x, "resnet_")
        t = time.perf_counter()
        per_seed["forecast"].append(forecast_index(
            root / "indices.csv", "f30", lat, cfg.horizons, baseline_path=resnet, grid=cfg.grid,
            seed=seed, n_jobs=2, n_boot=cfg.n_boot))
        log(f"[sigma-vae-seed] seed {seed}: forecasting in {time.perf_counter() - t:.0f} s")
    compression = reconstruction_report(ckpt0, root / "shards", log=lambda s: None)
    compression.pop("rows")
    info = {"days": int(len(frames)), "train_days": int((split == "train").sum()),
            "val_days": int((split == "val").sum()), "test_days": int(len(test)),
            "size": cfg.size, "channels": list(SEED_CHANNELS),
            "resnet": "ResNet-18 written in solarray.models.resnet, random init (seeded), "
                      "BatchNorm statistics of the training frames; ImageNet weights "
                      "unavailable offline", "config": asdict(cfg)}
    return {"per_seed": per_seed, "compression": compression, "info": info}


def summary(res: dict, n_boot: int = 1000) -> dict:
    """Mean ± std over seeds per channel (reconstruction) and per horizon (F30), with paired
    bootstrap intervals over test days pooling the seeds' forecasts."""
    ps = res["per_seed"]
    out: dict = {"reconstruction": {}, "forecast": {}}
    for arm in ("trained", "untrained"):
        out["reconstruction"][arm] = {
            ch: {k: summarise([seed[c][k] for seed in ps[arm]]) for k in ROW_KEYS}
            for c, ch in enumerate(SEED_CHANNELS)}
    for i, first in enumerate(ps["forecast"][0]["horizons"]):
        rows = [f["horizons"][i] for f in ps["forecast"]]
        test = first["test"]
        y, pers = np.asarray(test["y"]), np.asarray(test["persistence"])
        vae = np.stack([np.asarray(r["test"]["model"]) for r in rows])
        res18 = np.stack([np.asarray(r["test"]["baseline"]) for r in rows])
        days = np.asarray(test["t"])
        vals = {k: [r[k] for r in rows] for k in ("rmse_persistence", "rmse_model",
                                                  "rmse_baseline", "improvement",
                                                  "improvement_baseline")}
        out["forecast"][str(first["horizon"])] = {
            **{k: summarise(v) for k, v in vals.items()},
            "n": {k: first[k] for k in ("n_train", "n_val", "n_test")},
            "n_estimators": [r["n_estimators"] for r in rows],
            "n_estimators_resnet": [r["n_estimators_baseline"] for r in rows],
            "improvement_vae_ci": interval(_pooled_improvement, y, np.column_stack(
                [vae.T, pers]), days, n_boot),
            "improvement_resnet_ci": interval(_pooled_improvement, y, np.column_stack(
                [res18.T, pers]), days, n_boot),
            "vae_vs_resnet_rmse": paired_interval(lambda a, b: -rmse(a, b), y, vae, res18,
                                                  days, n_boot),
            "vae_vs_persistence_seeds": compare(vals["rmse_model"], vals["rmse_persistence"],
                                                False),
            "vae_vs_resnet_seeds": compare(vals["rmse_model"], vals["rmse_baseline"], False)}
    return out


__all__ = ["ROW_KEYS", "SEED_TABLE1", "SeedProtocolConfig", "make_series", "run", "summary",
           "table1_record"]
