"""The benchmark Sun: the one synthetic data set every learned model's benchmark reads.

Several independent synthetic Suns (one seed each) placed in calendar months so that every split
of :func:`solarray.data.dataset.assign_splits` holds several of them (test = January,
validation = March, training = February, April, May; 24-h gaps), rendered at ≥ 128 px as level-1
FITS and ingested through the same path as real data::

    build_benchmark_sun(".cache/benchmark_sun")      # cached: a complete root is reused
    feature_sizes(".cache/benchmark_sun/shards")     # truth feature sizes, EUV contrast

:func:`solarray.benchmarks.sun.make_benchmark_sun` builds it and writes its description (with
the forecasting base rates per split, which need the per-AR tables of :mod:`solarray.forecast`).

The Sun it renders is tuned against real files (:mod:`solarray.data.synthetic.render`): the 171 Å
limb/centre ratio and on-disk p99/median match the real AIA file shipped with sunpy within 25 %
(:data:`solarray.data.quality.REAL_AIA171_CONTRAST`); flare productivity follows the flux at
polarity inversion lines continuously (:func:`solarray.data.synthetic.activity.simulate_flares`),
with a per-region ≥M base rate of a few % and ≈ 1 ≥M flare per day, as near solar maximum (the
runs are in 2024). The description states, computed by :func:`flare_productivity`, where the ≥M
flares come from and how well the Hale class and the PIL flux rank regions, and lists what was
checked for look-ahead (:data:`LOOKAHEAD_CHECKS`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
from scipy import ndimage

from solarray.core.channels import get as channel_info
from solarray.core.features import FEATURE_KINDS
from solarray.data.quality import REAL_AIA171_CONTRAST, euv_contrast
from solarray.data.shard_reader import iter_rows
from solarray.data.shards import shard_paths
from solarray.data.synthetic import forecast_set
from solarray.data.synthetic.generator import SynthConfig
from solarray.data.synthetic.productivity import productivity

DESCRIPTION_FILE = "benchmark_sun.json"
#: Bumped whenever the synthetic Sun's physics or rendering changes: a cached root built by
#: another version is refused (results on it would not be reproducible from this code).
SUN_VERSION = 5
BENCHMARK_CHANNELS = ("hmi_m", "aia171", "aia193", "aia211", "aia304")
#: Independent Suns per calendar month: January = test, March = validation, the rest training.
#: Twelve test Suns (January of 2024–2026: the split is by calendar month) so that the
#: per-region test holds ≥ 150 distinct regions; eight validation Suns (every activity level
#: twice), since Platt scaling and the decision threshold are fitted there; sixteen training Suns.
RUNS_PER_MONTH = {1: 12, 2: 4, 3: 8, 4: 4, 5: 4, 6: 4}
#: Activity of successive Suns of a month (1 ≈ solar maximum): quiet to maximum in every split,
#: so probabilities calibrated at one base rate meet others.
ACTIVITY_LEVELS = (0.3, 0.65, 1.0, 1.35)
#: Suns fit five to a month, one every ``SUN_SPACING_DAYS`` (starting on the 2nd, 7th, …, 22nd:
#: clear of the time split's 24-h gaps at the month's ends); more go to the same month of the
#: next year.
SUNS_PER_MONTH_YEAR = 5
SUN_SPACING_DAYS = 5.0


#: What was checked so that no model input reads the future of its observation (labels do, by
#: definition), one line each; tests/test_index_causality.py and tests/test_synthetic_activity.py
#: fail if the indices, flare-start, limb and McIntosh ones break.
LOOKAHEAD_CHECKS = (
    "F10.7/F30 generation: a day's value is the Sun at its measurement hour, 20 UT "
    "(activity.f107_series; was noon)",
    "F10.7/F30 in shards (ingest labels, data.truth): latest value measured <= sample time "
    "(data.tables.indices.index_at; was the same UTC day's)",
    "F10.7 in the per-AR feature table (forecast.features.synthetic_ar_table): index_at(t_obs) "
    "(was the same UTC day's)",
    "F10.7 of the served forecaster (pipeline.flare_history.FlareHistory.f107_at): "
    "index_at(t_obs) (was the same UTC day's)",
    "index forecasting (forecast.index_series): issued at the end of day t, after y(t) and the "
    "day's images; target y(t+h), h >= 1 day",
    "flares in XRS and images: nothing before a flare's start (its Gaussian rise had flux "
    "before start_time, and images were rendered from start - 29 min)",
    "XRS 0.5-4 A: peaks 1 min before 1-8 A but starts with it",
    "flares behind the limb: not in XRS or the event list (activity.seen_by_goes; were)",
    "flare index, region and disk (forecast.features, pipeline.flare_history): flares peaking "
    "in (t - 24 h, t]",
    "labels: flares starting in (t, t + 24 h] (look ahead by definition; never an input)",
    "GOES background and the AEC exposure cut: XRS at t only",
    "AR table: position, area, fluxes at t; McIntosh penumbrae from the field at t (were from "
    "full strength, i.e. the region's future growth)",
    "Hale class: the delta-spot is in the magnetogram at t (fixed geometry, field x strength(t))",
    "PIL flux (flare productivity): no table column; seen only through the magnetogram at t",
    "images vs their step time: rendered at the step time (files stamped <= 22.5 s later); "
    "real data: ingest groups files within +-6 min of a grid time and labels count from it "
    "(not changed here)",
)


@dataclass(frozen=True)
class BenchmarkSunConfig:
    """What the benchmark Sun holds. The defaults are the shipped benchmark (128², 3-h cadence,
    36 Suns × 40 time steps; 12 test, 8 validation Suns). A Sun lasts ``days`` including its
    last time step, which must come before the next Sun's first (:data:`SUN_SPACING_DAYS`), so
    no time step — and no sample id — belongs to two Suns."""

    size: int = 128
    days: float = 4.875
    cadence_minutes: float = 180.0
    channels: tuple[str, ...] = BENCHMARK_CHANNELS
    runs_per_month: dict[int, int] = field(default_factory=lambda: dict(RUNS_PER_MONTH))
    seed: int = 1000  # first Sun's seed; run k uses seed + k

    def __post_init__(self) -> None:
        if self.size < 128:
            raise ValueError(f"size: the benchmark Sun is ≥ 128 px, got {self.size}")
        last = SUN_SPACING_DAYS - self.cadence_minutes / 1440.0
        if not 1.0 <= self.days <= last:
            raise ValueError(f"days: expected 1–{last:g} days per Sun (its last time step "
                             f"before the next Sun's first, {SUN_SPACING_DAYS:g} days after its "
                             f"start), got {self.days}")
        for month in (1, 3):
            if self.runs_per_month.get(month, 0) < 2:
                raise ValueError(f"runs_per_month: the held-out month {month} needs ≥ 2 Suns")
        if "aia171" not in self.channels:
            raise ValueError("channels: aia171 is needed to check the contrast against the real Sun")

    def runs(self) -> list[forecast_set.SynthRun]:
        """One run per Sun: the j-th Sun of a month starts on day 2 + 5·(j mod 5) of that month
        in year 2024 + j // 5 (so Suns never share a time step and the 24-h gap of the time split
        never cuts one), at activity ``ACTIVITY_LEVELS[j mod 4]``."""
        out, k = [], 0
        for month, n in sorted(self.runs_per_month.items()):
            for j in range(n):
                year = 2024 + j // SUNS_PER_MONTH_YEAR
                day = 2 + int(SUN_SPACING_DAYS) * (j % SUNS_PER_MONTH_YEAR)
                out.append(forecast_set.SynthRun(
                    f"{year}-{month:02d}-{day:02d}T00:00", self.days, self.seed + k,
                    ACTIVITY_LEVELS[j % len(ACTIVITY_LEVELS)]))
                k += 1
        return out


def build_benchmark_sun(root: str | os.PathLike, cfg: BenchmarkSunConfig | None = None,
                        log: Callable[[str], None] = print) -> Path:
    """Generate and ingest the benchmark Sun under ``root`` (needs Ray for ingest); reuses a
    complete root and refuses one of another size, channel set or :data:`SUN_VERSION`."""
    cfg = cfg or BenchmarkSunConfig()
    root = Path(root)
    spec = root / forecast_set.RUNS_FILE
    if spec.exists():
        have = json.loads(spec.read_text())
        if have.get("size") != cfg.size or list(have.get("channels", [])) != list(cfg.channels):
            raise ValueError(f"{root}: holds a {have.get('size')} px set of {have.get('channels')}, "
                             f"not the requested {cfg.size} px {list(cfg.channels)}; "
                             "use another --out or delete it")
    desc_file = root / DESCRIPTION_FILE
    if desc_file.exists():
        built = json.loads(desc_file.read_text()).get("sun_version")
        if built != SUN_VERSION:
            raise ValueError(f"{root}: built by benchmark-Sun version {built}, this code renders "
                             f"version {SUN_VERSION}; delete the directory to rebuild it")
    forecast_set.make_synthetic_set(root, cfg.runs(), size=cfg.size,
                                    cadence_minutes=cfg.cadence_minutes, channels=cfg.channels,
                                    log=log)
    return root


def flare_productivity(root: str | os.PathLike) -> dict:
    """:func:`~solarray.data.synthetic.productivity.productivity` over the Suns of a built root
    (each rebuilt from its ``synth.json`` config, without rendering): ≥M flares per day, their
    share by true Hale class, and the ROC AUC of the true Hale class, PIL flux and area for
    ranking regions by ≥M-in-24-h."""
    cfgs = []
    for run_dir in forecast_set.run_dirs(root):
        spec = json.loads((Path(run_dir) / "synth.json").read_text())["config"]
        spec["channels"] = tuple(spec["channels"])
        cfgs.append(SynthConfig(**spec))
    return productivity(cfgs)


def _component_sizes(masks: np.ndarray) -> dict[str, list[int]]:
    """Pixel areas of the 8-connected components of each feature mask ``[K, N, N]``."""
    out = {}
    for k, kind in enumerate(FEATURE_KINDS):
        lab, n = ndimage.label(masks[k] == 1, structure=np.ones((3, 3)))
        out[kind] = np.bincount(lab.ravel())[1:].tolist() if n else []
    return out


def feature_sizes(shard_dir: str | os.PathLike, every: int = 4) -> dict[str, dict[str, float]]:
    """Median, 10th and 90th percentile area in pixels of the truth features (connected
    components of the AR, CH, FL masks) over every ``every``-th sample of the shards."""
    sizes: dict[str, list[int]] = {k: [] for k in FEATURE_KINDS}
    for shard in shard_paths(os.fspath(shard_dir)):
        table = pq.read_table(shard, columns=["masks"])
        masks = table.column("masks").combine_chunks().to_numpy_ndarray()
        for m in masks[::every]:
            for kind, v in _component_sizes(m).items():
                sizes[kind] += v
    return {k: {"median_px": float(np.median(v)) if v else float("nan"),
                "p10_px": float(np.percentile(v, 10)) if v else float("nan"),
                "p90_px": float(np.percentile(v, 90)) if v else float("nan"),
                "n_components": len(v)} for k, v in sizes.items()}


def contrast(shard_dir: str | os.PathLike, channel: str = "aia171", every: int = 12
             ) -> dict[str, float]:
    """Mean :func:`~solarray.data.quality.euv_contrast` of ``channel`` over every ``every``-th
    sample, in physical units (the inverse of the channel scaling), beside the real file's."""

    vals = []
    for k, row in enumerate(iter_rows(shard_dir)):
        if k % every or channel not in row.channels:
            continue
        img = channel_info(channel).unscale(row.image[row.channels.index(channel)])
        vals.append(euv_contrast(img))
    if not vals:
        raise ValueError(f"{shard_dir}: no sample holds {channel}")
    out = {}
    for key, real in REAL_AIA171_CONTRAST.items():
        mean = float(np.mean([v[key] for v in vals]))
        out[key] = {"synthetic": round(mean, 3), "real": real,
                    "ratio": round(mean / real, 3), "within_25pct": bool(abs(mean / real - 1) <= 0.25)}
    return out


__all__ = ["ACTIVITY_LEVELS", "BENCHMARK_CHANNELS", "DESCRIPTION_FILE", "LOOKAHEAD_CHECKS",
           "RUNS_PER_MONTH", "SUN_SPACING_DAYS", "SUN_VERSION", "BenchmarkSunConfig", "build_benchmark_sun", "contrast", "feature_sizes",
           "flare_productivity"]
