"""One perception → analysis → forecast cycle on one sample, as a library (no Ray).

::

    sample = Sample(image [C, H, W] in [-1, 1], channels, t_obs, header=frame header)
    models = load_models()                        # solarray.serve.models
    result = run_cycle(sample, models, CycleConfig(), history=FlareHistory.load(xrs=...))
    result.to_json()                              # what POST /v1/forecast returns
    render_map_png(result.map_inputs())           # the situational-awareness map

The three stages are separate functions because the Serve app runs each in its own deployment
(SPNet and FPNet batched over requests):

1. :func:`perceive` — SPNet on the stack → AR/CH/FL probabilities and masks ``[3, H, W]``;
2. :func:`analyse` — IATools on the masks: entities (DBSCAN ARs, connected CHs/FLs), Stonyhurst and
   Carrington coordinates, areas (MSH), magnetic parameters (flux, Schrijver R) from the
   magnetogram, Hale and McIntosh classes, flare index (24 h) per region and disk, F10.7;
3. :func:`forecast` — FPNet on the full disk and on a crop around each AR with its features →
   P(≥M1 flare within 24 h), calibrated when the checkpoint carries a calibration.

Models accept any input size: images are resampled to each model's ``image_size`` and SPNet's
probabilities back to the sample grid. Missing channels are zero planes flagged absent.
"""

from __future__ import annotations

import math
import time
import uuid
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from solarray.core import channels as chans

FEATURES: tuple[str, ...] = ("AR", "CH", "FL")


# --------------------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------------------


@dataclass
class Sample:
    """One observation time on solarray's ML frame (north up, disk centred, ±``frame`` R☉).

    ``image``: float32 ``[C, H, W]`` (H = W) scaled to [-1, 1] per channel, NaN where unknown;
    ``header``: FITS keywords of the grid (:func:`solarray.core.geometry.frame_header`: WCS,
    DATE-OBS, observer); ``present``: bool ``[C]``; ``b_los``: the LOS magnetogram in G ``[H, W]``
    when known unclipped (otherwise it is unscaled from the ``hmi_m`` plane, clipped at ±1500 G).
    """

    image: np.ndarray
    channels: tuple[str, ...]
    t_obs: datetime
    header: dict[str, Any]
    present: np.ndarray | None = None
    b_los: np.ndarray | None = None
    sample_id: str = ""
    source: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.image = np.asarray(self.image, dtype=np.float32)
        self.channels = chans.resolve(tuple(self.channels))
        if self.image.ndim != 3 or self.image.shape[1] != self.image.shape[2]:
            raise ValueError(f"sample image must be [C, N, N], got {self.image.shape}")
        if self.image.shape[0] != len(self.channels):
            raise ValueError(f"sample has {self.image.shape[0]} planes for "
                             f"{len(self.channels)} channels {self.channels}")
        if self.present is None:
            self.present = np.array([np.isfinite(p).any() for p in self.image], dtype=bool)
        self.present = np.asarray(self.present, dtype=bool)
        if self.b_los is not None and self.b_los.shape != self.image.shape[1:]:
            raise ValueError(f"b_los {self.b_los.shape} does not match the image {self.image.shape}")
        self.header = {k: v for k, v in dict(self.header).items() if k not in ("COMMENT", "HISTORY")}
        if not self.sample_id:
            self.sample_id = self.t_obs.strftime("%Y-%m-%dT%H:%M:%S")

    @property
    def size(self) -> int:
        return int(self.image.shape[-1])

    @property
    def frame(self) -> float:
        return float(self.header.get("FRAME", 1.1))

    def magnetogram(self) -> np.ndarray | None:
        """LOS field in G ``[H, W]`` (NaN where unknown), or None without ``hmi_m``."""
        if self.b_los is not None:
            return self.b_los
        if "hmi_m" in self.channels and self.present[self.channels.index("hmi_m")]:
            return chans.get("hmi_m").unscale(self.image[self.channels.index("hmi_m")])
        return None

    def grid_map(self):
        """A sunpy map of the sample grid (zeros) carrying the WCS and observer."""
        import sunpy.map

        meta = dict(self.header)
        meta.update(NAXIS=2, NAXIS1=self.size, NAXIS2=self.size)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return sunpy.map.Map(np.zeros((self.size, self.size), np.float32), meta)


def sample_header(t_obs: datetime | str, size: int, frame: float = 1.1,
                  source_header: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Frame header of a sample seen from ``source_header``'s observer (else Earth at ``t_obs``)."""
    from astropy.time import Time

    from solarray.core.geometry import earth_observer, frame_header, observer_from_header

    t = Time(t_obs, scale="utc")
    obs = None
    if source_header is not None:
        h = dict(source_header)
        if all(h.get(k) not in (None, "") for k in ("DSUN_OBS", "HGLN_OBS", "HGLT_OBS")):
            h["DATE-OBS"] = t.isot
            obs = observer_from_header(h)
    obs = obs or earth_observer(t)
    return dict(frame_header(obs, size, frame))


@dataclass
class CycleConfig:
    """Settings of one cycle (everything that is not a model)."""

    threshold: float = 0.5  # SPNet probability → mask
    region: dict[str, Any] = field(default_factory=dict)  # RegionConfig overrides
    classify: bool = True  # run the Hale/McIntosh classifiers
    fi_window_hours: float = 24.0
    assign_deg: float = 5.0  # flare → region tolerance beyond the region's radius, deg
    max_regions: int = 64  # per-AR forecasts for at most this many regions (largest first)

    def region_config(self):
        from solarray.analysis.regions import RegionConfig

        return RegionConfig(**self.region)


# --------------------------------------------------------------------------------------------------
# Model input preparation
# --------------------------------------------------------------------------------------------------


def prepare_stack(image: np.ndarray, present: np.ndarray, channels: Sequence[str],
                  model_channels: Sequence[str], size: int) -> tuple[np.ndarray, np.ndarray]:
    """``image [C, H, W]`` → the model's channel order and size: ``([C', size, size], present [C'])``.

    Channels the sample lacks become zero planes with ``present`` 0; NaN → 0 (the scaled
    background); resampling is an area mean when shrinking and bilinear when enlarging.
    """
    import torch
    import torch.nn.functional as Fn

    channels = list(channels)
    idx = [channels.index(c) if c in channels else -1 for c in model_channels]
    if all(i < 0 or not present[i] for i in idx):
        raise ValueError(f"the model needs one of {', '.join(model_channels)}; the sample has "
                         f"{', '.join(c for c, p in zip(channels, present, strict=True) if p)}")
    h = image.shape[-1]
    out = np.zeros((len(idx), h, h), np.float32)
    pres = np.zeros(len(idx), np.float32)
    for j, i in enumerate(idx):
        if i >= 0 and present[i]:
            out[j] = np.nan_to_num(image[i], nan=0.0, posinf=0.0, neginf=0.0)
            pres[j] = 1.0
    if h != size:
        t = torch.from_numpy(out)[None]
        mode = "area" if size < h else "bilinear"
        kw = {} if mode == "area" else {"align_corners": False}
        out = Fn.interpolate(t, size=(size, size), mode=mode, **kw)[0].numpy()
    return out, pres


def crop_region(image: np.ndarray, cx: float, cy: float, half_px: float, size: int) -> np.ndarray:
    """A square ``[C, size, size]`` crop of ``image [C, H, W]`` centred on pixel (cx, cy) with
    half-width ``half_px``; outside the image → 0 (the scaled background)."""
    import torch
    import torch.nn.functional as Fn

    c, h, w = image.shape
    side = max(int(round(2 * half_px)), 2)
    x0, y0 = int(round(cx - side / 2)), int(round(cy - side / 2))
    out = np.zeros((c, side, side), np.float32)
    ys, xs = slice(max(y0, 0), min(y0 + side, h)), slice(max(x0, 0), min(x0 + side, w))
    if ys.stop > ys.start and xs.stop > xs.start:
        out[:, ys.start - y0:ys.stop - y0, xs.start - x0:xs.stop - x0] = image[:, ys, xs]
    out = np.nan_to_num(out, nan=0.0)
    if side != size:
        mode = "area" if size < side else "bilinear"
        kw = {} if mode == "area" else {"align_corners": False}
        out = Fn.interpolate(torch.from_numpy(out)[None], size=(size, size), mode=mode, **kw)[0]
        out = out.numpy()
    return out


# --------------------------------------------------------------------------------------------------
# Stage 1: perception (SPNet)
# --------------------------------------------------------------------------------------------------


@dataclass
class Perception:
    """SPNet output on the sample grid: probabilities float32 and masks uint8, ``[3, H, W]``."""

    probability: np.ndarray
    masks: np.ndarray
    threshold: float


def perceive(spnet, samples: Sequence[Sample], threshold: float = 0.5) -> list[Perception]:
    """SPNet on a batch of samples (any sizes, any channel sets) → one :class:`Perception` each."""
    import torch
    import torch.nn.functional as Fn

    if not samples:
        return []
    cfg = spnet.config
    xs, ps = zip(*(prepare_stack(s.image, s.present, s.channels, cfg.channels, cfg.image_size)
                   for s in samples), strict=True)
    with torch.inference_mode():
        prob = spnet.predict_proba(torch.from_numpy(np.stack(xs)),
                                   torch.from_numpy(np.stack(ps)))
    out = []
    for s, p in zip(samples, prob, strict=True):
        if p.shape[-1] != s.size:
            p = Fn.interpolate(p[None], size=(s.size, s.size), mode="bilinear",
                               align_corners=False)[0]
        p = p.float().numpy()
        disk = _disk_mask(s.size, s.frame)
        p = np.where(disk[None], p, 0.0).astype(np.float32)
        out.append(Perception(p, (p >= threshold).astype(np.uint8), threshold))
    return out


def _disk_mask(n: int, frame: float) -> np.ndarray:
    c = (n - 1) / 2.0
    yy, xx = np.mgrid[0:n, 0:n]
    return np.hypot(xx - c, yy - c) * (2.0 * frame / n) <= 1.0


# --------------------------------------------------------------------------------------------------
# Stage 2: analysis (IATools)
# --------------------------------------------------------------------------------------------------


AR_FIELDS = ("number", "hgs_lon", "hgs_lat", "carr_lon", "carr_lat", "hpc_x", "hpc_y",
             "area_msh", "lon_span", "flux_unsigned", "flux_pos", "flux_neg", "r", "log_r",
             "psep_mm", "max_abs_b")
CH_FIELDS = ("number", "hgs_lon", "hgs_lat", "carr_lon", "carr_lat", "area_msh", "lon_min",
             "lon_max", "lon_span", "mean_b", "polarity")
FL_FIELDS = ("number", "hgs_lon", "hgs_lat", "carr_lon", "carr_lat", "area_msh", "end1_lon",
             "end1_lat", "end2_lon", "end2_lat", "length_mm")


@dataclass
class Analysis:
    """IATools output: entity rows (JSON-ready dicts), the AR label image and disk features."""

    ars: list[dict[str, Any]]
    chs: list[dict[str, Any]]
    fls: list[dict[str, Any]]
    ar_labels: np.ndarray  # int32 [H, W], values = AR numbers
    disk: dict[str, Any]
    notes: list[str] = field(default_factory=list)


def analyse(sample: Sample, perception: Perception, *, hale=None, mcintosh=None,
            history=None, config: CycleConfig | None = None) -> Analysis:
    """IATools on SPNet's masks (see the module docstring). ``hale``/``mcintosh``:
    :class:`~solarray.analysis.classify.DualClassifier` or None; ``history``:
    :class:`~solarray.serve.flares.FlareHistory` or None (flare index unknown)."""
    from solarray.analysis.regions import find_entities

    config = config or CycleConfig()
    grid = sample.grid_map()
    b = sample.magnetogram()
    notes: list[str] = []
    if b is None:
        notes.append("no hmi_m magnetogram: magnetic parameters and classes are unknown")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = find_entities(perception.masks, grid, b_los=b, config=config.region_config())
    notes += res.notes
    table = res.table
    tables = {k: table[table["kind"] == k].reset_index(drop=True) if len(table) else table
              for k in FEATURES}
    ars = tables["AR"]
    labels = res.labels.get("AR", np.zeros((sample.size, sample.size), np.int32))
    ar_rows = [_row(r, AR_FIELDS) for r in ars.to_dict("records")] if len(ars) else []
    for row, rec in zip(ar_rows, ars.to_dict("records") if len(ars) else [], strict=True):
        sel = labels == rec["label"]
        ys, xs = np.nonzero(sel)
        row["pixel_x"], row["pixel_y"] = float(xs.mean()), float(ys.mean())
        row["bbox"] = [int(rec["bbox_x0"]), int(rec["bbox_y0"]), int(rec["bbox_x1"]),
                       int(rec["bbox_y1"])]
    # Classes from the magnetogram crops.
    for task, clf in (("hale", hale), ("mcintosh", mcintosh)):
        for row in ar_rows:
            row[task], row[f"{task}_probability"] = None, None
        if clf is None or not config.classify or b is None or not ar_rows:
            continue
        x = _class_inputs(b, labels, ars, clf.config)
        proba = clf.predict_proba(x, ars["hgs_lon"].to_numpy(float))
        for row, p in zip(ar_rows, proba, strict=True):
            k = int(np.argmax(p))
            row[task], row[f"{task}_probability"] = clf.config.classes[k], float(p[k])
    # Flare history.
    disk = {"flare_index": None, "n_c": None, "n_m": None, "n_x": None, "f107": None}
    for row in ar_rows:
        row.update(flare_index=None, n_c=None, n_m=None, n_x=None)
    t_ref = np.datetime64(sample.t_obs.replace(tzinfo=None), "s")
    if history is not None and history.configured:
        d = history.disk_index(t_ref, window_hours=config.fi_window_hours)
        disk.update(flare_index=d["fi"], n_c=d["n_c"], n_m=d["n_m"], n_x=d["n_x"])
        disk["f107"] = _finite(history.f107_at(t_ref))
        if ar_rows:
            per = history.region_index(t_ref, ars, assign_deg=config.assign_deg,
                                       window_hours=config.fi_window_hours)
            for row, rec in zip(ar_rows, per.to_dict("records"), strict=True):
                row.update(flare_index=float(rec["fi"]), n_c=int(rec["n_c"]),
                           n_m=int(rec["n_m"]), n_x=int(rec["n_x"]))
        notes += history.notes
    else:
        notes.append("no flare history configured: flare index unknown")
    logs = [r["log_r"] for r in ar_rows if r.get("log_r") is not None]
    disk.update(n_regions=len(ar_rows), n_ar=float(len(ar_rows)),
                area_msh=float(sum(r["area_msh"] or 0 for r in ar_rows)),
                log_r=max(logs) if logs else None,
                hale=_most_complex([r.get("hale") for r in ar_rows], "hale"),
                mcintosh=_most_complex([r.get("mcintosh") for r in ar_rows], "mcintosh"))
    return Analysis(
        ars=ar_rows,
        chs=[_row(r, CH_FIELDS) for r in tables["CH"].to_dict("records")] if len(tables["CH"]) else [],
        fls=[_row(r, FL_FIELDS) for r in tables["FL"].to_dict("records")] if len(tables["FL"]) else [],
        ar_labels=labels.astype(np.int32), disk=disk, notes=notes)


def _class_inputs(b: np.ndarray, labels: np.ndarray, ars, cfg) -> np.ndarray:
    from solarray.analysis.classify import crop_square, scale_input

    crops = [scale_input(crop_square(b, labels == lab, size=cfg.in_size, expand=cfg.expand))
             for lab in ars["label"]]
    return np.stack(crops)[:, None]


# Complexity rank = position in FPNet's category vocabulary (as solarray.forecast.features ranks).
_ORDER = {"hale": ("alpha", "beta", "beta-x"), "mcintosh": ("A", "B", "C", "D", "E", "F", "H")}


def _most_complex(values: Sequence[str | None], task: str) -> str | None:
    order = _ORDER[task]
    known = [v for v in values if v in order]
    return max(known, key=order.index) if known else None


def _finite(v) -> float | None:
    try:
        v = float(v)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _row(rec: Mapping[str, Any], fields: Sequence[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k in fields:
        v = rec.get(k)
        if k in ("number", "polarity"):
            out[k] = None if v is None or (isinstance(v, float) and math.isnan(v)) else int(v)
        else:
            out[k] = _finite(v)
    return out


# --------------------------------------------------------------------------------------------------
# Stage 3: forecast (FPNet)
# --------------------------------------------------------------------------------------------------


@dataclass
class Forecast:
    """P(≥M1 within 24 h): the full-disk model, each region (by number), and the regions combined
    as 1 − Π(1 − p_i)."""

    full_disk: float | None
    regions: dict[int, float]
    from_regions: float | None


def region_features(row: Mapping[str, Any], disk: Mapping[str, Any]) -> dict[str, Any]:
    """FPNet feature values of one region (unknown → NaN / None)."""
    return {"f107": disk.get("f107"), "flare_index": row.get("flare_index"),
            "log_r": row.get("log_r"), "r": row.get("r"), "area_msh": row.get("area_msh"),
            "flux_unsigned": row.get("flux_unsigned"), "hale": row.get("hale"),
            "mcintosh": row.get("mcintosh")}


def disk_features(disk: Mapping[str, Any]) -> dict[str, Any]:
    """FPNet feature values of the full disk, as :func:`solarray.forecast.features.full_disk_table`
    defines them: disk FI, total AR area, number of ARs, most complex classes (+ largest log R)."""
    return {k: disk.get(k) for k in ("f107", "flare_index", "log_r", "area_msh", "n_ar", "hale",
                                      "mcintosh")}


def feature_tensors(model, feats: Sequence[Mapping[str, Any]]):
    """``(scalars [B, Ks] float32 NaN unknown, categories [B, Kc] int64 0 unknown)`` in the order
    of ``model.config.scalar_features``/``categorical_features``."""
    import torch

    cfg = model.config
    sc = np.array([[np.nan if (v := f.get(k)) is None else float(v) for k in cfg.scalar_features]
                   for f in feats], dtype=np.float32).reshape(len(feats), len(cfg.scalar_features))
    cats = np.zeros((len(feats), len(cfg.categorical_features)), np.int64)
    if cfg.categorical_features:
        from solarray.models.fpnet import encode_categories

        for j, name in enumerate(cfg.categorical_features):
            cats[:, j] = encode_categories([f.get(name) for f in feats], name)
    return torch.from_numpy(sc), torch.from_numpy(cats)


def _probabilities(model, images: np.ndarray, feats: Sequence[Mapping[str, Any]]) -> np.ndarray:
    import torch

    if not len(images):
        return np.zeros(0)
    sc, cats = feature_tensors(model, feats)
    with torch.inference_mode():
        p = model.predict_proba(torch.from_numpy(images), sc, cats).float().numpy()
    cal = getattr(model, "calibrated", None)
    return np.clip(np.asarray(cal(p) if cal else p, dtype=np.float64), 0.0, 1.0)


def forecast(fp_disk, fp_ar, samples: Sequence[Sample], analyses: Sequence[Analysis],
             max_regions: int = 64) -> list[Forecast]:
    """FPNet on a batch: one full-disk image per sample, one crop per AR (largest
    ``max_regions`` per sample). Either model may be None (its probabilities are None)."""
    disk_p = [None] * len(samples)
    if fp_disk is not None and samples:
        c = fp_disk.config
        imgs = np.stack([prepare_stack(s.image, s.present, s.channels, c.channels,
                                       c.image_size)[0] for s in samples])
        disk_p = list(_probabilities(fp_disk, imgs, [disk_features(a.disk) for a in analyses]))
    region_p: list[dict[int, float]] = [{} for _ in samples]
    if fp_ar is not None:
        c = fp_ar.config
        crops, feats, owners = [], [], []
        for i, (s, a) in enumerate(zip(samples, analyses, strict=True)):
            if not a.ars:
                continue
            full, _ = prepare_stack(s.image, s.present, s.channels, c.channels, s.size)
            half = c.crop_rsun * s.size / (2.0 * s.frame)
            rows = sorted(a.ars, key=lambda r: -(r.get("area_msh") or 0))[:max_regions]
            for row in rows:
                crops.append(crop_region(full, row["pixel_x"], row["pixel_y"], half,
                                         c.image_size))
                feats.append(region_features(row, a.disk))
                owners.append((i, row["number"]))
        if crops:
            probs = _probabilities(fp_ar, np.stack(crops), feats)
            for (i, n), p in zip(owners, probs, strict=True):
                region_p[i][int(n)] = float(p)
    out = []
    for dp, rp in zip(disk_p, region_p, strict=True):
        combined = float(1.0 - np.prod([1.0 - p for p in rp.values()])) if rp else (
            0.0 if fp_ar is not None else None)
        out.append(Forecast(None if dp is None else float(dp), rp, combined))
    return out


# --------------------------------------------------------------------------------------------------
# The whole cycle
# --------------------------------------------------------------------------------------------------


@dataclass
class MapInputs:
    """What the situational-awareness map needs (kept by the service for ``map.png``)."""

    background: np.ndarray  # [H, W] scaled [-1, 1]
    channel: str
    masks: np.ndarray  # uint8 [3, H, W]
    ars: list[dict[str, Any]]
    chs: list[dict[str, Any]]
    fls: list[dict[str, Any]]
    t_obs: datetime
    full_disk: float | None
    untrained: bool


@dataclass
class CycleResult:
    """The outcome of one cycle; :meth:`to_json` is the API response."""

    id: str
    sample: Sample
    perception: Perception
    analysis: Analysis
    forecast: Forecast
    versions: dict[str, str]
    timings: dict[str, float]
    warnings: list[str] = field(default_factory=list)
    cpu: dict[str, float] = field(default_factory=dict)  # process CPU seconds per stage

    @property
    def untrained(self) -> bool:
        from solarray.serve import UNTRAINED

        return any(UNTRAINED in v for v in self.versions.values())

    def to_json(self) -> dict[str, Any]:
        return build_response(self.id, self.sample, self.analysis, self.forecast, self.versions,
                              self.timings, self.warnings)

    def map_inputs(self) -> MapInputs:
        return map_inputs(self.sample, self.perception, self.analysis, self.forecast,
                          self.untrained)


def map_inputs(sample: Sample, perception: Perception, analysis: Analysis, fc: Forecast,
               untrained: bool) -> MapInputs:
    """The map's data: the background plane (hmi_m, else aia193, else the first present)."""
    order = [c for c in ("hmi_m", "aia193", "aia171", "aia304") if c in sample.channels]
    order += list(sample.channels)
    ch = next(c for c in order if sample.present[sample.channels.index(c)])
    ars = [dict(r, p_m24=fc.regions.get(r["number"])) for r in analysis.ars]
    return MapInputs(sample.image[sample.channels.index(ch)].copy(), ch, perception.masks, ars,
                     analysis.chs, analysis.fls, sample.t_obs, fc.full_disk, untrained)


def build_response(result_id: str, sample: Sample, analysis: Analysis, fc: Forecast,
                   versions: Mapping[str, str], timings: Mapping[str, float],
                   warnings_: Sequence[str] = ()) -> dict[str, Any]:
    """The JSON body of a forecast (NaN → null)."""
    from solarray.serve import UNTRAINED

    regions = []
    for r in analysis.ars:
        row = dict(r)
        row["p_m24"] = fc.regions.get(r["number"])
        regions.append(row)
    untrained = sorted(k for k, v in versions.items() if UNTRAINED in v)
    warn = list(warnings_)
    if untrained:
        warn.insert(0, f"UNTRAINED models ({', '.join(untrained)}): probabilities, masks and "
                       "classes are not meaningful")
    return _json_safe({
        "id": result_id,
        "observation_time": sample.t_obs.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "sample_id": sample.sample_id,
        "channels": list(sample.channels),
        "channels_present": [c for c, p in zip(sample.channels, sample.present, strict=True) if p],
        "image_size": sample.size,
        "full_disk": {"p_m24": fc.full_disk, "p_m24_from_regions": fc.from_regions,
                      **analysis.disk},
        "regions": regions,
        "coronal_holes": analysis.chs,
        "filaments": analysis.fls,
        "model_versions": dict(versions),
        "untrained": bool(untrained),
        "timings_s": {k: round(float(v), 4) for k, v in timings.items()},
        "warnings": warn,
        "notes": list(analysis.notes),
        "map_url": f"/v1/forecast/{result_id}/map.png",
    })


def _json_safe(obj):
    if isinstance(obj, dict):
        return {str(k): _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def new_id() -> str:
    """A fresh forecast id (32 hex characters)."""
    return uuid.uuid4().hex


def run_cycle(sample: Sample, models, config: CycleConfig | None = None, *,
              history=None, result_id: str | None = None) -> CycleResult:
    """Perception → analysis → forecast on one sample with ``models`` (a
    :class:`~solarray.serve.models.ModelSet`); wall-clock timings per stage in seconds (and the
    process CPU seconds in ``result.cpu``: on a shared machine the wall clock mostly waits)."""
    config = config or CycleConfig()
    timings: dict[str, float] = {}
    cpu: dict[str, float] = {}
    t0, c0 = time.perf_counter(), time.process_time()
    perception = perceive(models.get("spnet"), [sample], config.threshold)[0]
    t1, c1 = time.perf_counter(), time.process_time()
    timings["perception"], cpu["perception"] = t1 - t0, c1 - c0
    analysis = analyse(sample, perception, hale=models.optional("hale"),
                       mcintosh=models.optional("mcintosh"), history=history, config=config)
    t2, c2 = time.perf_counter(), time.process_time()
    timings["analysis"], cpu["analysis"] = t2 - t1, c2 - c1
    fc = forecast(models.optional("fpnet_full_disk"), models.optional("fpnet_ar"), [sample],
                  [analysis], config.max_regions)[0]
    t3, c3 = time.perf_counter(), time.process_time()
    timings["forecast"], cpu["forecast"] = t3 - t2, c3 - c2
    timings["total"], cpu["total"] = t3 - t0, c3 - c0
    warn = [f"model {r} not loaded: {e}" for r, e in models.errors().items()]
    return CycleResult(result_id or new_id(), sample, perception, analysis, fc, models.versions(),
                       timings, warn, cpu)


__all__ = ["Analysis", "CycleConfig", "CycleResult", "Forecast", "MapInputs", "Perception",
           "Sample", "analyse", "build_response", "crop_region", "disk_features", "forecast",
           "map_inputs", "new_id", "perceive", "prepare_stack", "region_features", "run_cycle",
           "sample_header"]
