"""sigma-VAE on the benchmark Sun (Brown 2023): reconstruction, compression, sampling and F30
forecasting, ≥ 3 seeds with baselines in the same run.

Per seed: a ``small`` sigma_vae is pretrained with the generic loop (``pretrain``, in-process Ray
Train) on the benchmark Sun's training months (128 px, its 5 channels), then

* reconstruction of the test month (January) per channel, trained vs untrained (same seed);
* the compression table of the benchmark Sun;
* samples vs real test frames: intensity-histogram distance and power-spectrum distance per
  channel, against two baselines (the untrained decoder's samples; independent Gaussian pixels
  with the training frames' per-pixel mean and std);
* F30 forecasting at 1–4 days on a *separate long synthetic series* (the benchmark Sun's 5-day
  runs are too short): ``series_runs`` synthetic Suns of ``series_days`` days at daily cadence,
  rendered and ingested like the benchmark Sun; the VAE (trained on the benchmark Sun) encodes
  those frames; Extra Trees on μ (+ y(t)) vs persistence vs Extra Trees on 16× down-sampled
  pixels (+ y(t)) vs Extra Trees on y(t) alone.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from solarray.benchmarks.runs import ProtocolConfig, pretrain_run
from solarray.compress.codec import encode, load_vae, model_bytes
from solarray.compress.latents import Latents, write_latents
from solarray.compress.report import metrics_for, sample_images
from solarray.data.synthetic import forecast_set
from solarray.data.synthetic.benchmark_sun import BENCHMARK_CHANNELS
from solarray.forecast.frames import load_frames
from solarray.forecast.index_forecast import forecast_index
from solarray.forecast.index_series import downsample_pixels, split_of
from solarray.metrics.protocol import compare, summarise
from solarray.metrics.reconstruction import compression_table, sample_realism
from solarray.models import build, save_model

ROW_KEYS = ("pixel_correlation", "ppe10", "ppe50", "rmse")


@dataclass
class SigmaVAEBenchmarkConfig(ProtocolConfig):
    runs_dir: str = ".cache/benchmark_runs/sigma_vae"
    series_root: str = ".cache/benchmark_runs/sigma_vae_series"
    preset: str = "small"
    bottleneck: int = 128
    sigma_mode: str = "scalar"
    steps: int = 250
    batch_size: int = 8
    lr: float = 2e-3
    n_samples: int = 64
    series_runs: tuple[str, ...] = ("2024-01-01T00:00",)
    series_days: float = 110.0
    horizons: tuple[int, ...] = (1, 2, 3, 4)
    grid: tuple[int, ...] = (250, 500, 750, 1000, 1500, 2000)
    pixel_factor: int = 16

    def __post_init__(self) -> None:
        self.seeds, self.horizons = tuple(self.seeds), tuple(self.horizons)
        self.series_runs, self.grid = tuple(self.series_runs), tuple(self.grid)


def _train(cfg: SigmaVAEBenchmarkConfig, seed: int, log: Callable[[str], None]) -> tuple[str, dict]:
    res, seconds = pretrain_run(
        cfg.root, cfg.runs_dir, f"sigma_vae_s{seed}", model="sigma_vae", objective="sigma_vae",
        channels=BENCHMARK_CHANNELS, model_config={"preset": cfg.preset, "bottleneck":
                                                   cfg.bottleneck, "sigma_mode": cfg.sigma_mode},
        steps=cfg.steps, batch_size=cfg.batch_size, lr=cfg.lr, seed=seed, warmup=20, reports=5)
    log(f"[sigma-vae-bench] seed {seed}: {cfg.steps} steps in {seconds:.0f} s, "
        f"loss {res.metrics.get('loss', float('nan')):.4f}")
    return str(Path(str(res.checkpoint)) / "model.pt"), dict(res.metrics)


def _series(cfg: SigmaVAEBenchmarkConfig, log: Callable[[str], None]) -> tuple[Path, pd.DataFrame]:
    """The long daily synthetic series: shards + the runs' F10.7/F30 tables concatenated."""
    runs = [forecast_set.SynthRun(start, cfg.series_days, 2000 + k)
            for k, start in enumerate(cfg.series_runs)]
    root = forecast_set.make_synthetic_set(cfg.series_root, runs, size=128,
                                           cadence_minutes=1440.0, channels=BENCHMARK_CHANNELS,
                                           log=log)
    tables = [pd.read_parquet(d / "tables" / "indices.parquet")
              for d in forecast_set.run_dirs(root)]
    series = pd.concat(tables).groupby("date", as_index=False).mean().sort_values("date")
    path = Path(cfg.series_root) / "indices.csv"
    series.to_csv(path, index=False)
    return root, series


def _pixel_gaussian(train: np.ndarray, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    mean, std = train.mean(axis=0), train.std(axis=0)
    return np.clip(mean + std * rng.standard_normal((n, *mean.shape)), -1, 1).astype(np.float32)


def _features_file(path: Path, t: np.ndarray, x: np.ndarray) -> Path:
    cols = {"t_obs": pd.to_datetime(t, utc=True)}
    cols.update({f"f_{i:04d}": x[:, i] for i in range(x.shape[1])})
    pd.DataFrame(cols).to_parquet(path)
    return path


def run(cfg: SigmaVAEBenchmarkConfig, log: Callable[[str], None] = print) -> dict:
    frames = load_frames(Path(cfg.root) / "shards")
    assert frames.channels == BENCHMARK_CHANNELS, frames.channels
    split = split_of(frames.t.astype("datetime64[D]"))
    train, test = frames.image[split == "train"], frames.image[split == "test"]
    frame = frames.frame_rsun
    series_root, series = _series(cfg, log)
    long_frames = load_frames(Path(series_root) / "shards")
    series_csv = Path(cfg.series_root) / "indices.csv"
    work = Path(cfg.runs_dir)
    work.mkdir(parents=True, exist_ok=True)
    pix = _features_file(work / "pixels.parquet", long_frames.t,
                         downsample_pixels(long_frames.image, cfg.pixel_factor))
    # y(t) alone on the same issue dates: one constant feature column
    const = _features_file(work / "constant.parquet", long_frames.t,
                           np.zeros((len(long_frames), 1), np.float32))
    rng_idx = np.random.default_rng(0).choice(len(test), min(cfg.n_samples, len(test)),
                                              replace=False)
    real_s = test[np.sort(rng_idx)]
    value_ranges = {c: (-1.0, 1.0) for c in BENCHMARK_CHANNELS}
    per_seed: dict[str, list] = {k: [] for k in ("trained", "untrained", "samples_trained",
                                                 "samples_untrained", "samples_pixel_gaussian",
                                                 "forecast", "train_metrics")}
    compression = None
    for seed in cfg.seeds:
        ckpt, metrics = _train(cfg, seed, log)
        model, _ = load_vae(ckpt)
        torch.manual_seed(seed)
        raw = build("sigma_vae", preset=cfg.preset, channels=BENCHMARK_CHANNELS,
                    bottleneck=cfg.bottleneck, sigma_mode=cfg.sigma_mode).eval()
        per_seed["train_metrics"].append({k: metrics.get(k) for k in
                                          ("loss", "kl", "mse", "log_sigma")})
        with torch.no_grad():
            per_seed["trained"].append(metrics_for(model, test, BENCHMARK_CHANNELS, frame))
            per_seed["untrained"].append(metrics_for(raw, test, BENCHMARK_CHANNELS, frame))
            for name, imgs in (("samples_trained", sample_images(model, len(real_s), seed)),
                               ("samples_untrained", sample_images(raw, len(real_s), seed)),
                               ("samples_pixel_gaussian",
                                _pixel_gaussian(train, len(real_s), seed))):
                per_seed[name].append(sample_realism(real_s, imgs, BENCHMARK_CHANNELS,
                                                     value_ranges))
            mu, ls = encode(model, long_frames.image)
        if compression is None:
            n_all = len(frames)
            compression = compression_table(n_all, n_all * frames.image[0].nbytes,
                                            cfg.bottleneck, model_bytes(ckpt))
            save_model(model, work / "example_model.pt")
        lat_path = work / f"latents_s{seed}.parquet"
        write_latents(lat_path, Latents(long_frames.t, [str(t) for t in long_frames.t], mu, ls,
                                        {"model": "sigma_vae", "seed": seed}))
        t = time.perf_counter()
        # this benchmark's arms take y(t) too (--target-input); the seed's features-only
        # protocol is benchmarks/sigma_vae_seed.py
        vae = forecast_index(series_csv, "f30", lat_path, cfg.horizons, baseline_path=pix,
                             grid=cfg.grid, seed=seed, n_jobs=2, use_target=True)
        only_y = forecast_index(series_csv, "f30", const, cfg.horizons, grid=cfg.grid,
                                seed=seed, n_jobs=2, use_target=True)
        for row, yrow in zip(vae["horizons"], only_y["horizons"], strict=True):
            row["rmse_target_only"] = yrow["rmse_model"]
        per_seed["forecast"].append(vae)
        log(f"[sigma-vae-bench] seed {seed}: forecasting in {time.perf_counter() - t:.0f} s")
    info = {"train_frames": int(len(train)), "test_frames": int(len(test)),
            "series_days": int(len(series)), "series_frames": int(len(long_frames)),
            "series_runs": list(cfg.series_runs), "frame_rsun": frame}
    return {"per_seed": per_seed, "compression": compression, "info": info}


def summary(res: dict, channels: tuple[str, ...] = BENCHMARK_CHANNELS) -> dict:
    """Mean ± std over seeds: per-channel reconstruction (trained, untrained), sample realism
    per generator, and the F30 forecast per horizon with paired comparisons."""
    ps = res["per_seed"]
    out: dict = {"reconstruction": {}, "samples": {}, "forecast": {}}
    for arm in ("trained", "untrained"):
        out["reconstruction"][arm] = {
            ch: {k: summarise([seed[c][k] for seed in ps[arm]]) for k in ROW_KEYS}
            for c, ch in enumerate(channels)}
    for arm in ("samples_trained", "samples_untrained", "samples_pixel_gaussian"):
        out["samples"][arm] = {
            ch: {k: summarise([seed[c][k] for seed in ps[arm]])
                 for k in ("histogram_tv", "spectrum_dlog")} for c, ch in enumerate(channels)}
    for i, h in enumerate(res["per_seed"]["forecast"][0]["horizons"]):
        rows = [f["horizons"][i] for f in ps["forecast"]]
        vals = {k: [r[k] for r in rows] for k in ("rmse_persistence", "rmse_model",
                                                  "rmse_baseline", "rmse_target_only",
                                                  "improvement", "improvement_baseline")}
        out["forecast"][str(h["horizon"])] = {
            **{k: summarise(v) for k, v in vals.items()},
            "n": {k: rows[0][k] for k in ("n_train", "n_val", "n_test")},
            "vae_vs_persistence": compare(vals["rmse_model"], vals["rmse_persistence"], False),
            "vae_vs_pixels": compare(vals["rmse_model"], vals["rmse_baseline"], False),
            "vae_vs_target_only": compare(vals["rmse_model"], vals["rmse_target_only"], False)}
    return out


__all__ = ["ROW_KEYS", "SigmaVAEBenchmarkConfig", "run", "summary"]
