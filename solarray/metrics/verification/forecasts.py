"""Checked forecast pairs: the input validation every verification score shares.

``observed`` is 0/1 (or bool) per forecast, ``probability`` the forecast probability of the event
in [0, 1]; bad inputs raise ``ValueError`` naming the problem.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

NAN_POLICIES = ("raise", "omit")


@dataclass(frozen=True)
class Forecasts:
    """Checked forecasts: ``observed`` int8 [N] in {0, 1}, ``probability`` float64 [N] in [0, 1].

    ``dropped`` counts pairs removed because the probability was NaN (``nan_policy="omit"``).
    """

    observed: np.ndarray
    probability: np.ndarray
    dropped: int = 0

    def __len__(self) -> int:
        return int(self.observed.shape[0])


def check_forecasts(
    observed: Sequence[float] | np.ndarray,
    probability: Sequence[float] | np.ndarray,
    *,
    nan_policy: str = "raise",
) -> Forecasts:
    """Validate and convert a pair of forecast arrays.

    ``observed``: 0/1 (or bool) per forecast, shape [N]. ``probability``: forecast probability of
    the event, shape [N], each in [0, 1]. With ``nan_policy="raise"`` (default) a NaN probability
    is an error; with ``"omit"`` those pairs are dropped and counted in ``Forecasts.dropped``.
    Raises ``ValueError`` for mismatched lengths, empty input (after omission), NaN/non-0/1
    labels, and probabilities that are infinite or outside [0, 1].
    """
    if nan_policy not in NAN_POLICIES:
        raise ValueError(f"nan_policy must be one of {NAN_POLICIES}, got {nan_policy!r}")
    o = np.asarray(observed)
    p = np.asarray(probability)
    if o.ndim != 1 or p.ndim != 1:
        raise ValueError(
            f"observed and probability must be 1-D, got shapes {o.shape} and {p.shape}"
        )
    if o.shape[0] != p.shape[0]:
        raise ValueError(f"observed and probability differ in length: {o.shape[0]} vs {p.shape[0]}")
    try:
        o = o.astype(np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(f"observed must be numeric 0/1 labels: {err}") from None
    try:
        p = p.astype(np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(f"probability must be numeric: {err}") from None

    bad_o = ~((o == 0.0) | (o == 1.0))
    if bad_o.any():
        i = int(np.flatnonzero(bad_o)[0])
        raise ValueError(
            f"observed must be 0 or 1: {int(bad_o.sum())} value(s) are not "
            f"(first at index {i}: {float(o[i])!r})"
        )
    nan_p = np.isnan(p)
    dropped = 0
    if nan_p.any():
        if nan_policy == "raise":
            i = int(np.flatnonzero(nan_p)[0])
            raise ValueError(
                f"probability contains {int(nan_p.sum())} NaN value(s) (first at index {i}); "
                "pass nan_policy='omit' to drop them"
            )
        dropped = int(nan_p.sum())
        o, p = o[~nan_p], p[~nan_p]
    bad_p = ~((p >= 0.0) & (p <= 1.0))
    if bad_p.any():
        i = int(np.flatnonzero(bad_p)[0])
        raise ValueError(
            f"probability must lie in [0, 1]: {int(bad_p.sum())} value(s) do not "
            f"(first at index {i}: {float(p[i])!r})"
        )
    if o.shape[0] == 0:
        extra = f" (all {dropped} probabilities were NaN)" if dropped else ""
        raise ValueError(f"no forecasts to verify{extra}")
    return Forecasts(o.astype(np.int8), p, dropped)


def check_threshold(threshold: float) -> float:
    """``threshold`` as a float; ValueError unless it lies in [0, 1]."""
    t = float(threshold)
    if not (0.0 <= t <= 1.0):
        raise ValueError(f"threshold must lie in [0, 1], got {threshold!r}")
    return t


def check_base_rate(base_rate: float) -> float:
    """``base_rate`` (climatological event frequency) as a float; ValueError unless in [0, 1]."""
    c = float(base_rate)
    if not (0.0 <= c <= 1.0):
        raise ValueError(f"base_rate must lie in [0, 1], got {base_rate!r}")
    return c


__all__ = ["NAN_POLICIES", "Forecasts", "check_base_rate", "check_forecasts", "check_threshold"]
