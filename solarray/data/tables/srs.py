"""NOAA Solar Region Summary (SRS) files → the IATools AR table form.

``sunpy.io.special.srs.read_srs`` parses the text product; this module keeps the regions with
spots (section I, which has area, McIntosh class and Mag Type) and, optionally, the H-alpha plages
(section IA, position only), and maps them to the columns IATools uses for its own regions:

``t_obs`` (UTC; positions are valid at 00:00 of the issue day), ``number`` (NOAA AR number),
``hgs_lon``/``hgs_lat`` (deg, west and north positive), ``carr_lon`` (deg), ``area_msh``,
``hale`` ('alpha' | 'beta' | 'beta-x'), ``mcintosh`` (Z letter A B C D E F H), plus the raw
``mag_type`` (upper case) and ``mcintosh_full`` (e.g. 'DKI', upper case), ``n_spots``,
``lon_extent`` and ``section``. Index: a RangeIndex, one row per region in file order.
Units: degrees for positions and ``lon_extent``, millionths of the solar hemisphere (MSH) for
``area_msh``; ``t_obs`` is a naive pandas Timestamp (UTC).

Mag Type is upper case before October 2000 and mixed case after ('BETA-GAMMA' vs 'Beta-Gamma'):
both are normalised to upper case before mapping.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from solarray.core.classes import MCINTOSH_Z
from solarray.data.tables.table import TableError

SRS_COLUMNS = ["t_obs", "number", "hgs_lon", "hgs_lat", "carr_lon", "area_msh", "hale",
               "mcintosh", "mag_type", "mcintosh_full", "n_spots", "lon_extent", "section"]


class SRSReadError(TableError):
    """An SRS file sunpy cannot parse."""


def hale_class(mag_type: str | None) -> str | None:
    """Mt. Wilson type → three IATools classes: alpha, beta, beta-x (any gamma or delta).

    'ALPHA' → 'alpha'; 'BETA' → 'beta'; 'GAMMA', 'BETA-GAMMA', 'DELTA', 'BETA-DELTA',
    'BETA-GAMMA-DELTA', 'ALPHA-DELTA'... → 'beta-x'. None/empty/unknown → None.
    """
    if mag_type is None:
        return None
    s = str(mag_type).strip().upper().replace(" ", "")
    if not s or s in ("--", "NONE"):
        return None
    if "GAMMA" in s or "DELTA" in s:
        return "beta-x"
    if s == "BETA":
        return "beta"
    if s == "ALPHA":
        return "alpha"
    return None


def mcintosh_z(code: str | None) -> str | None:
    """First letter of the McIntosh class ('Dso' → 'D'); None if absent or not A–F/H."""
    if code is None:
        return None
    s = str(code).strip().upper()
    return s[0] if s and s[0] in MCINTOSH_Z else None


def _value(col, i):
    """A table cell as a Python value, None when masked."""
    v = col[i]
    if np.ma.is_masked(v) or getattr(v, "mask", False) is True:
        return None
    if hasattr(v, "unmasked"):  # astropy MaskedQuantity, not masked here
        v = v.unmasked
    if hasattr(v, "unit") and hasattr(v, "value"):
        v = v.value
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not np.isfinite(v):
        return None
    return v


def read_srs_table(path: str | Path, *, sections: tuple[str, ...] = ("I",)) -> pd.DataFrame:
    """Read one NOAA SRS text file into the AR table form (see module doc); one row per region.

    ``sections``: which parts to keep — "I" (regions with spots), "IA" (plages without spots:
    no area or classes). Section II (regions due to return) has no longitude and is never kept.
    """
    from sunpy.io.special.srs import read_srs

    path = Path(path)
    if not path.exists():
        raise SRSReadError(f"{path}: no such file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            table = read_srs(str(path))
    except Exception as err:
        raise SRSReadError(f"{path}: not a readable NOAA SRS file ({type(err).__name__}: {err})") from err
    issued = pd.Timestamp(table.meta.get("issued")) if table.meta.get("issued") else pd.NaT
    t_obs = issued.normalize() if not pd.isna(issued) else pd.NaT
    rows = []
    cols = table.colnames
    for i in range(len(table)):
        sec = str(_value(table["ID"], i))
        if sec not in sections:
            continue
        mag = _value(table["Mag Type"], i) if "Mag Type" in cols else None
        z = _value(table["Z"], i) if "Z" in cols else None
        rows.append({
            "t_obs": t_obs,
            "number": int(_value(table["Number"], i)),
            "hgs_lon": _value(table["Longitude"], i),
            "hgs_lat": _value(table["Latitude"], i),
            "carr_lon": _value(table["Carrington Longitude"], i),
            "area_msh": _value(table["Area"], i) if "Area" in cols else None,
            "hale": hale_class(mag),
            "mcintosh": mcintosh_z(z),
            "mag_type": str(mag).upper() if mag is not None else None,
            "mcintosh_full": str(z).upper() if z is not None else None,
            "n_spots": _value(table["Number of Sunspots"], i) if "Number of Sunspots" in cols else None,
            "lon_extent": _value(table["Longitudinal Extent"], i) if "Longitudinal Extent" in cols else None,
            "section": sec,
        })
    df = pd.DataFrame(rows, columns=SRS_COLUMNS)
    for c in ("hgs_lon", "hgs_lat", "carr_lon", "area_msh", "lon_extent", "n_spots"):
        df[c] = pd.to_numeric(df[c], errors="coerce").astype(float)
    df["t_obs"] = pd.to_datetime(df["t_obs"])
    df["number"] = df["number"].astype("int64")
    return df


def read_srs_dir(directory: str | Path, pattern: str = "*SRS.txt", **kw) -> pd.DataFrame:
    """Concatenate :func:`read_srs_table` over the files in ``directory`` (sorted by name)."""
    files = sorted(Path(directory).glob(pattern))
    if not files:
        raise SRSReadError(f"{directory}: no files matching {pattern}")
    return pd.concat([read_srs_table(f, **kw) for f in files], ignore_index=True)


__all__ = ["SRS_COLUMNS", "SRSReadError", "hale_class", "mcintosh_z", "read_srs_dir",
           "read_srs_table"]
