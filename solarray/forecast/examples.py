"""FPNet examples: the one AR crop (training and serving), table rows matched to frames, splits.

::

    ex = build_examples(frames, table, model.config)     # images, scalars, categories, labels
    splits = split_examples(ex, val_months=(3,), test_months=(1,))
    img = ar_crop(stack, row, col, frame=1.1, crop_rsun=0.275, image_size=64)  # serving

The crop is defined once here so that a served forecast sees exactly the input the model was
trained on: centre pixel ``floor(x + 0.5)`` (the rounding FPNet checkpoints were trained with),
side ``round(crop_rsun / frame · size)`` pixels (``crop_rsun`` is the half-width in R☉), zero
(the scaled background) outside the frame, then resampled to the model's ``image_size`` (area
mean when shrinking, bilinear when enlarging).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from solarray.data.dataset import assign_splits
from solarray.forecast.features import feature_arrays, utc_naive
from solarray.forecast.frames import Frames, ar_pixel
from solarray.models.fpnet import FPNetConfig


# --------------------------------------------------------------------------------------------
# The AR crop
# --------------------------------------------------------------------------------------------
def crop_width(crop_rsun: float, frame: float, size: int) -> int:
    """Side in pixels (≥ 2) of a crop of half-width ``crop_rsun`` R☉ from a ``size``-pixel
    frame spanning ±``frame`` R☉."""
    return max(2, int(round(crop_rsun / frame * size)))


def crop_region(image: np.ndarray, row: float, col: float, width: int,
                fill: float = 0.0) -> np.ndarray:
    """``[C, width, width]`` window of ``image`` ``[C, H, W]`` centred on pixel (``row``,
    ``col``) (row = array axis 1, col = axis 2; centre rounded as ``floor(x + 0.5)``), padded
    with ``fill`` outside the image."""
    c, h, w = image.shape
    r0 = int(np.floor(row + 0.5)) - width // 2
    c0 = int(np.floor(col + 0.5)) - width // 2
    out = np.full((c, width, width), fill, dtype=image.dtype)
    rs, re = max(r0, 0), min(r0 + width, h)
    cs, ce = max(c0, 0), min(c0 + width, w)
    if rs < re and cs < ce:
        out[:, rs - r0:re - r0, cs - c0:ce - c0] = image[:, rs:re, cs:ce]
    return out


def resize(images: np.ndarray, size: int) -> np.ndarray:
    """``images`` ``[N, C, H, W]`` resampled to ``[N, C, size, size]``: area mean when shrinking,
    bilinear (``align_corners=False``) when enlarging; returned as is when already that size."""
    if images.shape[-1] == size and images.shape[-2] == size:
        return images
    import torch
    import torch.nn.functional as F

    t = torch.from_numpy(np.ascontiguousarray(images))
    mode = "area" if images.shape[-1] > size else "bilinear"
    kw = {} if mode == "area" else {"align_corners": False}
    return F.interpolate(t, size=(size, size), mode=mode, **kw).numpy()


def ar_crops(images, rows, cols, frame: float, crop_rsun: float, image_size: int,
             index=None) -> np.ndarray:
    """FPNet's AR-mode inputs: crop ``k`` is ±``crop_rsun`` R☉ of ``images[index[k]]``
    ``[C, H, W]`` (a grid spanning ±``frame`` R☉) around pixel (``rows[k]``, ``cols[k]``),
    NaN → 0, resized to ``image_size``: float32 ``[K, C, image_size, image_size]``.
    ``images``: ``[N, C, H, W]`` or a sequence of equal-shaped ``[C, H, W]``; ``index``
    defaults to ``0 … K−1``."""
    n = len(rows)
    index = range(n) if index is None else index
    if n == 0:
        c = images.shape[1] if getattr(images, "ndim", 0) == 4 else \
            (images[0].shape[0] if len(images) else 0)
        return np.zeros((0, c, image_size, image_size), np.float32)
    width = crop_width(crop_rsun, frame, int(images[0].shape[-1]))
    crops = np.stack([crop_region(images[i], r, c, width)
                      for i, r, c in zip(index, rows, cols, strict=True)])
    crops = np.nan_to_num(crops.astype(np.float32, copy=False), nan=0.0)
    return resize(crops, image_size).astype(np.float32, copy=False)


def ar_crop(image: np.ndarray, row: float, col: float, frame: float, crop_rsun: float,
            image_size: int) -> np.ndarray:
    """One AR crop for a model config: ``[C, image_size, image_size]`` float32 around pixel
    (``row``, ``col``) of ``image`` ``[C, H, W]`` (see :func:`ar_crops`)."""
    return ar_crops([image], [row], [col], frame, crop_rsun, image_size)[0]


# --------------------------------------------------------------------------------------------
# Examples: table rows matched to frames
# --------------------------------------------------------------------------------------------
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
    ``flare_m24``. ``ar``: one per region row, a crop around its pixel position (the table's
    ``pixel_y``/``pixel_x`` on the frames' grid when it has them — a table built by the served
    chain, :mod:`solarray.pipeline.feature_tables` — else its ``hgs_lon``/``hgs_lat`` projected).
    """
    mc = config_view(model_config) if isinstance(model_config, Mapping) else model_config
    missing = [c for c in ("t_obs",) + (("hgs_lon", "hgs_lat") if mc.mode == "ar" else ())
               if c not in table.columns]
    if missing:
        raise ValueError(f"feature table lacks column(s) {', '.join(missing)} for {mc.mode} mode")
    tab = table.copy()
    tab["t_obs"] = utc_naive(tab["t_obs"]).to_numpy()
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
        images = resize(frames.image[idx], mc.image_size)
    else:
        if {"pixel_x", "pixel_y"} <= set(tab.columns):  # the served chain's region centres
            rows = tab["pixel_y"].to_numpy(float)
            cols = tab["pixel_x"].to_numpy(float)
        else:
            rows, cols = ar_pixel(tab["hgs_lon"], tab["hgs_lat"], tab["t_obs"],
                                  frames.image.shape[-1], frames.frame_rsun)
        tab["pixel_row"], tab["pixel_col"] = rows, cols
        images = ar_crops(frames.image, rows, cols, frames.frame_rsun, mc.crop_rsun,
                          mc.image_size, index=idx)
        label = tab["label"].to_numpy(np.int64) if "label" in tab.columns \
            else np.full(len(tab), -1, np.int64)
    scal, cats = feature_arrays(tab, mc.scalar_features, mc.categorical_features)
    return Examples(images.astype(np.float32), scal, cats, label.astype(np.int64), tab, dropped)


def config_view(d: Mapping[str, Any]):
    """Attribute view of the fields build_examples needs, with FPNetConfig defaults."""
    defaults = {f.name: f.default for f in dataclasses.fields(FPNetConfig)
                if f.default is not dataclasses.MISSING}
    preset = FPNetConfig.PRESETS.get(d.get("preset") or "", {})
    values = {**defaults, **preset, **{k: v for k, v in d.items() if k != "preset"}}
    return type("ConfigView", (), values)


def split_examples(ex: Examples, val_months: Sequence[int] = (3,),
                   test_months: Sequence[int] = (1,), gap_hours: float = 24) -> dict[str, Examples]:
    """``{"train", "val", "test"}`` by calendar month (:func:`dataset.assign_splits`)."""
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
