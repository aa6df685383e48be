"""Physical parameters of a magnetogram patch (Chatterjee 2025): TUF, TPF, TNF in Mx and PSEP in Mm.

Pure functions of the field ``bz`` in Gauss and the pixel size in Mm (one pixel covers
``pixel_size_mm²`` Mm² = ``(pixel_size_mm · 1e8)²`` cm²). NaN pixels count as zero field.
"""

from __future__ import annotations

import numpy as np

#: The parameters, in the order tables and directions use them.
PARAMETERS = ("tuf", "tpf", "tnf", "psep")
MM_TO_CM = 1e8


def _centroid(weight: np.ndarray) -> np.ndarray | None:
    total = weight.sum()
    if total <= 0:
        return None
    yy, xx = np.indices(weight.shape, dtype=np.float64)
    return np.array([(weight * yy).sum() / total, (weight * xx).sum() / total])


def parameters(bz: np.ndarray, pixel_size_mm: float) -> dict[str, float]:
    """``{"tuf", "tpf", "tnf", "psep"}`` of one patch ``bz`` ``[H, W]`` (Gauss).

    TUF = Σ|Bz|·dA, TPF = Σ_{Bz>0} Bz·dA, TNF = Σ_{Bz<0} Bz·dA (negative), in Mx with
    dA = (pixel_size_mm · 1e8 cm)²; PSEP is the distance in Mm between the flux-weighted
    centroids of the positive and the negative pixels (NaN when either polarity is absent).
    """
    b = np.nan_to_num(np.asarray(bz, dtype=np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    if b.ndim != 2:
        raise ValueError(f"parameters: bz must be a 2-D patch [H, W], got shape {b.shape}")
    if not np.isfinite(pixel_size_mm) or pixel_size_mm <= 0:
        raise ValueError(f"parameters: pixel_size_mm must be a positive length in Mm, "
                         f"got {pixel_size_mm}")
    da = (float(pixel_size_mm) * MM_TO_CM) ** 2
    pos, neg = np.where(b > 0, b, 0.0), np.where(b < 0, -b, 0.0)
    tpf, tnf = pos.sum() * da, -neg.sum() * da
    cp, cn = _centroid(pos), _centroid(neg)
    psep = float("nan") if cp is None or cn is None else \
        float(np.hypot(*(cp - cn)) * pixel_size_mm)
    return {"tuf": float(tpf - tnf), "tpf": float(tpf), "tnf": float(tnf), "psep": psep}


def parameter_table(bz: np.ndarray, pixel_size_mm: float | np.ndarray) -> dict[str, np.ndarray]:
    """:func:`parameters` of each patch of ``bz`` ``[N, H, W]`` (G) → ``{name: [N]}``."""
    bz = np.asarray(bz)
    if bz.ndim != 3:
        raise ValueError(f"parameter_table: bz must be [N, H, W], got shape {bz.shape}")
    sizes = np.broadcast_to(np.asarray(pixel_size_mm, dtype=np.float64), (len(bz),))
    rows = [parameters(b, s) for b, s in zip(bz, sizes, strict=True)]
    return {k: np.array([r[k] for r in rows], dtype=np.float64) for k in PARAMETERS}


def check_parameter(name: str) -> str:
    """``name`` if it is a known parameter, else ValueError naming the known ones."""
    if name not in PARAMETERS:
        raise ValueError(f"unknown parameter {name!r}; expected one of {', '.join(PARAMETERS)}")
    return name


__all__ = ["PARAMETERS", "check_parameter", "parameter_table", "parameters"]
