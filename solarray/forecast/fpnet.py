"""FPNet training, calibration and forecasting on ingested shards plus a feature table.

::

    frames = load_frames("data/shards")                       # images + times via the dataset API
    table = features.synthetic_ar_table(synth_dir)            # or features.read_table("ar.csv")
    result = train_fpnet(FPNetTrainConfig(mode="ar", encoder_checkpoint="mae/checkpoint_..."),
                         frames, table, out_dir="out/fpnet_ar")
    result.reports["test"].table()                            # all verification scores at 0.5

Steps: build examples (full-disk frames, or crops of ``crop_rsun`` R☉ around each region's pixel
position computed from its Stonyhurst lon/lat), split by calendar month with
:func:`solarray.data.dataset.assign_splits` (test / validation months held out, ±24 h gaps),
handle class imbalance (``pos_weight`` = negatives/positives, or resampling positives), train with
the generic Ray Train loop (``num_workers=0`` runs in-process), fit a calibrator on the validation
forecasts (:func:`solarray.forecast.calibration.fit_calibration`) so that "yes" is ``p >= 0.5``,
store it in the checkpoint, and verify on the test months. Baselines on the same splits:
climatology (the training base rate) and logistic regression on the physical features alone.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from solarray.forecast import features as feat
from solarray.forecast.verify import VerificationReport, verify

IMBALANCE = ("weight", "resample", "none")


# --------------------------------------------------------------------------------------------
# Frames and examples
# --------------------------------------------------------------------------------------------
@dataclass
class Frames:
    """Full-disk frames in memory: ``image`` float32 ``[N, C, H, W]`` (scaled, NaN → 0), ``t``
    datetime64[s] ``[N]``, ``flare_m24`` int64 ``[N]`` (-1 unknown), ``f107`` float32 ``[N]``."""

    image: np.ndarray
    t: np.ndarray
    flare_m24: np.ndarray
    f107: np.ndarray
    channels: tuple[str, ...]
    frame_rsun: float = 1.1

    def __len__(self) -> int:
        return len(self.t)


def load_frames(data_dir: str | os.PathLike, frame_rsun: float | None = None) -> Frames:
    """Every sample of ingest's shards in ``data_dir`` (via :mod:`solarray.data.dataset`),
    sorted by time. Needs Ray."""
    import json

    from solarray.data import dataset as data_api

    data_dir = os.fspath(data_dir)
    channels = tuple(data_api.channels_of(data_dir))
    if frame_rsun is None:
        frame_rsun = 1.1
        settings = Path(data_dir) / "ingest.json"
        if settings.exists():
            frame_rsun = float(json.loads(settings.read_text()).get("settings", {})
                               .get("frame", 1.1))
    ds = data_api.to_training(data_api.read_shards(data_dir))
    ds = ds.select_columns(["image", "t_unix", "flare_m24", "f107"])
    parts: dict[str, list[np.ndarray]] = {k: [] for k in ("image", "t_unix", "flare_m24", "f107")}
    for batch in ds.iter_batches(batch_size=64, batch_format="numpy"):
        for k in parts:
            parts[k].append(np.asarray(batch[k]))
    if not parts["t_unix"]:
        raise ValueError(f"{data_dir}: the shards hold no samples")
    cols = {k: np.concatenate(v) for k, v in parts.items()}
    order = np.argsort(cols["t_unix"], kind="stable")
    return Frames(cols["image"][order].astype(np.float32),
                  cols["t_unix"][order].astype("datetime64[s]"),
                  cols["flare_m24"][order].astype(np.int64), cols["f107"][order].astype(np.float32),
                  channels, frame_rsun)


def ar_pixel(lon: np.ndarray, lat: np.ndarray, times: Sequence, size: int,
             frame_rsun: float = 1.1) -> tuple[np.ndarray, np.ndarray]:
    """Pixel (row, col) of Stonyhurst ``lon``/``lat`` (deg) in the preprocessed frame: north
    up (row grows northward, FITS order), disk centre at ((size−1)/2, (size−1)/2), ±``frame_rsun``
    R☉ across ``size`` pixels. Uses the Earth observer at each time (SDO is within 0.03 %)."""
    from solarray.core.geometry import ARCSEC, R_SUN_M, earth_observer, hgs_to_hpc

    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    t = pd.to_datetime(pd.Series(list(times)), utc=True)
    rows, cols = np.empty(len(lon)), np.empty(len(lon))
    cache: dict[pd.Timestamp, Any] = {}
    c = (size - 1) / 2.0
    px_per_rsun = size / (2.0 * frame_rsun)
    for i, ti in enumerate(t):
        if ti not in cache:
            cache[ti] = earth_observer(ti.strftime("%Y-%m-%dT%H:%M:%S.%f"))
        obs = cache[ti]
        tx, ty, _ = hgs_to_hpc(lon[i:i + 1], lat[i:i + 1], obs)
        rsun_arcsec = np.arcsin(R_SUN_M / obs.dsun) / ARCSEC
        cols[i] = c + tx[0] / rsun_arcsec * px_per_rsun
        rows[i] = c + ty[0] / rsun_arcsec * px_per_rsun
    return rows, cols


def crop(image: np.ndarray, row: float, col: float, width: int, fill: float = 0.0) -> np.ndarray:
    """``[C, width, width]`` window of ``image`` ``[C, H, W]`` centred on (row, col) (pixels),
    padded with ``fill`` outside the frame."""
    c, h, w = image.shape
    r0 = int(np.floor(row + 0.5)) - width // 2
    c0 = int(np.floor(col + 0.5)) - width // 2
    out = np.full((c, width, width), fill, dtype=image.dtype)
    rs, re = max(r0, 0), min(r0 + width, h)
    cs, ce = max(c0, 0), min(c0 + width, w)
    if rs < re and cs < ce:
        out[:, rs - r0:re - r0, cs - c0:ce - c0] = image[:, rs:re, cs:ce]
    return out


def _resize(images: np.ndarray, size: int) -> np.ndarray:
    if images.shape[-1] == size and images.shape[-2] == size:
        return images
    import torch
    import torch.nn.functional as F

    t = torch.from_numpy(np.ascontiguousarray(images))
    mode = "area" if images.shape[-1] > size else "bilinear"
    kw = {} if mode == "area" else {"align_corners": False}
    return F.interpolate(t, size=(size, size), mode=mode, **kw).numpy()


@dataclass
class Examples:
    """FPNet inputs: ``image`` ``[N, C, S, S]``, ``scalars`` ``[N, Ks]``, ``categories``
    ``[N, Kc]``, ``label`` ``[N]`` (0/1, -1 unknown) and ``rows`` (the table rows used: t_obs,
    ar_number, ...)."""

    image: np.ndarray
    scalars: np.ndarray
    categories: np.ndarray
    label: np.ndarray
    rows: pd.DataFrame
    dropped: int = 0  # table rows without a frame within the tolerance

    def __len__(self) -> int:
        return len(self.label)

    @property
    def t(self) -> np.ndarray:
        return self.rows["t_obs"].to_numpy().astype("datetime64[s]")

    def subset(self, index: np.ndarray) -> Examples:
        return Examples(self.image[index], self.scalars[index], self.categories[index],
                        self.label[index], self.rows.iloc[index].reset_index(drop=True))


def build_examples(frames: Frames, table: pd.DataFrame, model_config: Any,
                   tolerance_minutes: float = 6.0) -> Examples:
    """Match ``table`` rows to frames (nearest time within ``tolerance_minutes``) and cut the
    inputs for ``model_config`` (an :class:`~solarray.models.fpnet.FPNetConfig` or a dict with
    ``mode``, ``image_size``, ``crop_rsun``, ``scalar_features``, ``categorical_features``).

    ``full_disk``: one example per table row (a :func:`features.full_disk_table`); the frame,
    resized to ``image_size``; ``f107`` falls back to the shard's value, ``label`` to
    ``flare_m24``. ``ar``: one per region row, a crop around its pixel position.
    """
    mc = _config_view(model_config) if isinstance(model_config, Mapping) else model_config
    missing = [c for c in ("t_obs",) + (("hgs_lon", "hgs_lat") if mc.mode == "ar" else ())
               if c not in table.columns]
    if missing:
        raise ValueError(f"feature table lacks column(s) {', '.join(missing)} for {mc.mode} mode")
    tab = table.copy()
    tab["t_obs"] = feat._utc_naive(tab["t_obs"]).to_numpy()
    t_tab = tab["t_obs"].to_numpy().astype("datetime64[s]").astype(np.int64)
    t_fr = frames.t.astype(np.int64)
    if len(t_fr) == 0:
        raise ValueError("no frames")
    pos = np.clip(np.searchsorted(t_fr, t_tab), 1, len(t_fr) - 1) if len(t_fr) > 1 \
        else np.zeros(len(t_tab), dtype=int)
    if len(t_fr) > 1:
        left = pos - 1
        pos = np.where(np.abs(t_fr[left] - t_tab) <= np.abs(t_fr[pos] - t_tab), left, pos)
    ok = np.abs(t_fr[pos] - t_tab) <= tolerance_minutes * 60
    dropped = int((~ok).sum())
    tab, idx = tab[ok].reset_index(drop=True), pos[ok]
    if "f107" not in tab.columns:
        tab["f107"] = np.nan
    tab["f107"] = np.where(np.isfinite(pd.to_numeric(tab["f107"], errors="coerce")),
                           tab["f107"], frames.f107[idx])
    if mc.mode == "full_disk":
        label = tab["label"].to_numpy(np.int64) if "label" in tab.columns \
            else frames.flare_m24[idx]
        if "label" in tab.columns:
            label = np.where(label < 0, frames.flare_m24[idx], label)
        images = _resize(frames.image[idx], mc.image_size)
    else:
        size = frames.image.shape[-1]
        width = max(2, int(round(mc.crop_rsun / frames.frame_rsun * size)))
        rows, cols = ar_pixel(tab["hgs_lon"], tab["hgs_lat"], tab["t_obs"], size,
                              frames.frame_rsun)
        tab["pixel_row"], tab["pixel_col"] = rows, cols
        crops = np.stack([crop(frames.image[i], r, c, width) for i, r, c in
                          zip(idx, rows, cols, strict=True)]) if len(idx) else \
            np.zeros((0, frames.image.shape[1], width, width), np.float32)
        images = _resize(crops, mc.image_size)
        label = tab["label"].to_numpy(np.int64) if "label" in tab.columns \
            else np.full(len(tab), -1, np.int64)
    scal, cats = feat.feature_arrays(tab, mc.scalar_features, mc.categorical_features)
    return Examples(images.astype(np.float32), scal, cats, label.astype(np.int64), tab, dropped)


def _config_view(d: Mapping[str, Any]):
    """Attribute view of the fields build_examples needs, with FPNetConfig defaults."""
    from solarray.models.fpnet import FPNetConfig

    defaults = {f.name: f.default for f in dataclasses.fields(FPNetConfig)
                if f.default is not dataclasses.MISSING}
    preset = FPNetConfig.PRESETS.get(d.get("preset") or "", {})
    values = {**defaults, **preset, **{k: v for k, v in d.items() if k != "preset"}}
    return type("ConfigView", (), values)


def split_examples(ex: Examples, val_months: Sequence[int] = (3,),
                   test_months: Sequence[int] = (1,), gap_hours: float = 24) -> dict[str, Examples]:
    """``{"train", "val", "test"}`` by calendar month (:func:`dataset.assign_splits`)."""
    from solarray.data.dataset import assign_splits

    names = assign_splits(ex.t, val_months, test_months, gap_hours)
    return {s: ex.subset(np.flatnonzero(names == s)) for s in ("train", "val", "test")}


def to_dataset(ex: Examples, *, resample: bool = False, seed: int = 0, min_rows: int = 0):
    """A Ray Dataset of FPNet training rows (``image``, ``scalars``, ``categories``, ``label``),
    positives oversampled to balance the classes when ``resample``; rows shuffled. With
    ``min_rows`` the shuffled set is repeated (a new permutation each time) up to that many rows,
    so a short run is one pass over the data instead of many small epochs (each epoch restarts
    the Ray Data stream)."""
    import ray

    keep = np.flatnonzero(ex.label >= 0)
    rng = np.random.default_rng(seed)
    if resample:
        pos, neg = keep[ex.label[keep] == 1], keep[ex.label[keep] == 0]
        if len(pos) and len(neg) > len(pos):
            pos = np.concatenate([pos, rng.choice(pos, len(neg) - len(pos), replace=True)])
        keep = np.concatenate([pos, neg])
    order = [rng.permutation(keep)]
    while len(keep) and sum(len(o) for o in order) < min_rows:
        order.append(rng.permutation(keep))
    keep = np.concatenate(order)
    items = [{"image": ex.image[i], "scalars": ex.scalars[i], "categories": ex.categories[i],
              "label": np.float32(ex.label[i])} for i in keep]
    return ray.data.from_items(items)


# --------------------------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------------------------
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
        from solarray.forecast.calibration import METHODS, OPERATING_POINTS
        from solarray.models.fpnet import MODES

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
    from solarray.models.fpnet import encoder_settings

    mc = dict(cfg.model_config)
    mc["mode"] = cfg.mode
    if cfg.mode == "full_disk":
        mc.setdefault("scalar_features", ["f107", "flare_index", "area_msh", "n_ar"])
        mc.setdefault("log_features", ["flare_index", "area_msh"])
    if cfg.encoder_checkpoint:
        enc = encoder_settings(cfg.encoder_checkpoint)
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


def predict(model, ex: Examples, batch_size: int = 64) -> np.ndarray:
    """Raw probabilities ``[N]`` of ``model`` (FPNet) for ``ex``."""
    import torch

    out = []
    for i in range(0, len(ex), batch_size):
        sl = slice(i, i + batch_size)
        out.append(model.predict_proba(torch.from_numpy(ex.image[sl]),
                                       torch.from_numpy(ex.scalars[sl]),
                                       torch.from_numpy(ex.categories[sl])).numpy())
    return np.concatenate(out).astype(np.float64) if out else np.zeros(0)


def forecast_table(ex: Examples, probability: np.ndarray,
                   raw: np.ndarray | None = None) -> pd.DataFrame:
    """Per-example forecasts: ``time``, ``ar`` (region number; absent in full-disk mode),
    ``observed`` (0/1; -1 unknown), ``probability`` (calibrated) and ``probability_raw``."""
    df = pd.DataFrame({"time": pd.to_datetime(ex.rows["t_obs"]).dt.strftime("%Y-%m-%dT%H:%M:%S")})
    if "ar_number" in ex.rows.columns:
        df["ar"] = ex.rows["ar_number"].to_numpy()
    df["observed"] = ex.label
    df["probability"] = np.asarray(probability, float)
    if raw is not None:
        df["probability_raw"] = np.asarray(raw, float)
    return df


def disk_from_regions(per_ar: pd.DataFrame, disk_labels: pd.DataFrame | None = None
                      ) -> pd.DataFrame:
    """Full-disk forecasts from per-region ones: P = 1 − Π(1 − p_i) per time. ``observed`` from
    ``disk_labels`` (``t_obs``, ``label``) when given, else whether any region's label is 1."""
    g = per_ar.groupby("time", sort=True)
    out = pd.DataFrame({
        "probability": g["probability"].apply(lambda p: 1.0 - float(np.prod(1.0 - p))),
        "observed": g["observed"].max(),
    }).reset_index()
    if disk_labels is not None and len(disk_labels):
        lut = dict(zip(pd.to_datetime(disk_labels["t_obs"]).dt.strftime("%Y-%m-%dT%H:%M:%S"),
                       disk_labels["label"].astype(int), strict=False))
        out["observed"] = [lut.get(t, o) for t, o in zip(out["time"], out["observed"],
                                                         strict=True)]
    return out[["time", "observed", "probability"]]


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


def verify_table(df: pd.DataFrame, base_rate: float | None = None) -> VerificationReport:
    """Verify a forecast table (``observed``, ``probability``), dropping unknown labels."""
    d = df[df["observed"] >= 0]
    return verify(d["observed"].to_numpy(), d["probability"].to_numpy(), 0.5, base_rate=base_rate)


def train_fpnet(cfg: FPNetTrainConfig, frames: Frames, table: pd.DataFrame,
                out_dir: str | os.PathLike, log: Callable[[str], None] = print,
                splits: Mapping[str, Examples] | None = None) -> FPNetResult:
    """Train, calibrate on validation, save ``out_dir/model.pt`` and the validation/test forecast
    CSVs; returns the reports. ``table``: per-AR table (AR mode) or full-disk table. Pass
    ``splits`` (from an earlier call's ``result.examples``) to reuse the cut examples."""
    import torch

    from solarray.forecast.calibration import fit_calibration
    from solarray.models import load_model, save_model
    from solarray.train.config import TrainConfig
    from solarray.train.loop import fit

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    mc = model_config_for(cfg, frames.channels)
    mc_view = _config_view({**mc, "channels": frames.channels})
    if splits is None:
        ex = build_examples(frames, table, mc_view, cfg.tolerance_minutes)
        if ex.dropped:
            log(f"[fpnet] {ex.dropped} table row(s) had no frame within {cfg.tolerance_minutes} min")
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
    ds = to_dataset(tr, resample=cfg.imbalance == "resample", seed=cfg.seed,
                    min_rows=cfg.steps * cfg.batch_size * max(1, cfg.num_workers))
    result = fit(tcfg, ds, log=log)
    if result.checkpoint is None:
        raise RuntimeError(f"training run {cfg.run_name!r} wrote no checkpoint")
    model = load_model(result.checkpoint)
    model.eval()

    raw = {k: predict(model, splits[k]) for k in ("val", "test")}
    vlab = splits["val"].label
    known = vlab >= 0
    cal = fit_calibration(vlab[known], raw["val"][known], cfg.calibration, cfg.operating_point)
    model.config.calibration = cal.to_dict()
    model_path = save_model(model, out_dir / "model.pt")
    forecasts, reports = {}, {}
    for k in ("val", "test"):
        df = forecast_table(splits[k], model.calibrated(raw[k]), raw[k])
        feat.write_table(df, out_dir / f"forecasts_{k}.csv")
        forecasts[k] = df
        reports[k] = verify_table(df)
    log(f"[fpnet] saved {model_path}; test: " + ", ".join(
        f"{k} {v:.3f}" for k, v in reports["test"].scores().items()
        if k in ("bss", "roca", "tss", "f1") and v is not None))
    return FPNetResult(model_path, out_dir, reports, forecasts, n, pos_weight, base,
                       dict(splits))


# --------------------------------------------------------------------------------------------
# Forecasting with a trained checkpoint
# --------------------------------------------------------------------------------------------
def forecast(model, frames: Frames, table: pd.DataFrame,
             tolerance_minutes: float = 6.0) -> dict[str, pd.DataFrame]:
    """Calibrated forecasts of a trained FPNet: ``{"per_sample": ..., "per_ar": ...}`` (AR mode
    gives both, per-sample by 1 − Π(1 − p); full-disk mode only ``per_sample``)."""
    c = model.config
    ex = build_examples(frames, table, c, tolerance_minutes)
    raw = predict(model, ex)
    df = forecast_table(ex, model.calibrated(raw), raw)
    if c.mode == "full_disk":
        return {"per_sample": df}
    disk = None
    if "disk_label" in ex.rows.columns:
        disk = ex.rows[["t_obs", "disk_label"]].drop_duplicates("t_obs").rename(
            columns={"disk_label": "label"})
    return {"per_sample": disk_from_regions(df, disk), "per_ar": df}


# --------------------------------------------------------------------------------------------
# Baselines
# --------------------------------------------------------------------------------------------
def climatology(train: Examples, test: Examples) -> pd.DataFrame:
    """The training base rate as the forecast for every test example."""
    lab = train.label[train.label >= 0]
    return forecast_table(test, np.full(len(test), float(lab.mean())))


def _design(ex: Examples, mean: Sequence[float], std: Sequence[float],
            log_mask: Sequence[bool], n_cats: Sequence[int], miss_cols: np.ndarray) -> np.ndarray:
    """Standardised scalars (unknown → 0), missing flags of ``miss_cols``, one-hot categories."""
    x = ex.scalars.astype(np.float64).copy()
    miss = ~np.isfinite(x)
    x[miss] = 0.0
    for j, lg in enumerate(log_mask):
        if lg:
            x[:, j] = np.log1p(np.clip(x[:, j], 0, None))
    x = (x - np.asarray(mean)) / np.asarray(std)
    x[miss] = 0.0
    onehots = [np.eye(k + 1)[ex.categories[:, j]][:, 1:] for j, k in enumerate(n_cats)]
    return np.concatenate([x, miss[:, miss_cols].astype(float), *onehots], axis=1)


def logistic_baseline(splits: Mapping[str, Examples], scalar_features: Sequence[str],
                      log_features: Sequence[str], categorical_features: Sequence[str],
                      calibration: str = "platt", operating_point: str = "reliable",
                      ) -> dict[str, pd.DataFrame]:
    """Logistic regression (scikit-learn, balanced class weights) on the physical features
    alone, calibrated on validation like FPNet. Returns val/test forecast tables."""
    from sklearn.linear_model import LogisticRegression

    from solarray.forecast.calibration import fit_calibration
    from solarray.models.fpnet import CATEGORY_VOCAB

    tr = splits["train"]
    mean, std = standardisation(tr, scalar_features, log_features)
    log_mask = [n in log_features for n in scalar_features]
    n_cats = [len(CATEGORY_VOCAB[n]) for n in categorical_features]
    # Missing flags only for features that are sometimes (not always) missing in training.
    frac = (~np.isfinite(tr.scalars)).mean(axis=0) if len(tr) else np.zeros(len(scalar_features))
    miss_cols = (frac > 0) & (frac < 1)
    allx = {k: _design(v, mean, std, log_mask, n_cats, miss_cols) for k, v in splits.items()}
    known = tr.label >= 0
    clf = LogisticRegression(class_weight="balanced", max_iter=2000, C=1.0)
    clf.fit(allx["train"][known], tr.label[known])
    raw = {k: clf.predict_proba(allx[k])[:, 1] for k in ("val", "test")}
    vl = splits["val"].label
    cal = fit_calibration(vl[vl >= 0], raw["val"][vl >= 0], calibration, operating_point)
    return {k: forecast_table(splits[k], cal(raw[k]), raw[k]) for k in ("val", "test")}


# --------------------------------------------------------------------------------------------
# Inputs for the commands
# --------------------------------------------------------------------------------------------
def load_feature_table(table: str | os.PathLike | None = None,
                       synthetic: str | os.PathLike | None = None) -> pd.DataFrame:
    """The per-AR (or full-disk) feature table from a CSV/Parquet file, or built from synthetic
    truth: ``synthetic`` is one generator output dir (``tables/ar.parquet``) or a
    :mod:`~solarray.forecast.synthset` root (``runs.json``)."""
    from solarray.forecast import synthset

    if (table is None) == (synthetic is None):
        raise ValueError("give exactly one of a feature table file or a synthetic directory")
    if table is not None:
        df = feat.read_table(table)
        if "ar_number" in df.columns:
            missing = [c for c in feat.AR_REQUIRED if c not in df.columns]
            if missing:
                raise ValueError(f"{table}: per-AR table lacks column(s) {', '.join(missing)}")
        return df
    root = Path(synthetic)
    if synthset.is_complete(root):
        dirs = synthset.run_dirs(root)
    elif (root / "tables" / "ar.parquet").exists():
        dirs = [root]
    else:
        raise FileNotFoundError(f"{root}: neither a synthetic-Sun output dir (tables/ar.parquet) "
                                f"nor a synthetic forecasting set ({synthset.RUNS_FILE})")
    return pd.concat([feat.synthetic_ar_table(d, d.name) for d in dirs], ignore_index=True)


def table_for_mode(table: pd.DataFrame, mode: str) -> pd.DataFrame:
    """A per-AR table as is (``ar``), or aggregated per time (``full_disk``) when it has regions."""
    if mode == "ar":
        if "ar_number" not in table.columns:
            raise ValueError("per-AR mode needs a per-AR table (columns ar_number, hgs_lon, "
                             "hgs_lat, ...)")
        return table
    return feat.full_disk_table(table) if "ar_number" in table.columns else table
