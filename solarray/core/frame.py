"""solarray's ML frame: north up, disk centre at the image centre, spanning ±``frame`` R☉.

Every preprocessed sample, ground-truth mask, model input and rendered map lives on this frame;
its half-width travels in the FITS keyword ``FRAME`` and in ingest's ``meta``. A pixel is on the
disk when its centre lies within 1 R☉ of the image centre. The frame's FITS header (WCS and
observer) is :mod:`solarray.core.frame_header`; this module needs numpy only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

#: Default half-width of the frame, solar radii (the limb sits ``size / 2 / frame`` px from centre).
FRAME_RSUN = 1.1
#: Default side of the sample grid, pixels (a sample is ``DEFAULT_GRID × DEFAULT_GRID``): ingest,
#: preprocessing, uploads to the service and the live watcher all default to it.
DEFAULT_GRID = 512


def radius_grid(size: int, frame: float = FRAME_RSUN) -> np.ndarray:
    """Distance of each pixel centre from disk centre, R☉ ``[size, size]``."""
    if size <= 0 or frame <= 0:
        raise ValueError(f"the frame needs size > 0 and frame > 0 R☉, got {size}, {frame}")
    c = (size - 1) / 2.0
    yy, xx = np.mgrid[0:size, 0:size]
    return np.hypot(xx - c, yy - c) * (2.0 * frame / size)


def disk_mask(size: int, frame: float = FRAME_RSUN) -> np.ndarray:
    """Bool ``[size, size]``: True where the pixel centre is on the solar disk (r ≤ 1 R☉)."""
    return radius_grid(size, frame) <= 1.0


def header_frame(header: Mapping[str, Any] | None, default: float = FRAME_RSUN) -> float:
    """The frame half-width (R☉) a header declares in ``FRAME``, else ``default``."""
    if not header:
        return float(default)
    v = header.get("FRAME")
    return float(default if v in (None, "") else v)


__all__ = ["DEFAULT_GRID", "FRAME_RSUN", "disk_mask", "header_frame", "radius_grid"]
