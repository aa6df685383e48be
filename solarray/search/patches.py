"""AR patches (SHARP-like cutouts) of the magnetogram: one fixed-size square per active region
and time, with its time, Stonyhurst position, region number and physical parameters.

Two sources, one row format:

* :func:`patches_from_shards`: ingest's shards with truth masks (``masks``, AR plane) or with
  a label version of SPNet's predicted masks (``solarray label predict``): the AR pixels are
  grouped into regions (components merged within ``merge_px``), each region is numbered by
  linking it to the previous time's region its differentially-rotated centre lands nearest
  (within ``max_link_deg``), and a square of ``size`` pixels is cut around its centre;
* :func:`synthetic_patches`: the synthetic Sun rendered in memory (no FITS, no Ray), with the
  truth AR numbers: a quick patch set for tests and a fresh clone.

A patch file is named like a shard (``shard_<t0>_<t1>.parquet``) with the shard columns
(``t_obs``, ``sample_id``, ``channels``, ``image`` ``[C, S, S]`` scaled as ingest scales,
``present``), so ``solarray pretrain --model simsiam --data PATCH_DIR`` trains on it, plus
``region``, ``hgs_lon``/``hgs_lat`` (deg), ``row``/``col`` (centre pixel in the full frame),
``area_px``, ``pixel_size_mm`` and ``tuf``/``tpf``/``tnf`` (Mx) and ``psep`` (Mm) computed on the
patch's ``hmi_m`` in Gauss (the LOS field stands in for Bz, as in the synthetic Sun's ``hmi_m``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from astropy.time import Time, TimeDelta
from scipy import ndimage

from solarray.analysis.regions import connected_merge
from solarray.core import channels as chans
from solarray.core.atomic import atomic_path
from solarray.core.frame import FRAME_RSUN
from solarray.core.frame_header import centred_grid
from solarray.core.geometry import (
    R_SUN_M,
    earth_observer,
    great_circle_deg,
    grid_geometry,
    hpc_to_hgs,
    synodic_rate,
)
from solarray.data.labels.store import LabelSet
from solarray.data.shards import SHARD_PREFIX, shard_paths
from solarray.data.synthetic import model as sun_model
from solarray.data.synthetic.render import hmi_field, render_fields
from solarray.forecast.examples import crop_region
from solarray.search.parameters import PARAMETERS, parameters

FIELD_CHANNEL = "hmi_m"
META_COLUMNS = ("t_obs", "sample_id", "region", "hgs_lon", "hgs_lat", "row", "col", "area_px",
                "pixel_size_mm", *PARAMETERS)


def pixel_size_mm(size: int, frame: float = FRAME_RSUN) -> float:
    """Mm per pixel of a ``size``-pixel frame spanning ±``frame`` R☉ (at disk centre)."""
    return 2.0 * frame * R_SUN_M / 1e6 / size


def stonyhurst(rows: np.ndarray, cols: np.ndarray, t: datetime, size: int,
               frame: float = FRAME_RSUN) -> tuple[np.ndarray, np.ndarray]:
    """Stonyhurst lon/lat (deg, NaN off disk) of pixels (row, col) of the preprocessed frame
    (north up, disk centred, Earth observer at ``t``; sunpy ephemerides)."""
    obs = earth_observer(Time(t, scale="utc"))
    grid = centred_grid(size, obs.rsun_obs, frame)
    tx, ty = grid.pixel_to_hpc(np.asarray(cols, float), np.asarray(rows, float))
    g = hpc_to_hgs(tx, ty, obs)
    return np.where(g.on_disk, g.lon, np.nan), np.where(g.on_disk, g.lat, np.nan)


def _rows_for(t: datetime, field_scaled: np.ndarray, labels: np.ndarray,
              numbers: dict[int, int], size: int, channels: Sequence[str],
              frame: float, min_px: int, extra: np.ndarray | None = None) -> list[dict]:
    """Patch rows of one time: ``field_scaled`` ``[C, H, W]`` (scaled; channel 0 is hmi_m),
    ``labels`` ``[H, W]`` region labels, ``numbers`` label → region number."""
    n = field_scaled.shape[-1]
    labs = [lab for lab in numbers if (labels == lab).sum() >= min_px]
    if not labs:
        return []
    centres = ndimage.center_of_mass(np.ones_like(labels), labels, labs)
    rows_c = np.array([c[0] for c in centres])
    cols_c = np.array([c[1] for c in centres])
    lon, lat = stonyhurst(rows_c, cols_c, t, n, frame)
    px_mm = pixel_size_mm(n, frame)
    hmi = chans.get(FIELD_CHANNEL)
    out = []
    for lab, r, c, lo, la in zip(labs, rows_c, cols_c, lon, lat, strict=True):
        patch = np.nan_to_num(crop_region(field_scaled, r, c, size), nan=0.0).astype(np.float32)
        params = parameters(hmi.unscale(patch[0]), px_mm)
        region = int(numbers[lab])
        out.append({"t_obs": t, "sample_id": f"{t:%Y-%m-%dT%H:%M:%S}_ar{region}",
                    "channels": list(channels), "image": patch,
                    "present": [True] * len(channels), "region": region,
                    "hgs_lon": float(lo), "hgs_lat": float(la), "row": float(r), "col": float(c),
                    "area_px": int((labels == lab).sum()), "pixel_size_mm": px_mm, **params})
    return out


class Linker:
    """Region numbers across time: a region keeps the number of the previous time's region
    whose centre, rotated at the synodic rate, lies nearest (≤ ``max_deg``, one-to-one); a gap
    longer than ``max_gap_h`` starts afresh. New regions take the next free number."""

    def __init__(self, max_deg: float = 6.0, max_gap_h: float = 6.0):
        self.max_deg, self.max_gap_h = max_deg, max_gap_h
        self.prev: tuple[datetime, np.ndarray, np.ndarray, np.ndarray] | None = None
        self.next_number = 1

    def assign(self, t: datetime, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        numbers = np.zeros(len(lon), dtype=np.int64)
        if self.prev is not None and (t - self.prev[0]) <= timedelta(hours=self.max_gap_h):
            t0, plon, plat, pnum = self.prev
            days = (t - t0).total_seconds() / 86400.0
            rlon = plon + synodic_rate(plat) * days
            pairs = sorted((float(great_circle_deg(rlon[j], plat[j], lon[i], lat[i])), i, j)
                           for i in range(len(lon)) for j in range(len(plon)))
            used_i, used_j = set(), set()
            for d, i, j in pairs:
                if d <= self.max_deg and i not in used_i and j not in used_j:
                    numbers[i] = pnum[j]
                    used_i.add(i)
                    used_j.add(j)
        for i in np.nonzero(numbers == 0)[0]:
            numbers[i] = self.next_number
            self.next_number += 1
        self.prev = (t, np.asarray(lon, float), np.asarray(lat, float), numbers)
        return numbers


def patches_from_shards(shard_dir: str | os.PathLike, size: int = 32,
                        channels: Sequence[str] = (FIELD_CHANNEL,), min_px: int = 4,
                        merge_px: float = 3.0, max_link_deg: float = 6.0,
                        labels: LabelSet | None = None) -> list[dict]:
    """Patch rows from ingest's shards in ``shard_dir``. AR masks: the shards' ``masks`` column
    (truth), or ``labels`` — a label version, e.g. SPNet's predicted masks from
    ``solarray label predict`` — matched by ``sample_id`` (samples it lacks are skipped)."""
    paths = shard_paths(os.fspath(shard_dir))
    if not paths:
        raise FileNotFoundError(f"{shard_dir}: no shard_*.parquet files (run `solarray ingest`)")
    channels = list(channels)
    if channels[0] != FIELD_CHANNEL:
        raise ValueError(f"channels: the first patch channel must be {FIELD_CHANNEL} "
                         f"(the parameters are computed on it), got {channels}")
    by_id = labels.index() if labels is not None else None
    linker, out = Linker(max_link_deg), []
    for path in paths:
        names = pq.read_schema(path).names
        if by_id is None and "masks" not in names:
            raise ValueError(f"{path}: no masks column; patches need shards ingested with "
                             "truth masks (`solarray ingest --masks`) or a label version of "
                             "predicted masks (`solarray label predict`, then --labels)")
        table = pq.read_table(path, columns=["t_obs", "sample_id", "channels", "image"]
                              + (["masks"] if by_id is None else []))
        have = table.column("channels")[0].as_py()
        missing = [c for c in channels if c not in have]
        if missing:
            raise ValueError(f"{path}: channel(s) {missing} not in the shards ({have})")
        idx = [have.index(c) for c in channels]
        images = table.column("image").combine_chunks().to_numpy_ndarray()
        times = table.column("t_obs").to_pylist()
        if by_id is None:
            masks = table.column("masks").combine_chunks().to_numpy_ndarray()
        else:
            ids = [str(s) for s in table.column("sample_id").to_pylist()]
            keep = [i for i, s in enumerate(ids) if s in by_id]
            images, times = images[keep], [times[i] for i in keep]
            masks = labels.masks[[by_id[ids[i]] for i in keep]]
            if masks.shape[-2:] != images.shape[-2:]:
                raise ValueError(f"labels: masks of {masks.shape[-2:]} px do not match the "
                                 f"images of {path} ({images.shape[-2:]} px)")
        for t, image, mask in sorted(zip(times, images, masks, strict=True), key=lambda r: r[0]):
            t = t.astimezone(UTC).replace(tzinfo=None)
            regions = connected_merge(mask[0] == 1, merge_px)
            labs = [lab for lab in range(1, regions.max() + 1) if (regions == lab).sum() >= min_px]
            if not labs:
                continue
            centres = ndimage.center_of_mass(np.ones_like(regions), regions, labs)
            lon, lat = stonyhurst(np.array([c[0] for c in centres]),
                                  np.array([c[1] for c in centres]), t, regions.shape[0])
            ok = np.isfinite(lon)
            nums = linker.assign(t, lon[ok], lat[ok])
            numbers = dict(zip(np.array(labs)[ok].tolist(), nums.tolist(), strict=True))
            out += _rows_for(t, image[idx], regions, numbers, size, channels, FRAME_RSUN, min_px)
    return out


def synthetic_patches(seed: int, days: float = 2.0, start: str = "2024-02-01T00:00",
                      frame_size: int = 128, size: int = 32, cadence_minutes: float = 120.0,
                      noise_gauss: float = 10.0, min_px: int = 4) -> list[dict]:
    """Patch rows of one synthetic Sun (seed ``seed``) rendered in memory on the preprocessed
    frame, ``hmi_m`` (LOS = B_r·μ, G) plus Gaussian noise of ``noise_gauss`` G, numbered with
    the truth AR numbers (offset by ``seed · 1000`` so several Suns never share a number)."""
    t0 = Time(start, scale="utc")
    sun = sun_model.build_sun(seed, days, float(t0.decimalyear))
    rng = np.random.default_rng(seed)
    hmi = chans.get(FIELD_CHANNEL)
    out = []
    for k in range(int(days * 1440 / cadence_minutes) + 1):
        t = t0 + TimeDelta(k * cadence_minutes * 60.0, format="sec")
        obs = earth_observer(t)
        grid = centred_grid(frame_size, obs.rsun_obs, FRAME_RSUN)
        geom = grid_geometry(grid, obs)
        fields = render_fields(sun, k * cadence_minutes / 1440.0, grid, obs, geom)
        b = hmi_field(FIELD_CHANNEL, fields, geom)
        b = np.where(np.isfinite(b), b + noise_gauss * rng.standard_normal(b.shape), np.nan)
        labels = fields.ar_label
        numbers = {int(n): int(n) + seed * 1000 for n in np.unique(labels) if n > 0}
        out += _rows_for(t.to_datetime(), hmi.scale(b)[None].astype(np.float32), labels,
                         numbers, size, [FIELD_CHANNEL], FRAME_RSUN, min_px)
    return out


def write_patches(rows: list[dict], out_dir: str | os.PathLike) -> Path:
    """Write patch rows as one shard-named Parquet file in ``out_dir`` (atomically)."""
    if not rows:
        raise ValueError("no patches to write (no active region large enough in the input)")
    rows = sorted(rows, key=lambda r: (r["t_obs"], r["region"]))
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    cols: dict[str, object] = {
        "t_obs": pa.array([r["t_obs"].replace(tzinfo=UTC) for r in rows], pa.timestamp("us", tz="UTC")),
        "sample_id": pa.array([r["sample_id"] for r in rows], pa.string()),
        "channels": pa.array([r["channels"] for r in rows], pa.list_(pa.string())),
        "image": pa.FixedShapeTensorArray.from_numpy_ndarray(
            np.ascontiguousarray(np.stack([r["image"] for r in rows]).astype(np.float32))),
        "present": pa.array([r["present"] for r in rows], pa.list_(pa.bool_())),
    }
    for k in META_COLUMNS[2:]:
        cols[k] = pa.array([r[k] for r in rows], pa.int64() if k in ("region", "area_px")
                           else pa.float64())
    fmt = "%Y%m%dT%H%M%S"
    path = out_dir / f"{SHARD_PREFIX}{rows[0]['t_obs']:{fmt}}_{rows[-1]['t_obs']:{fmt}}.parquet"
    with atomic_path(path) as tmp:
        pq.write_table(pa.table(cols), tmp)
    return path


def read_patches(source: str | os.PathLike) -> tuple[np.ndarray, pd.DataFrame, list[str]]:
    """``(images [N, C, S, S] float32, metadata DataFrame, channels)`` of a patch file or a
    directory of them."""
    source = Path(source)
    paths = shard_paths(os.fspath(source)) if source.is_dir() else [os.fspath(source)]
    if not paths or not all(os.path.exists(p) for p in paths):
        raise FileNotFoundError(f"{source}: no patch Parquet files (run `solarray search patches`)")
    table = pa.concat_tables([pq.read_table(p) for p in paths])
    missing = [c for c in ("image", "channels", *META_COLUMNS) if c not in table.column_names]
    if missing:
        raise ValueError(f"{source}: not a patch file, it lacks column(s) {', '.join(missing)}")
    images = table.column("image").combine_chunks().to_numpy_ndarray().astype(np.float32)
    meta = table.select(list(META_COLUMNS)).to_pandas()
    return images, meta, list(table.column("channels")[0].as_py())


__all__ = ["FIELD_CHANNEL", "META_COLUMNS", "Linker", "patches_from_shards", "pixel_size_mm",
           "read_patches", "stonyhurst", "synthetic_patches", "write_patches"]
