"""IATools' AR clustering on SPNet's predicted masks, as SA-AI 2025 §3.2.4 scores it.

The seed clusters SPNet's AR masks with DBSCAN and compares the regions with SEPC's expert
annotations: ARI 0.54 and IoU 51.97, rising to 0.58 and 52.42 once small-area features are
filtered as noise. Here, on the benchmark Sun's test Suns, the reference is the generator's
truth: the true AR mask with each pixel given to the nearest true region centre
(:func:`reference_labels`). For one image and one AR mask (the truth's, or an SPNet's):

* IATools' regions: :func:`solarray.analysis.regions.find_entities` with the served chain's
  region settings (:class:`solarray.pipeline.config.CycleConfig`: DBSCAN at 25 Mm), once with
  its small-area filter (``ar_min_area_msh``) and once without it;
* **ARI** (:func:`clustering_scores`): adjusted Rand index between IATools' region labels and
  the reference labels over the on-disk pixels that either calls AR (a pixel outside every
  region is one more cluster, 0, on both sides), so a segmentation error lowers it as the seed
  notes ("the difference between the SPNet segmentation results and the manual entity division
  ... will cause the score to be low");
* **IoU**: 100·|regions ∩ true AR| / |regions ∪ true AR|.

Means over test images; SPNet rows per seed (the multi-modal networks ``benchmarks/spnet.py``
trained, read back by run name), mean ± std over seeds; the truth-mask row is IATools alone
(what clustering costs with a perfect mask). Difference SPNet − truth masks with a paired
bootstrap 95 % interval over test Suns.
"""

from __future__ import annotations

import json
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
import sunpy.map
from sklearn.metrics import adjusted_rand_score

from solarray.analysis import fast_coords as FC
from solarray.analysis.regions import find_entities
from solarray.benchmarks.runs import ProtocolConfig
from solarray.benchmarks.spnet import sun_of
from solarray.core.frame_header import sample_frame_header
from solarray.core.geometry import great_circle_deg
from solarray.data import labels as lab
from solarray.data.shard_reader import meta_frame, meta_header
from solarray.data.synthetic.forecast_set import RUNS_FILE
from solarray.forecast.features import load_feature_table
from solarray.metrics.bootstrap import paired_interval
from solarray.metrics.protocol import compare, summarise
from solarray.models import load_model
from solarray.pipeline.config import CycleConfig
from solarray.train import relabel

SCORES = ("ari", "iou", "n_regions")
FILTERS = ("filtered", "unfiltered")


@dataclass
class IAToolsSPNetConfig(ProtocolConfig):
    #: where ``benchmarks/spnet.py`` left its runs (``runs/<run_prefix>_s<seed>``)
    runs_dir: str = ".cache/benchmark_runs/spnet_arms"
    run_prefix: str = "spnet"
    every: int = 1  # score every n-th test image
    n_boot: int = 1000


def reference_labels(true_ar: np.ndarray, lon: np.ndarray, lat: np.ndarray,
                     centres: np.ndarray) -> np.ndarray:
    """``[H, W]`` int: each true AR pixel (``true_ar`` bool) → 1 + the index of the nearest
    true region centre (``centres [R, 2]`` Stonyhurst lon, lat in deg; pixel ``lon``/``lat``
    ``[H, W]``); 0 elsewhere (and everywhere when there is no centre)."""
    out = np.zeros(true_ar.shape, np.int64)
    sel = true_ar & np.isfinite(lon) & np.isfinite(lat)
    if not len(centres) or not sel.any():
        return out
    d = great_circle_deg(lon[sel][:, None], lat[sel][:, None], centres[None, :, 0],
                         centres[None, :, 1])
    out[sel] = 1 + np.argmin(d, axis=1)
    return out


def clustering_scores(regions: np.ndarray, reference: np.ndarray, on_disk: np.ndarray
                      ) -> dict[str, float]:
    """ARI and IoU (module docstring) of region labels ``regions [H, W]`` (0 = no region)
    against ``reference [H, W]`` (0 = no true AR) over ``on_disk`` pixels; NaN when neither
    labels a pixel. Also the number of regions."""
    pred, ref = np.where(on_disk, regions, 0), np.where(on_disk, reference, 0)
    union = (pred > 0) | (ref > 0)
    n = int(len(np.unique(pred[pred > 0])))
    if not union.any():
        return {"ari": float("nan"), "iou": float("nan"), "n_regions": n}
    inter = ((pred > 0) & (ref > 0)).sum()
    return {"ari": float(adjusted_rand_score(ref[union], pred[union])),
            "iou": 100.0 * float(inter) / float(union.sum()), "n_regions": n}


def _nanmean(_y: np.ndarray, p: np.ndarray) -> float | None:
    p = np.asarray(p, float)
    return float(np.nanmean(p)) if np.isfinite(p).any() else None


def run(cfg: IAToolsSPNetConfig, log: Callable[[str], None] = print) -> dict:
    """``{"per_seed": {filter: [scores per seed]}, "truth": {filter: scores}, "differences",
    "info"}``."""
    root = Path(cfg.root)
    shards = root / "shards"
    test = lab.load_samples(shards, "test", columns=("sample_id", "image", "present", "masks",
                                                     "meta"))
    idx = np.arange(0, len(test["sample_id"]), cfg.every)
    ids = [test["sample_id"][i] for i in idx]
    table = load_feature_table(synthetic=root)
    table = table[table["area_msh"] > 0]
    by_time = {t: g for t, g in table.groupby("t_obs")}
    base = CycleConfig().region_config()
    configs = {"filtered": base, "unfiltered": replace(base, ar_min_area_msh=0.0)}
    channels = list(test["channels"])
    masks: dict[str, np.ndarray] = {"truth": (test["masks"][idx, 0] == 1)}
    for seed in cfg.seeds:
        run_dir = Path(cfg.runs_dir) / "runs" / f"{cfg.run_prefix}_s{seed}"
        ckpts = sorted(run_dir.glob("checkpoint_*"))
        if not ckpts:
            raise FileNotFoundError(f"{run_dir}: no checkpoint (run benchmarks/spnet.py with "
                                    f"--runs-dir {cfg.runs_dir} first)")
        model = load_model(ckpts[-1])
        masks[f"s{seed}"] = relabel.predict_masks(model, test["image"][idx],
                                                  test["present"][idx], channels)[:, 0] == 1
    per_image = {s: {f: {k: [] for k in SCORES} for f in FILTERS} for s in masks}
    t0 = time.perf_counter()
    for n, i in enumerate(idx):
        meta = test["meta"][i]
        meta = json.loads(meta) if isinstance(meta, str | bytes) else meta
        size = int(test["image"].shape[-1])
        header = sample_frame_header(size, str(ids[n]), meta_header(meta), meta_frame(meta))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            grid = sunpy.map.Map(np.zeros((size, size), np.float32), header)
            geom, _ = FC.map_geometry(grid)
        t = pd.Timestamp(str(ids[n]))
        t = t.tz_convert(None) if t.tzinfo else t
        regs = by_time.get(t)
        centres = (regs[["hgs_lon", "hgs_lat"]].to_numpy(float) if regs is not None
                   else np.zeros((0, 2)))
        ref = reference_labels(masks["truth"][n] & geom.on_disk, geom.lon, geom.lat, centres)
        for src, m in masks.items():
            for f, rc in configs.items():
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    res = find_entities({"AR": m[n].astype(np.uint8)}, grid, config=rc,
                                        geometry=geom)
                regions = res.labels.get("AR", np.zeros((size, size), np.int64))
                for k, v in clustering_scores(regions, ref, geom.on_disk).items():
                    per_image[src][f][k].append(v)
    log(f"[iatools-spnet] {len(idx)} test images × {len(masks)} mask sources × "
        f"{len(FILTERS)} settings in {time.perf_counter() - t0:.0f} s")
    arrays = {s: {f: {k: np.asarray(v, float) for k, v in d.items()} for f, d in fd.items()}
              for s, fd in per_image.items()}
    seeds = [f"s{s}" for s in cfg.seeds]
    groups = sun_of(ids, json.loads((root / RUNS_FILE).read_text())["runs"])

    def means(a: dict) -> dict[str, float]:
        return {k: float(np.nanmean(a[k])) for k in SCORES}

    out = {"truth": {f: means(arrays["truth"][f]) for f in FILTERS},
           "per_seed": {f: [means(arrays[s][f]) for s in seeds] for f in FILTERS}}
    out["summary"] = {f: {k: summarise([r[k] for r in out["per_seed"][f]]) for k in SCORES}
                      for f in FILTERS}
    y = np.zeros(len(idx))
    out["differences"] = {f: {k: {
        "seeds": compare([r[k] for r in out["per_seed"][f]], [out["truth"][f][k]] * len(seeds)),
        "bootstrap": paired_interval(_nanmean, y, np.stack([arrays[s][f][k] for s in seeds]),
                                     arrays["truth"][f][k], groups, n_boot=cfg.n_boot)}
        for k in ("ari", "iou")} for f in FILTERS}
    out["info"] = {"test_images": len(idx), "every": cfg.every, "test_suns": len(set(groups)),
                   "region_config": {f: {k: str(v) for k, v in vars(rc).items()}
                                     for f, rc in configs.items()},
                   "checkpoints": {f"s{s}": f"{cfg.run_prefix}_s{s}" for s in cfg.seeds}}
    return out


__all__ = ["FILTERS", "SCORES", "IAToolsSPNetConfig", "clustering_scores", "reference_labels",
           "run"]
