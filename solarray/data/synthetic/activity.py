"""What the synthetic Sun emits over time: flares, GOES XRS and the daily F10.7/F30 indices.

Built on the content of :mod:`~solarray.data.synthetic.model`; times are days since the sequence
start. Nothing here reads the future of the time it describes: a flare shows in XRS (and in the
images, :mod:`~solarray.data.synthetic.render`) only from its start, and the index value of a
day describes the Sun up to that day's measurement hour
(:data:`~solarray.data.tables.indices.MEASURED_HOUR_UTC`), so a consumer that reads the latest
value measured before an observation (:func:`~solarray.data.tables.indices.index_at`) never sees
the Sun after it.
"""

from __future__ import annotations

import numpy as np

from solarray.data.synthetic.model import (
    RISE_SIGMAS,
    ActiveRegion,
    Flare,
    SunModel,
    active_area_msh,
)
from solarray.data.tables.indices import MEASURED_HOUR_UTC

#: Flares per day above a region's lower cut, per 10²² Mx of PIL flux, and at zero PIL flux.
RATE_PER_PIL = 5.5
RATE_FLOOR = 0.1
#: Lower cut of a region's flare peaks (W m⁻²): ``CUT_FLOOR + CUT_PER_PIL``·min(x, 3).
CUT_FLOOR = 0.5e-6
CUT_PER_PIL = 0.3e-6
#: Index of the cumulative peak-flux distribution above the cut (differential index 1.8).
CUM_INDEX = 0.8
MAX_FLUX = 3e-3  # W m⁻², the largest flare the model makes (≈ X300: no cap in practice)


def rate_and_cut(x: float) -> tuple[float, float]:
    """Flares per day above the lower cut, and that cut (W m⁻²), of a full-strength region with
    PIL flux ``x`` (10²² Mx): both grow continuously with x."""
    return RATE_FLOOR + RATE_PER_PIL * x, CUT_FLOOR + CUT_PER_PIL * min(x, 3.0)


def m_rate(x: float) -> float:
    """Expected ≥M1 flares per day of a full-strength region with PIL flux ``x`` (10²² Mx)."""
    lam, cut = rate_and_cut(x)
    return lam * min(1.0, (cut / 1e-5) ** CUM_INDEX)


def simulate_flares(sun: SunModel, t_min: float, t_max: float, seed: int) -> list[Flare]:
    """Flares in ``[t_min, t_max]`` days: a Poisson process per AR, thinned by its strength.

    Productivity is a continuous function of the flux at strong polarity inversion lines
    (:attr:`~solarray.data.synthetic.model.ActiveRegion.pil_flux`, x in 10²² Mx), as flare rates
    follow Schrijver's R on the real Sun (Schrijver 2007), never of the Hale class itself: flares
    above the region's lower cut come at ``RATE_FLOOR + RATE_PER_PIL``·x per day, and the cut
    grows with x (``CUT_FLOOR + CUT_PER_PIL``·min(x, 3) W m⁻²) under a power law of cumulative
    index ``CUM_INDEX``, so δ-spots and compact bipoles give more and larger flares. Near
    maximum this yields ≈ 1 ≥M1 flare per day on the disk and a per-region ≥M-in-24-h base rate
    of a few % (REFERENCE.md "Typical values"; measured in the benchmark Sun's description).
    """
    rng = np.random.default_rng([seed, 2])
    flares = []
    for r in sun.active_regions:
        lam, f_min = rate_and_cut(r.pil_flux)
        n = rng.poisson(lam * (t_max - t_min))
        times = np.sort(rng.uniform(t_min, t_max, size=n))
        keep = rng.random(n) < r.strength(times)
        for t in times[keep]:
            f = min(f_min * rng.random() ** (-1.0 / CUM_INDEX), MAX_FLUX)
            rise = rng.uniform(3.0, 8.0)
            decay = rng.uniform(8.0, 25.0) * (1.0 + 0.3 * np.log10(f / 1e-6 + 1.0))
            site = (r.flare_site[0] + rng.normal(0, 0.3), r.flare_site[1] + rng.normal(0, 0.3))
            flares.append(Flare(r.number, float(t), float(f), float(rise), float(decay), site))
    flares.sort(key=lambda f: f.peak_time)
    return flares


def visible_weight(region: ActiveRegion, t: np.ndarray) -> np.ndarray:
    """1 while the region is on the Earth-facing hemisphere (X-rays from just behind the limb too)."""
    lon = (region.lon(t) + 180.0) % 360.0 - 180.0
    return np.clip((100.0 - np.abs(lon)) / 10.0, 0.0, 1.0)


def seen_by_goes(sun: SunModel, flare: Flare) -> float:
    """Fraction of a flare's X-rays that reach GOES: its region's :func:`visible_weight` at the
    peak (0 for a flare on the far side, which no Earth-side instrument sees)."""
    return float(visible_weight(sun.region(flare.ar_number), np.array([flare.peak_time]))[0])


def xrs_series(sun: SunModel, t_days: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """GOES XRS (xrsa 0.5–4 Å, xrsb 1–8 Å) in W m⁻² at ``t_days``.

    Background from the visible active flux (≈B1 for a spotless Sun to C-level at maximum) with
    slow fluctuations; each flare adds its profile as far as GOES sees it (:func:`seen_by_goes`).
    The 0.5–4 Å channel is ~10× lower and peaks
    a minute earlier with a faster decay, from the same start (no flux before a flare starts).
    """
    rng = np.random.default_rng([seed, 3])
    t_days = np.asarray(t_days, dtype=float)
    active = np.zeros_like(t_days)
    for r in sun.active_regions:
        active += (r.flux / 1e22) * r.strength(t_days) * visible_weight(r, t_days)
    wiggle = np.exp(0.15 * np.sin(2 * np.pi * t_days / 0.7 + rng.uniform(0, 6.3)))
    bg_b = (1e-7 + 1.5e-7 * active) * wiggle
    xrsb = bg_b.copy()
    xrsa = 0.02 * bg_b
    for f in sun.flares:
        seen = seen_by_goes(sun, f)
        if seen <= 0:
            continue
        xrsb += seen * f.profile(t_days)
        # One minute earlier at the peak, the rise shortened so the start stays the same.
        shifted = Flare(f.ar_number, f.peak_time - 1.0 / 1440.0, 0.12 * f.excess_flux,
                        f.rise - 1.0 / RISE_SIGMAS, 0.7 * f.decay, f.site)
        xrsa += seen * shifted.profile(t_days)
    noise = 1.0 + 0.005 * rng.standard_normal((2, t_days.size))
    return xrsa * noise[0], xrsb * noise[1]


def f107_series(sun: SunModel, days: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Daily F10.7 and F30 (sfu) tracking the visible active-region area (65 sfu floor).

    ``days``: each day's midnight (UTC) in days since the sequence start. The value of day d is
    measured at its :data:`~solarray.data.tables.indices.MEASURED_HOUR_UTC` (Penticton's local
    noon, Tapping 2013) from the Sun at that moment, never later.
    """
    rng = np.random.default_rng([seed, 4])
    at = np.asarray(days, dtype=float) + MEASURED_HOUR_UTC / 24.0
    area = np.array([
        sum(active_area_msh(r, t) * float(visible_weight(r, np.array([t]))[0])
            for r in sun.active_regions)
        for t in at
    ])
    f107 = 65.0 + 0.012 * area + rng.normal(0, 2.0, size=len(at))
    f30 = 0.55 * f107 + 12.0 + rng.normal(0, 1.5, size=len(at))
    return f107, f30


__all__ = ["f107_series", "m_rate", "rate_and_cut", "seen_by_goes", "simulate_flares",
           "visible_weight", "xrs_series"]
