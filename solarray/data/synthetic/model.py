"""What the synthetic Sun contains: active regions, coronal holes, filaments, flares, GOES XRS, F10.7.

Everything here is a seeded, physically motivated *model* of one evolving Sun in heliographic
coordinates, independent of any image grid (rendering lives in
:mod:`~solarray.data.synthetic.render`). Times are days since the sequence start (float). Sources
of the numbers: REFERENCE.md "Typical values".

Conventions: Stonyhurst longitude grows towards the west limb, so solar rotation moves features to
larger longitudes; an AR's leading polarity is the western one (Hale's law sign depends on the
hemisphere and the cycle); bipoles are tilted so the leading pole is nearer the equator (Joy's law).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from solarray.core.classes import HALE_CLASSES
from solarray.core.geometry import synodic_rate

R_SUN_CM = 6.96e10
DEG_CM = np.radians(1.0) * R_SUN_CM  # cm per heliographic degree on the surface
AR_MASK_GAUSS = 100.0  # |B_r| above which a pixel belongs to an AR footprint (its mask and area)
COMPLEXITY = {"alpha": 0.3, "beta": 1.0, "beta-x": 3.0}
PENUMBRA_GAUSS = 1000.0  # a spot whose peak |B_r| exceeds this has a penumbra (McIntosh)
PIL_SCALE_DEG = 2.0  # e-folding distance of opposite polarities for ActiveRegion.pil_flux


def north_leading_sign(year: float) -> int:
    """Sign of the leading polarity in the northern hemisphere (+1 in odd cycles, e.g. 23, 25)."""
    cycle = 23 + int((year - 1996.6) // 11.2)
    return 1 if cycle % 2 else -1


@dataclass
class Pole:
    """A Gaussian flux concentration, offsets from the AR centre in heliographic degrees."""

    dlon: float
    dlat: float
    flux: float  # signed, Mx
    sigma: float  # deg
    spot: bool = True  # a sunspot (counts for McIntosh penumbra), else plage

    @property
    def peak_gauss(self) -> float:
        return abs(self.flux) / (2.0 * np.pi * (self.sigma * DEG_CM) ** 2)


@dataclass
class Filament:
    """A thin dark ribbon: a polyline of heliographic offsets (deg) from an anchor, width in deg."""

    anchor: int  # AR number it sits in, or 0 for a quiet-Sun filament channel
    lon: float  # anchor position (quiet-Sun filaments) at t = 0
    lat: float
    points: np.ndarray  # [K, 2] (dlon, dlat) offsets in deg
    width: float


@dataclass
class ActiveRegion:
    number: int
    lon0: float  # Stonyhurst longitude at t = 0, deg
    lat: float
    t_birth: float  # days
    t_grow: float
    lifetime: float
    hale: str
    poles: list[Pole]
    flux: float  # unsigned flux per polarity at full strength, Mx
    separation: float  # main bipole separation, deg
    flare_site: tuple[float, float]
    decayed: bool = False  # a decayed plage pair: hosts a filament channel, is not an AR

    def lon(self, t: float | np.ndarray) -> np.ndarray:
        return self.lon0 + float(synodic_rate(self.lat)) * np.asarray(t)

    def strength(self, t: float | np.ndarray) -> np.ndarray:
        """Flux envelope 0–1: linear emergence over ``t_grow`` days, linear decay to ``lifetime``."""
        t = np.asarray(t, dtype=float)
        grow = (t - self.t_birth) / self.t_grow
        decay = (self.t_birth + self.lifetime - t) / max(self.lifetime - self.t_grow, 1e-6)
        return np.clip(np.minimum(grow, decay), 0.0, 1.0)

    @property
    def complexity(self) -> float:
        return COMPLEXITY[self.hale]

    @property
    def pil_flux(self) -> float:
        """Flux next to strong-field polarity inversion lines, in 10²² Mx (a Schrijver-R proxy):
        Σ over opposite-signed spot pairs of min(|Φ_a|, |Φ_b|)·exp(−d/``PIL_SCALE_DEG``). Large
        for δ-spots and compact bipoles, ≈ 0 for unipolar regions; seen only in the magnetogram."""
        spots = [p for p in self.poles if p.spot]
        total = 0.0
        for i, a in enumerate(spots):
            for b in spots[i + 1:]:
                if np.sign(a.flux) != np.sign(b.flux):
                    d = float(np.hypot(a.dlon - b.dlon, a.dlat - b.dlat))
                    total += min(abs(a.flux), abs(b.flux)) * np.exp(-d / PIL_SCALE_DEG)
        return total / 1e22

    @property
    def mcintosh(self) -> str:
        spots = [p for p in self.poles if p.spot]
        return mcintosh_z(self.hale, self.separation, sum(p.peak_gauss >= PENUMBRA_GAUSS for p in spots[:2]))


def mcintosh_z(hale: str, extent_deg: float, n_penumbral: int) -> str:
    """McIntosh Z class (McIntosh 1990) from Hale class, longitudinal extent and penumbrae.

    Unipolar: H with a penumbra, else A. Bipolar: B without penumbrae, C with one, D/E/F with two
    by extent (≤ 10°, ≤ 15°, > 15°).
    """
    if hale == "alpha":
        return "H" if n_penumbral else "A"
    if n_penumbral == 0:
        return "B"
    if n_penumbral == 1:
        return "C"
    return "D" if extent_deg <= 10 else ("E" if extent_deg <= 15 else "F")


@dataclass
class CoronalHole:
    lon0: float
    lat: float
    radius_lon: float  # deg
    radius_lat: float
    harmonics: np.ndarray  # [K, 2] Fourier amplitudes (relative) of the boundary
    polarity: int  # sign of its unipolar field

    def lon(self, t: float | np.ndarray) -> np.ndarray:
        return self.lon0 + float(synodic_rate(self.lat)) * np.asarray(t)


@dataclass
class Flare:
    ar_number: int
    peak_time: float  # days
    excess_flux: float  # W m^-2 above background at peak (1–8 Å)
    rise: float  # Gaussian rise sigma, minutes
    decay: float  # e-folding decay, minutes
    site: tuple[float, float]  # offsets from the AR centre, deg

    def profile(self, t_days: np.ndarray) -> np.ndarray:
        """Excess 1–8 Å flux (W m⁻²) at times ``t_days``: Gaussian rise, exponential decay."""
        dt = (np.asarray(t_days) - self.peak_time) * 1440.0
        rise = np.exp(-0.5 * (np.minimum(dt, 0.0) / self.rise) ** 2)
        decay = np.exp(-np.maximum(dt, 0.0) / self.decay)
        return self.excess_flux * np.where(dt < 0, rise, decay)

    @property
    def start_time(self) -> float:
        return self.peak_time - 2.0 * self.rise / 1440.0

    @property
    def end_time(self) -> float:
        # NOAA end: flux half-way back from peak to the pre-flare level.
        return self.peak_time + np.log(2.0) * self.decay / 1440.0


@dataclass
class SunModel:
    """The content of one synthetic Sun over ``[t_min, t_max]`` days."""

    regions: list[ActiveRegion]
    holes: list[CoronalHole]
    filaments: list[Filament]
    flares: list[Flare] = field(default_factory=list)
    network_seed: int = 0

    @property
    def active_regions(self) -> list[ActiveRegion]:
        return [r for r in self.regions if not r.decayed]

    def region(self, number: int) -> ActiveRegion:
        return next(r for r in self.regions if r.number == number)


def _bipole(rng: np.random.Generator, lat: float, flux: float, sep: float, lead_sign: int,
            sigma: float) -> list[Pole]:
    tilt = np.radians(0.5 * abs(lat))  # Joy's law
    ux, uy = np.cos(tilt), -np.sign(lat) * np.sin(tilt)  # leading (west) pole nearer the equator
    half = sep / 2.0
    poles = []
    for sign, s in ((lead_sign, +1.0), (-lead_sign, -1.0)):
        cx, cy = s * half * ux, s * half * uy
        poles.append(Pole(cx, cy, sign * 0.6 * flux, sigma * rng.uniform(0.85, 1.15)))
    for sign, s in ((lead_sign, +1.0), (-lead_sign, -1.0)):  # plage around the spots
        cx, cy = s * half * ux, s * half * uy
        poles.append(Pole(cx, cy, sign * 0.4 * flux, 2.2 * sigma, spot=False))
    return poles


def _new_region(rng: np.random.Generator, number: int, lon0: float, t_birth: float,
                year: float, decayed: bool = False) -> ActiveRegion:
    lat = rng.choice([-1.0, 1.0]) * rng.uniform(5.0, 35.0)
    lead = north_leading_sign(year) * (1 if lat > 0 else -1)
    if decayed:
        flux = 10 ** rng.uniform(21.3, 21.8)
        sep = rng.uniform(6.0, 10.0)
        poles = [Pole(p.dlon, p.dlat, p.flux, 3.5, spot=False)
                 for p in _bipole(rng, lat, flux, sep, lead, 3.0)[:2]]
        return ActiveRegion(number, lon0, lat, t_birth, 1.0, rng.uniform(20, 40), "beta", poles,
                            flux, sep, (0.0, 0.0), decayed=True)
    hale = rng.choice(HALE_CLASSES, p=[0.25, 0.55, 0.20])
    flux = 10 ** rng.uniform(21.6, 22.5) * (1.8 if hale == "beta-x" else 1.0)
    sigma = rng.uniform(0.5, 1.1)
    if hale == "alpha":
        spot = Pole(0.0, 0.0, lead * 0.7 * flux, sigma)
        plage = Pole(rng.uniform(-3, -1), 0.0, -lead * 0.7 * flux, 4.5, spot=False)
        halo = [Pole(0.0, 0.0, lead * 0.3 * flux, 2.5 * sigma, spot=False),
                Pole(rng.uniform(-3, -1), 0.0, -lead * 0.3 * flux, 6.0, spot=False)]
        poles, sep, site = [spot, plage, *halo], 0.0, (0.0, 0.0)
    else:
        sep = rng.uniform(3.0, 18.0)
        poles = _bipole(rng, lat, flux, sep, lead, sigma)
        site = (0.0, 0.0)
        if hale == "beta-x":
            # A delta spot: opposite polarities packed in one penumbra next to the leading spot,
            # sheared at a random angle; its polarity inversion line is where flares start.
            lx, ly = poles[0].dlon, poles[0].dlat
            ang = rng.uniform(0, np.pi)
            d = 0.55 * sigma
            dx, dy = d * np.cos(ang), d * np.sin(ang)
            dflux = rng.uniform(0.1, 0.6) * flux  # δ strength: visible only in the magnetogram
            poles += [Pole(lx - 1.2 * sigma + dx, ly + dy, dflux, 0.6 * sigma),
                      Pole(lx - 1.2 * sigma - dx, ly - dy, -dflux, 0.6 * sigma)]
            site = (lx - 1.2 * sigma, ly)
    t_grow = rng.uniform(0.5, 2.0)
    return ActiveRegion(number, lon0, lat, t_birth, t_grow, rng.uniform(6.0, 25.0), str(hale),
                        poles, flux, sep, site)


def _pil_filament(rng: np.random.Generator, region: ActiveRegion) -> Filament:
    """A filament lying on the main polarity inversion line of a bipole (perpendicular bisector)."""
    a, b = region.poles[0], region.poles[1]
    mx, my = (a.dlon + b.dlon) / 2, (a.dlat + b.dlat) / 2
    axis = np.array([a.dlon - b.dlon, a.dlat - b.dlat])
    perp = np.array([-axis[1], axis[0]]) / np.hypot(*axis)
    half = 0.35 * region.separation
    s = np.linspace(-half, half, 9)
    pts = np.stack([mx + s * perp[0], my + s * perp[1]], axis=1)
    return Filament(region.number, region.lon0, region.lat, pts, rng.uniform(0.5, 0.9))


def build_sun(seed: int, days: float, year: float, activity: float = 1.0) -> SunModel:
    """Sample the Sun's content for a sequence of ``days`` days starting in ``year`` (decimal).

    ``activity`` scales the number of regions and the emergence rate (1 ≈ near solar maximum).
    """
    rng = np.random.default_rng([seed, 1])
    regions: list[ActiveRegion] = []
    number = 1
    # Regions already present at t=0 anywhere on the Sun (the far side rotates into view) ...
    for _ in range(rng.poisson(14 * activity)):
        r = _new_region(rng, number, rng.uniform(-180, 180), -rng.uniform(0.5, 6.0), year)
        regions.append(r)
        number += 1
    # ... and new ones emerging on the visible disk during the sequence (and the day after).
    for _ in range(rng.poisson(1.5 * activity * (days + 1))):
        regions.append(_new_region(rng, number, rng.uniform(-60, 60), rng.uniform(-0.5, days + 1),
                                   year))
        number += 1
    # Decayed bipolar plage: quiet-Sun filament channels live on their inversion lines.
    for _ in range(rng.poisson(3 * activity) + 1):
        regions.append(_new_region(rng, number, rng.uniform(-90, 90), -rng.uniform(1, 10), year,
                                   decayed=True))
        number += 1
    filaments = []
    for r in regions:
        if r.decayed or (r.hale != "alpha" and rng.random() < 0.5):
            filaments.append(_pil_filament(rng, r))
    holes = []
    for _ in range(100):
        if len(holes) >= rng.poisson(1.5) + 1:
            break
        lat = rng.uniform(-55, 55)
        lon0 = rng.uniform(-60, 60)
        if any(abs(lat - r.lat) < 18 and abs(lon0 - r.lon0) < 25 for r in regions):
            continue
        harm = rng.normal(0, 0.12, size=(4, 2))
        holes.append(CoronalHole(lon0, lat, rng.uniform(5, 12), rng.uniform(6, 15), harm,
                                 int(rng.choice([-1, 1]))))
    return SunModel(regions, holes, filaments, network_seed=int(rng.integers(2**31)))


def simulate_flares(sun: SunModel, t_min: float, t_max: float, seed: int,
                    rate_per_day: float = 0.7) -> list[Flare]:
    """Flares in ``[t_min, t_max]`` days: a Poisson process per AR, thinned by its strength.

    Productivity follows the flux at strong polarity inversion lines (:attr:`ActiveRegion.
    pil_flux`, x in 10²² Mx), as flare rates follow Schrijver's R on the real Sun: the rate of
    flares above the region's lower cut is ``rate_per_day``·(0.12 + x) and the cut itself grows
    with x (1e-6·(0.25 + 2.2·min(x, 3)) W m⁻²) under a power law of index 1.8, so δ-spots and
    compact bipoles give more and larger flares. Near maximum this yields ≈ 1 ≥M1 flare per day
    on the disk, a per-region ≥M-in-24-h base rate of ≈ 5 % (REFERENCE.md "Typical values").
    """
    rng = np.random.default_rng([seed, 2])
    flares = []
    for r in sun.active_regions:
        x = r.pil_flux
        lam = rate_per_day * (0.12 + x)
        n = rng.poisson(lam * (t_max - t_min))
        times = np.sort(rng.uniform(t_min, t_max, size=n))
        keep = rng.random(n) < r.strength(times)
        f_min = 1e-6 * (0.25 + 2.2 * min(x, 3.0))
        for t in times[keep]:
            f = min(f_min * rng.random() ** (-1.0 / 0.8), 3e-3)
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


def xrs_series(sun: SunModel, t_days: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """GOES XRS (xrsa 0.5–4 Å, xrsb 1–8 Å) in W m⁻² at ``t_days``.

    Background from the visible active flux (≈B1 for a spotless Sun to C-level at maximum) with
    slow fluctuations; each flare adds its profile. The 0.5–4 Å channel is ~10× lower and peaks
    a minute earlier with a faster decay.
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
        xrsb += f.profile(t_days)
        shifted = Flare(f.ar_number, f.peak_time - 1.0 / 1440.0, 0.12 * f.excess_flux, f.rise,
                        0.7 * f.decay, f.site)
        xrsa += shifted.profile(t_days)
    noise = 1.0 + 0.005 * rng.standard_normal((2, t_days.size))
    return xrsa * noise[0], xrsb * noise[1]


def active_area_msh(region: ActiveRegion, t: float, step_deg: float = 0.1) -> float:
    """Footprint area (MSH) where the region's |B_r| ≥ AR_MASK_GAUSS, on a local tangent grid."""
    s = float(region.strength(t))
    if s <= 0:
        return 0.0
    extent = max(abs(p.dlon) + abs(p.dlat) + 4 * p.sigma for p in region.poles)
    ax = np.arange(-extent, extent + step_deg, step_deg)
    gx, gy = np.meshgrid(ax, ax)
    b = region_field(region, gx, gy, s)
    return float(np.count_nonzero(np.abs(b) >= AR_MASK_GAUSS) * np.radians(step_deg) ** 2
                 / (2 * np.pi) * 1e6)


def region_field(region: ActiveRegion, dlon: np.ndarray, dlat: np.ndarray,
                 strength: float) -> np.ndarray:
    """Radial field (G) of a region at local offsets (deg, tangent plane) for a flux envelope."""
    b = np.zeros(np.shape(dlon), dtype=np.float32)
    for p in region.poles:
        peak = np.float32(strength * np.sign(p.flux) * p.peak_gauss)
        r2 = ((dlon - p.dlon) ** 2 + (dlat - p.dlat) ** 2) / np.float32(2 * p.sigma**2)
        b += peak * np.exp(-r2)
    return b


def f107_series(sun: SunModel, days: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Daily F10.7 and F30 (sfu) tracking the visible active-region area (65 sfu floor)."""
    rng = np.random.default_rng([seed, 4])
    area = np.array([
        sum(active_area_msh(r, d + 0.5) * float(visible_weight(r, np.array([d + 0.5]))[0])
            for r in sun.active_regions)
        for d in days
    ])
    f107 = 65.0 + 0.012 * area + rng.normal(0, 2.0, size=len(days))
    f30 = 0.55 * f107 + 12.0 + rng.normal(0, 1.5, size=len(days))
    return f107, f30
