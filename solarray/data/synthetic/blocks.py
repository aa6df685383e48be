"""Rendering a frame in row blocks: the same per-pixel arithmetic, a cache-sized piece at a time.

Every per-pixel step of the synthetic Sun (geometry, limb darkening, channel response, detector
noise) is elementwise, so evaluating it on horizontal bands of rows and writing the bands into one
preallocated array gives the same numbers as one whole-frame call. At 4096² a whole-frame call
makes dozens of 64 MB float32 temporaries, each paying page faults and a trip through main memory;
a band of :data:`BLOCK_PIXELS` pixels keeps the temporaries in cache and reuses freed memory,
and bands are independent, so :data:`THREADS` threads can evaluate them at once.
Random draws stay identical too: numpy's generators produce the same stream whether a
``[H, W]`` array is drawn at once or band by band in row order.

Geometry cannot be cached across time steps of :func:`~solarray.data.synthetic.generate`: the
level-1 pointing (disk-centre offset and roll) is drawn afresh for every step, as JSOC frames
jitter, so no two steps share a grid; the speed comes from the banding instead.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from solarray.core.geometry import DiskGeometry, ImageGrid, Observer, hpc_to_hgs

#: Pixels per band (≈ 4 MB per float32 temporary: inside the L2/L3 caches of CI machines).
BLOCK_PIXELS = 1 << 20
#: Threads evaluating bands at once (numpy releases the GIL inside its loops); 1 = in order.
THREADS = min(2, os.cpu_count() or 1)
_POOL: ThreadPoolExecutor | None = None


def _map(fn: Callable[[slice], None], bands: list[slice], ordered: bool) -> None:
    """``fn`` over ``bands``, on :data:`THREADS` threads unless ``ordered`` or one band."""
    global _POOL
    if ordered or THREADS <= 1 or len(bands) < 2:
        for rows in bands:
            fn(rows)
        return
    if _POOL is None or _POOL._max_workers != THREADS:
        _POOL = ThreadPoolExecutor(THREADS, thread_name_prefix="solarray-bands")
    for _ in _POOL.map(fn, bands):  # re-raises a band's exception here
        pass


def row_bands(ny: int, nx: int, block_pixels: int | None = None) -> Iterator[slice]:
    """Consecutive row slices covering ``ny`` rows, each about ``block_pixels`` pixels."""
    rows = max(1, (BLOCK_PIXELS if block_pixels is None else block_pixels) // max(nx, 1))
    for y0 in range(0, ny, rows):
        yield slice(y0, min(y0 + rows, ny))


def rows_of(obj: Any, rows: slice) -> Any:
    """``obj`` restricted to ``rows``: arrays sliced, dataclasses sliced field by field."""
    if isinstance(obj, np.ndarray) and obj.ndim >= 2:
        return obj[rows]
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.replace(obj, **{f.name: rows_of(getattr(obj, f.name), rows)
                                            for f in dataclasses.fields(obj)})
    return obj


def banded(fn: Callable[..., np.ndarray], shape: tuple[int, int], dtype, *args: Any,
           **kwargs: Any) -> np.ndarray:
    """``fn(*args, **kwargs)`` for an elementwise ``fn`` returning ``[ny, nx]``, band by band.

    Positional and keyword arguments that are 2-D arrays or dataclasses of them (fields,
    geometry) are cut to each band; anything else (names, scalars, a random generator, which
    then draws band after band in row order) is passed unchanged."""
    out = np.empty(shape, dtype)

    def band(rows: slice) -> None:
        out[rows] = fn(*(rows_of(a, rows) for a in args),
                       **{k: rows_of(v, rows) for k, v in kwargs.items()})

    # A random generator must draw band after band in row order to give the whole-frame stream.
    ordered = any(isinstance(a, np.random.Generator) for a in (*args, *kwargs.values()))
    _map(band, list(row_bands(*shape)), ordered)
    return out


def banded_geometry(grid: ImageGrid, obs: Observer, dtype=np.float32) -> DiskGeometry:
    """Same values as :func:`solarray.core.geometry.grid_geometry`, computed band by band."""
    shape = (grid.ny, grid.nx)
    geom = DiskGeometry(np.empty(shape, bool), *(np.empty(shape, dtype) for _ in range(4)))
    x = np.arange(grid.nx, dtype=np.float64)[None, :]

    def band(rows: slice) -> None:
        y = np.arange(rows.start, rows.stop, dtype=np.float64)[:, None]
        tx, ty = grid.pixel_to_hpc(x, y)
        part = hpc_to_hgs(tx, ty, obs, dtype=dtype)
        for f in dataclasses.fields(DiskGeometry):
            getattr(geom, f.name)[rows] = getattr(part, f.name)

    _map(band, list(row_bands(*shape)), ordered=False)
    return geom


__all__ = ["BLOCK_PIXELS", "THREADS", "banded", "banded_geometry", "row_bands", "rows_of"]
