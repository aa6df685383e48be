"""GOES X-ray classes: the letter-magnitude scale of the 1–8 Å peak flux (W m⁻²), both ways."""

from __future__ import annotations

import math
import re

import numpy as np

CLASS_BASE = {"A": 1e-8, "B": 1e-7, "C": 1e-6, "M": 1e-5, "X": 1e-4}


def goes_class(flux: float) -> str:
    """Peak flux (W m⁻²) → GOES class string, magnitude truncated to one decimal ('M2.5').

    Truncation (not rounding) follows NOAA's event lists: 2.5554e-5 → 'M2.5'. Fluxes below
    1e-8 are given as A-class fractions ('A0.5'); ≥ 1e-3 stays X ('X12.0' style, 'X10.3').
    """
    if not np.isfinite(flux) or flux <= 0:
        raise ValueError(f"GOES class needs a positive finite flux in W m-2, got {flux}")
    fuzz = 1 + 1e-9  # relative tolerance for binary floats (9.999999999999999e-06 is M1.0)
    letter = "A"
    for k in ("X", "M", "C", "B", "A"):
        if flux * fuzz >= CLASS_BASE[k]:
            letter = k
            break
    mag = math.floor(flux / CLASS_BASE[letter] * 10 * fuzz) / 10
    return f"{letter}{mag:.1f}"


_CLASS_RE = re.compile(r"^\s*([ABCMX])\s*(\d+(?:\.\d*)?)?\s*$", re.IGNORECASE)


def parse_class(cls: str) -> tuple[str, float]:
    """'M2.5' → ('M', 2.5); a bare letter means magnitude 1 ('M' → ('M', 1.0)).
    Raises ValueError naming the bad string."""
    m = _CLASS_RE.match(str(cls))
    if not m:
        raise ValueError(f"not a GOES class string: {cls!r} (expected e.g. 'M2.5')")
    return m.group(1).upper(), float(m.group(2) or 1.0)


def class_to_flux(cls: str) -> float:
    """'M2.5' → 2.5e-5 W m⁻² ('M' → 1e-5)."""
    letter, mag = parse_class(cls)
    return mag * CLASS_BASE[letter]
