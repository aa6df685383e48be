"""Degrade, don't stop: what a forecast is made of when an observation lacks inputs.

An instrument off or a late file must not stop the forecaster. Operational forecasters fall back
to what is there and say so; this module decides how, from the channels an observation holds and
the channels each stage's models read:

* a missing AIA channel: SPNet runs on the channels present (its missing-modality path: the
  plane is zero and flagged absent), IATools and FPNet run as usual (a value that cannot be
  computed reaches FPNet through its "missing" embedding) — ``degraded``, the channel named;
* no magnetogram (``hmi_m``), or no channel at all for SPNet or FPNet: FPNet does not forecast
  (without the magnetogram R, the Hale/McIntosh classes and FPNet's main image are gone). SPNet
  still maps regions, holes and filaments from the channels present, no region gets a
  probability, and the full-disk probability comes from the flare history
  (:func:`full_disk_fallback`: the Poisson rate of the past flares), or from a configured
  climatology when the history is too short — ``degraded``, the fallback named.

:func:`assess` and :func:`full_disk_fallback` are pure (tested with hand-made inputs);
:func:`history_fallback` reads the counts they need from a :class:`FlareHistory`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from solarray.pipeline.flare_history import FlareHistory

#: The channel without which FPNet does not forecast.
MAGNETOGRAM = "hmi_m"
#: Names of the full-disk fallbacks (the response's ``fallback``).
FLARE_HISTORY, CLIMATOLOGY, NO_FALLBACK = "flare history", "climatology", "none"
#: Differential index γ of the flare peak-flux distribution dN/dS ∝ S^−γ (measured between
#: about 1.8 and 2.1 for GOES flares; the synthetic Sun draws with 1.8,
#: :data:`solarray.data.synthetic.activity.CUM_INDEX` + 1): N(≥M1) = N(≥C1)·10^−(γ−1).
FLARE_SIZE_INDEX = 1.8
#: Flares from this class up count towards the rate (more of them than ≥M1: a steadier rate).
RATE_MIN_CLASS = "C1.0"


@dataclass(frozen=True)
class InputStatus:
    """What one observation allows. ``missing``: channels the models read that the observation
    lacks (in the models' order); ``perceive``: SPNet has at least one of its channels;
    ``models_forecast``: FPNet forecasts (else the full-disk fallback, no per-region
    probabilities)."""

    missing: tuple[str, ...] = ()
    perceive: bool = True
    models_forecast: bool = True

    @property
    def degraded(self) -> bool:
        return bool(self.missing) or not self.perceive or not self.models_forecast


def assess(present: Iterable[str], stage_channels: Mapping[str, Sequence[str]]) -> InputStatus:
    """The :class:`InputStatus` of an observation holding the channels ``present``, for models
    whose input channels are ``stage_channels`` (``{"perception": SPNet's, "forecast": FPNet's}``;
    a stage with no channels listed is taken to run)."""
    have = set(present)
    expected: list[str] = []
    for chans in stage_channels.values():
        expected += [c for c in chans if c not in expected]
    missing = tuple(c for c in expected if c not in have)

    def runs(stage: str) -> bool:
        chans = stage_channels.get(stage) or ()
        return not chans or any(c in have for c in chans)

    perceive = runs("perception")
    models = perceive and runs("forecast") and MAGNETOGRAM not in missing
    return InputStatus(missing, perceive, models)


@dataclass(frozen=True)
class Fallback:
    """The full-disk forecast without FPNet: ``method`` (:data:`FLARE_HISTORY`,
    :data:`CLIMATOLOGY` or :data:`NO_FALLBACK`), ``p_m24`` (None: unknown) and what it was
    computed from (``detail``, JSON-ready)."""

    method: str
    p_m24: float | None
    detail: dict[str, Any] = field(default_factory=dict)


def rate_probability(n_flares: int, hours: float, horizon_hours: float = 24.0,
                     size_index: float = FLARE_SIZE_INDEX, decades: float = 1.0) -> float:
    """P(≥1 flare ``decades`` of peak flux above the counted ones within ``horizon_hours``):
    ``n_flares`` counted in ``hours`` give the Poisson rate (n + ½)/hours (Jeffreys prior: never
    0 or 1), scaled by the size distribution 10^−(γ−1)·decades (the flare-history forecast of
    Wheatland 2004, without its Bayesian treatment of γ; C1 → M1 is one decade)."""
    if hours <= 0:
        raise ValueError(f"hours must be > 0, got {hours}")
    rate = (int(n_flares) + 0.5) / float(hours) * 10.0 ** (-(size_index - 1.0) * decades)
    return float(1.0 - math.exp(-rate * horizon_hours))


def full_disk_fallback(n_flares: int | None, hours_covered: float | None, *,
                       min_hours: float = 24.0, climatology: float | None = None,
                       horizon_hours: float = 24.0) -> Fallback:
    """The full-disk P(≥M1 in ``horizon_hours``) without FPNet: from ``n_flares`` (≥C1.0) in
    the last ``hours_covered`` of the flare history (:func:`rate_probability`) when at least
    ``min_hours`` are covered; else the ``climatology`` probability when configured; else
    unknown (``p_m24`` None)."""
    if n_flares is not None and hours_covered is not None and hours_covered >= min_hours:
        return Fallback(FLARE_HISTORY, rate_probability(n_flares, hours_covered, horizon_hours),
                        {"n_flares_c1_or_above": int(n_flares),
                         "hours": round(float(hours_covered), 2),
                         "size_index": FLARE_SIZE_INDEX})
    why = ("no flare history configured" if hours_covered is None else
           f"the flare history covers {hours_covered:.1f} h (< {min_hours:g} h)")
    if climatology is not None:
        return Fallback(CLIMATOLOGY, float(climatology), {"why": why})
    return Fallback(NO_FALLBACK, None, {"why": why + "; no climatology configured"})


def history_fallback(history: FlareHistory | None, t_obs, *, lookback_hours: float = 72.0,
                     min_hours: float = 24.0, climatology: float | None = None) -> Fallback:
    """:func:`full_disk_fallback` from ``history``'s ≥C1.0 flares peaking in the last
    ``lookback_hours`` before ``t_obs`` (fewer hours when the GOES record starts later)."""
    if history is None or not history.configured:
        return full_disk_fallback(None, None, min_hours=min_hours, climatology=climatology)
    t = pd.Timestamp(t_obs)
    t = t.tz_convert("UTC").tz_localize(None) if t.tzinfo is not None else t
    hours = float(lookback_hours)
    if history.xrs_start is not None:
        hours = min(hours, max(0.0, (t - history.xrs_start).total_seconds() / 3600.0))
    counts = history.disk_index(t, window_hours=lookback_hours, min_class=RATE_MIN_CLASS)
    return full_disk_fallback(int(counts["n"]), hours, min_hours=min_hours,
                              climatology=climatology)


def status_warnings(status: InputStatus, fallback: Fallback | None) -> list[str]:
    """The response's warnings of a degraded forecast (empty when nothing is missing)."""
    if not status.degraded:
        return []
    out = [f"DEGRADED: missing input(s) {', '.join(status.missing) or 'none'}"
           + ("; SPNet has none of its channels: no regions, holes or filaments"
              if not status.perceive else "")]
    if status.models_forecast:
        out[0] += ": FPNet forecast from the channels present"
    elif fallback is not None:
        p = "unknown" if fallback.p_m24 is None else f"{fallback.p_m24:.3f}"
        out[0] += (f": no per-region forecasts; full-disk P(≥M1, 24 h) = {p} from the "
                   f"{fallback.method} fallback"
                   + (f" ({fallback.detail['why']})" if "why" in fallback.detail else ""))
    return out


__all__ = ["CLIMATOLOGY", "FLARE_HISTORY", "FLARE_SIZE_INDEX", "MAGNETOGRAM", "NO_FALLBACK",
           "RATE_MIN_CLASS", "Fallback", "InputStatus", "assess", "full_disk_fallback",
           "history_fallback", "rate_probability", "status_warnings"]
