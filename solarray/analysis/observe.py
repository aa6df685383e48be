"""Glue from files to IATools results: mask FITS, level-1 maps, time steps of a data directory.

A data directory is laid out as the synthetic Sun writes it (and as a real run would be staged)::

    DIR/masks/masks_<YYYYmmddTHHMMSS>.fits   uint8 [3, H, W] (AR, CH, FL), 2-D celestial WCS
    DIR/fits/hmi_m/*.fits                    LOS magnetograms, level 1 (G)
    DIR/fits/aia193/*.fits                   AIA 193 Å, level 1 (DN, EXPTIME)

:func:`list_steps` pairs each mask file with the nearest magnetogram and AIA 193 Å image;
:func:`analyse_step` reads them and returns the entities with magnetic parameters.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from astropy.io import fits

from solarray.analysis import coords as C
from solarray.analysis import regions as R
from solarray.core.features import FEATURE_KINDS

_MASK_RE = re.compile(r"masks_(\d{8}T\d{6})\.fits(\.gz)?$")


class ObservationError(ValueError):
    """A file or directory that does not hold what IATools needs (names the file and the field)."""


def read_masks(path: str | Path):
    """Read a mask FITS file → (masks uint8 [3, H, W] in AR, CH, FL order, sunpy map of its grid).

    The map carries the file's header (WCS, DATE-OBS, observer) over a zero image of shape [H, W].
    """
    import sunpy.map

    path = Path(path)
    if not path.exists():
        raise ObservationError(f"{path}: no such mask file")
    try:
        with fits.open(path) as hdul:
            hdu = next((h for h in hdul if h.data is not None), None)
            if hdu is None:
                raise ObservationError(f"{path}: no image data")
            data = np.asarray(hdu.data)
            header = hdu.header.copy()
    except OSError as err:
        raise ObservationError(f"{path}: not a FITS file ({err})") from err
    if data.ndim == 2:
        data = data[None]
    if data.ndim != 3 or data.shape[0] != 3:
        raise ObservationError(f"{path}: expected mask data [3, H, W] (AR, CH, FL), got {data.shape}")
    planes = str(header.get("MASKS", "AR,CH,FL")).replace(" ", "").upper().split(",")
    if sorted(planes) != sorted(FEATURE_KINDS):
        raise ObservationError(f"{path}: MASKS={header.get('MASKS')!r}, expected 'AR,CH,FL'")
    data = data[[planes.index(k) for k in FEATURE_KINDS]]
    meta = {k.lower(): v for k, v in header.items() if k and not k.startswith(("NAXIS", "COMMENT", "HISTORY"))
            and not k.endswith("3")}
    meta.update(naxis=2, naxis1=data.shape[2], naxis2=data.shape[1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        grid = sunpy.map.Map(np.zeros(data.shape[1:], dtype=np.float32), meta)
    grid.meta["filename"] = path.name
    return (data > 0).astype(np.uint8), grid


def read_map(path: str | Path):
    """Read a level-1 FITS image as a sunpy map (clear error naming the file on failure)."""
    import sunpy.map

    path = Path(path)
    if not path.exists():
        raise ObservationError(f"{path}: no such file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m = sunpy.map.Map(str(path))
    except Exception as err:
        raise ObservationError(f"{path}: not readable as a solar image ({type(err).__name__}: {err})") from err
    if isinstance(m, list):
        raise ObservationError(f"{path}: holds {len(m)} images, expected one")
    m.meta["filename"] = path.name
    return m


def _file_time(path: Path) -> pd.Timestamp | None:
    m = _MASK_RE.search(path.name)
    if m:
        return pd.Timestamp(m.group(1))
    m = re.search(r"(\d{4}-\d{2}-\d{2}T\d{6})Z?", path.name)
    if m:
        return pd.Timestamp(pd.to_datetime(m.group(1), format="%Y-%m-%dT%H%M%S"))
    try:
        return pd.Timestamp(fits.getheader(path, 1 if path.suffix == ".gz" else 0).get("DATE-OBS"))
    except Exception:
        return None


def list_steps(data_dir: str | Path, *, tolerance_s: float = 360.0) -> pd.DataFrame:
    """Time steps of a data directory: columns ``time``, ``masks``, ``hmi_m``, ``aia193`` (paths or
    None when no image lies within ``tolerance_s`` of the mask time)."""
    data_dir = Path(data_dir)
    mdir = data_dir / "masks"
    if not mdir.is_dir():
        raise ObservationError(f"{data_dir}: no masks/ directory (expected masks/masks_<time>.fits)")
    masks = sorted(p for p in mdir.iterdir() if _MASK_RE.search(p.name))
    if not masks:
        raise ObservationError(f"{mdir}: no masks_<YYYYmmddTHHMMSS>.fits files")
    chans = {}
    for ch in ("hmi_m", "aia193"):
        d = data_dir / "fits" / ch
        files = sorted(d.glob("*.fits*")) if d.is_dir() else []
        chans[ch] = [(t, f) for f in files if (t := _file_time(f)) is not None]
    rows = []
    for mp in masks:
        t = _file_time(mp)
        row = {"time": t, "masks": mp}
        for ch, lst in chans.items():
            best = min(lst, key=lambda tf, t=t: abs((tf[0] - t).total_seconds()), default=None)
            ok = best is not None and abs((best[0] - t).total_seconds()) <= tolerance_s
            row[ch] = best[1] if ok else None
        rows.append(row)
    return pd.DataFrame(rows, columns=["time", "masks", "hmi_m", "aia193"])


@dataclass
class Observation:
    """One time step: masks, their grid, the magnetogram on that grid (G, or None), entities."""

    time: pd.Timestamp
    masks: np.ndarray
    grid: object  # sunpy map of the mask grid
    b_los: np.ndarray | None
    result: R.EntityResult


def analyse_step(masks_path, hmi_path=None, *, config: R.RegionConfig | None = None) -> Observation:
    """Entities of one time step (magnetic columns need ``hmi_path``)."""
    config = config or R.RegionConfig()
    masks, grid = read_masks(masks_path)
    b = None
    notes = []
    if hmi_path is not None:
        hmi = read_map(hmi_path)
        b = C.resample_to(hmi, grid, assume_earth=config.assume_earth)
    else:
        notes.append("no magnetogram: magnetic parameters are NaN")
    result = R.find_entities(masks, grid, b_los=b, config=config)
    result.notes = notes + result.notes
    return Observation(time=pd.Timestamp(grid.date.isot), masks=masks, grid=grid, b_los=b,
                       result=result)
