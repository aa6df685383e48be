"""Truth joined to samples at ingest: truth masks (``masks_<time>.fits``) and label tables.

* masks: the file nearest in time (within the tolerance), resampled onto the output grid;
* labels: ``flare_class_24h`` from an events table, ``f107``/``f30`` from daily indices (the
  latest value measured by the sample time, :func:`~solarray.data.tables.indices.index_at`: they
  are model inputs), and any columns of a user CSV with a time column.
"""

from __future__ import annotations

import glob
import os
import re
from collections.abc import Sequence
from datetime import datetime, timedelta

import numpy as np

from solarray.data.tables.indices import index_at
from solarray.data.tables.truth import read_truth_events, read_truth_indices, read_user_labels
from solarray.data.warp import output_scale, sun_in_header

_MASK_RE = re.compile(r"masks_(\d{8}T\d{6})")


def index_masks(masks_dir: str) -> list[tuple[datetime, str]]:
    """``[(time, path)]`` of ``masks_<YYYYmmddTHHMMSS>.fits`` files, sorted by time."""
    out = []
    for p in glob.glob(os.path.join(masks_dir, "*.fits*")):
        m = _MASK_RE.search(os.path.basename(p))
        if m:
            out.append((datetime.strptime(m.group(1), "%Y%m%dT%H%M%S"), p))
    return sorted(out)


def nearest(index: Sequence[tuple[datetime, str]], t: datetime, tol: timedelta) -> str:
    """Path of the entry nearest to ``t`` within ``tol`` ('' if none)."""
    if not index:
        return ""
    times = np.array([x[0] for x in index], dtype="datetime64[us]")
    i = int(np.argmin(np.abs(times - np.datetime64(t, "us"))))
    return index[i][1] if abs(index[i][0] - t) <= tol else ""


class Truth:
    """Label tables joined to samples: flares from ``events.parquet`` (or .csv), daily indices
    from ``indices.parquet``, and an optional user CSV of labels with a time column (read by
    :mod:`solarray.data.tables.truth`)."""

    def __init__(self, tables_dir: str | None = None, labels_csv: str | None = None,
                 tolerance: timedelta = timedelta(minutes=6)) -> None:
        self.events = self.indices = self.user = None
        self.tolerance = tolerance
        if tables_dir:
            self.events = read_truth_events(tables_dir)
            self.indices = read_truth_indices(tables_dir)  # by day (midnight UTC)
        if labels_csv:
            self.user = read_user_labels(labels_csv)

    @property
    def user_columns(self) -> list[str]:
        return [] if self.user is None else [c for c in self.user.columns if c != "_t"]

    def labels_for(self, t: datetime) -> dict[str, object]:
        """``flare_class_24h`` (strongest flare starting in (t, t+24 h]; '' none; None unknown),
        ``f107``/``f30`` (sfu, NaN unknown: the latest value measured at or before ``t``) and
        the user CSV's columns (nearest row in tolerance)."""
        out: dict[str, object] = {"flare_class_24h": None, "f107": float("nan"), "f30": float("nan")}
        if self.events is not None:
            ev = self.events
            sel = ev[(ev["start"] > t) & (ev["start"] <= t + timedelta(hours=24))]
            out["flare_class_24h"] = "" if sel.empty else str(sel.loc[sel["peak_flux"].idxmax(), "goes_class"])
        if self.indices is not None:
            for k in ("f107", "f30"):
                if k in self.indices.columns:
                    out[k] = float(index_at(self.indices[k], [t])[0])
        if self.user is not None and len(self.user):
            times = self.user["_t"].to_numpy(dtype="datetime64[us]")
            i = int(np.argmin(np.abs(times - np.datetime64(t, "us"))))
            hit = abs(times[i] - np.datetime64(t, "us")) <= np.timedelta64(self.tolerance)
            for c in self.user_columns:
                v = self.user[c].iloc[i] if hit else None
                out[c] = v.item() if isinstance(v, np.generic) else v
        return out


def resample_masks(path: str, size: int, frame: float) -> np.ndarray:
    """Truth masks ``[3, h, w]`` (FITS with a 2-D celestial WCS) → ``[3, size, size]`` uint8 on the
    output grid by nearest neighbour (output pixel → R☉ → mask pixel via the mask's own R☉)."""
    from astropy.io import fits
    from scipy import ndimage

    with fits.open(path, memmap=False) as hdul:
        data = np.asarray(hdul[0].data)
        header = hdul[0].header.copy()
    if data.ndim != 3:
        raise ValueError(f"{path}: masks must be [3, H, W], got shape {data.shape}")
    h2 = header.copy()
    h2["NAXIS"] = 2
    for k in ("NAXIS3", "CTYPE3", "CRPIX3", "CRVAL3", "CDELT3", "CUNIT3"):
        h2.remove(k, ignore_missing=True)
    sun = sun_in_header(h2, np.zeros(data.shape[1:], dtype=np.float32))
    s_out = output_scale(sun.rsun, size, frame)
    swap = np.array([[0.0, 1.0], [1.0, 0.0]])
    mat = swap @ np.linalg.inv(np.asarray(sun.matrix)) @ swap * s_out
    c = (size - 1) / 2.0
    offset = np.array([sun.cy, sun.cx]) - mat @ np.array([c, c])
    return np.stack([
        ndimage.affine_transform(plane.astype(np.uint8), mat, offset=offset, output_shape=(size, size),
                                 order=0, mode="constant", cval=0)
        for plane in data
    ]).astype(np.uint8)


__all__ = ["Truth", "index_masks", "nearest", "resample_masks"]
