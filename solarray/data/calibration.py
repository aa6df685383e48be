"""Radiometric calibration of one level-1 AIA image: exposure normalisation and degradation.

1. **Exposure** (AIA in DN): divide by EXPTIME → DN/s.
2. **Degradation** (optional): divide by aiapy's time-dependent degradation factor computed from a
   local correction table (offline).
"""

from __future__ import annotations

import functools
import os
import warnings
from collections.abc import Mapping
from datetime import datetime

import numpy as np

from solarray.core import channels as chans
from solarray.data.sources import RejectError


def aiapy_test_table() -> str | None:
    """Path of the V8 degradation table shipped in aiapy's test data (works offline), if present."""
    try:
        import aiapy
    except ImportError:  # pragma: no cover - aiapy is a dependency
        return None
    path = os.path.join(os.path.dirname(aiapy.__file__), "tests", "data",
                        "aia_V8_20171210_050627_response_table.txt")
    return path if os.path.exists(path) else None


def normalize_exposure(data: np.ndarray, header: Mapping[str, object]) -> np.ndarray:
    """DN → DN/s: divide by EXPTIME (s). Raises :class:`RejectError` if EXPTIME is missing or ≤ 0."""
    try:
        exptime = float(header.get("EXPTIME"))
    except (TypeError, ValueError):
        raise RejectError(f"missing keyword EXPTIME (got {header.get('EXPTIME')!r})") from None
    if not exptime > 0:
        raise RejectError(f"bad EXPTIME={exptime}: must be > 0 s")
    return data / np.float32(exptime)


@functools.lru_cache(maxsize=4)
def _correction_table(path: str):
    from aiapy.calibrate.util import get_correction_table

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return get_correction_table(path)


def degradation_factor(channel: str, t_obs: datetime, table_path: str) -> float:
    """aiapy's degradation factor (≤ 1 after launch) of an AIA channel at ``t_obs`` (UTC).

    Level-1 DN/s divided by this factor gives the launch-equivalent count rate. Raises ``KeyError``
    if the table has no entry for the channel's wavelength.
    """
    import astropy.units as u
    from aiapy.calibrate import degradation
    from astropy.time import Time

    c = chans.get(channel)
    table = _correction_table(table_path)
    if not np.any(np.isclose(table["WAVELNTH"].to_value(u.AA), c.wavelength)):
        raise KeyError(f"{os.path.basename(table_path)} has no {c.wavelength:g} Å entry")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        factor = degradation(c.wavelength * u.AA, Time(t_obs, scale="utc"), correction_table=table)
    return float(np.squeeze(factor))


__all__ = ["aiapy_test_table", "degradation_factor", "normalize_exposure"]
