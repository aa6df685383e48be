"""Magnetogram crops of active regions, the input of the Hale/McIntosh classifier.

A crop is the AR's bounding square expanded by 5 %, padded (where it leaves the image) with the
mean of the square's edge pixels, resampled to ``size × size`` (160 in SA-AI 2025) and scaled with
the ``hmi_m`` channel scaling to [-1, 1]. Training augments crops with random 90° rotations,
scaling, translation and brightness. :func:`samples_from_directory` collects labelled crops from
a synthetic Sun directory (IATools entities matched to the true ARs).

The classifier itself is :class:`solarray.models.classifier.ARClassifier`.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from scipy.optimize import linear_sum_assignment
from torch.nn import functional as Fn

from solarray.analysis import coords as C
from solarray.analysis import observe as O
from solarray.analysis.crop_augment import augment
from solarray.core import channels
from solarray.core.classes import HALE_CLASSES, MCINTOSH_Z
from solarray.data.tables.table import read_table

#: The channel the crops are cut from (and scaled with).
CROP_CHANNEL = "hmi_m"


def crop_square(image: np.ndarray, mask: np.ndarray, *, size: int = 160,
                expand: float = 0.05) -> np.ndarray:
    """The AR's bounding square expanded by ``expand``, resampled to [size, size] float32.

    ``image`` [H, W] (e.g. B_LOS in G), ``mask`` [H, W] bool (the region's pixels). Parts of the
    square outside the image (and NaN pixels) take the mean of the square's edge pixels that lie
    inside the image.
    """
    image = np.asarray(image, dtype=np.float64)
    ys, xs = np.nonzero(np.asarray(mask, dtype=bool))
    if ys.size == 0:
        raise ValueError("crop_square: the region mask is empty")
    h, w = ys.max() - ys.min() + 1, xs.max() - xs.min() + 1
    side = max(int(math.ceil(max(h, w) * (1 + expand))), 4)
    cy, cx = (ys.min() + ys.max()) / 2.0, (xs.min() + xs.max()) / 2.0
    y0, x0 = int(round(cy - (side - 1) / 2.0)), int(round(cx - (side - 1) / 2.0))
    yy, xx = np.arange(y0, y0 + side), np.arange(x0, x0 + side)
    iny = (yy >= 0) & (yy < image.shape[0])
    inx = (xx >= 0) & (xx < image.shape[1])
    sq = np.full((side, side), np.nan)
    sq[np.ix_(iny, inx)] = image[np.ix_(yy[iny], xx[inx])]
    edge = np.concatenate([sq[0], sq[-1], sq[:, 0], sq[:, -1]])
    edge = edge[np.isfinite(edge)]
    fill = float(edge.mean()) if edge.size else float(np.nanmean(sq)) if np.isfinite(sq).any() else 0.0
    sq = np.where(np.isfinite(sq), sq, fill)
    t = torch.from_numpy(sq).float()[None, None]
    return Fn.interpolate(t, size=(size, size), mode="bilinear", align_corners=False)[0, 0].numpy()


def scale_input(crop_gauss: np.ndarray) -> np.ndarray:
    """Gauss → [-1, 1] with the catalogue's ``hmi_m`` scaling."""
    return channels.get(CROP_CHANNEL).scale(crop_gauss)


def region_crops(b_gauss: np.ndarray, labels: np.ndarray, region_labels, *, size: int = 160,
                 expand: float = 0.05) -> np.ndarray:
    """Scaled crops ``[N, 1, size, size]`` float32 of the regions ``labels == l`` for each ``l``
    in ``region_labels`` (``b_gauss`` [H, W] the LOS magnetogram in G)."""
    crops = [scale_input(crop_square(b_gauss, labels == lab, size=size, expand=expand))
             for lab in region_labels]
    if not crops:
        return np.zeros((0, 1, size, size), np.float32)
    return np.stack(crops)[:, None]


def samples_from_directory(data_dir: str | Path, *, size: int = 160, expand: float = 0.05,
                           max_match_deg: float = 8.0, region_config=None, every: int = 1) -> dict:
    """AR crops with truth labels from a synthetic output directory (tables/ar.parquet).

    Each IATools AR entity (from the truth masks) is matched one-to-one to the nearest true AR
    (≤ ``max_match_deg``) of its time step; its magnetogram crop gets that AR's Hale and
    McIntosh classes. Returns ``x`` [N, 1, S, S] (scaled), ``hale``/``mcintosh`` class-index
    arrays (positions in :data:`~solarray.core.classes.HALE_CLASSES` / ``MCINTOSH_Z``), ``lon``
    (deg), ``time`` and ``ar_number``. ``every``: use every ``every``-th time step only.
    """
    data_dir = Path(data_dir)
    truth_path = data_dir / "tables" / "ar.parquet"
    if not truth_path.exists():
        raise O.ObservationError(f"{truth_path}: no AR truth table (run `solarray synth`)")
    truth = read_table(truth_path, "AR truth table")
    t = pd.to_datetime(truth["t_obs"])
    truth["t"] = t.dt.tz_convert(None) if t.dt.tz is not None else t
    xs, hale, mcint, lons, times, nums = [], [], [], [], [], []
    if int(every) < 1:
        raise ValueError(f"every: expected a positive step, got {every}")
    for st in O.list_steps(data_dir).iloc[::int(every)].itertuples():
        if st.hmi_m is None:
            continue
        obs = O.analyse_step(st.masks, st.hmi_m, config=region_config)
        ar = obs.result.table
        ar = ar[ar["kind"] == "AR"] if len(ar) else ar
        tr = truth[truth["t"] == st.time]
        if not len(ar) or not len(tr):
            continue
        d = C.great_circle_deg(ar["hgs_lon"].to_numpy()[:, None], ar["hgs_lat"].to_numpy()[:, None],
                               tr["hgs_lon"].to_numpy()[None], tr["hgs_lat"].to_numpy()[None])
        ii, jj = linear_sum_assignment(np.where(d <= max_match_deg, d, 1e6))
        b = np.nan_to_num(obs.b_los, nan=0.0)
        for i, j in zip(ii, jj, strict=True):
            if d[i, j] > max_match_deg:
                continue
            lab = int(ar["label"].iloc[i])
            crop = crop_square(b, obs.result.labels["AR"] == lab, size=size, expand=expand)
            xs.append(scale_input(crop)[None])
            hale.append(HALE_CLASSES.index(tr["hale"].iloc[j]))
            mcint.append(MCINTOSH_Z.index(tr["mcintosh"].iloc[j]))
            lons.append(float(ar["hgs_lon"].iloc[i]))
            times.append(st.time)
            nums.append(int(tr["ar_number"].iloc[j]))
    x = np.stack(xs).astype(np.float32) if xs else np.zeros((0, 1, size, size), np.float32)
    return {"x": x, "hale": np.array(hale, dtype=np.int64),
            "mcintosh": np.array(mcint, dtype=np.int64), "lon": np.array(lons),
            "time": times, "ar_number": np.array(nums, dtype=np.int64)}


__all__ = ["CROP_CHANNEL", "augment", "crop_square", "region_crops", "samples_from_directory",
           "scale_input"]
