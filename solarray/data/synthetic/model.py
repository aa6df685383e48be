"""What the synthetic Sun contains: active regions, coronal holes, filaments, flares.

Everything here is a seeded, physically motivated *model* of one evolving Sun in heliographic
coordinates, independent of any image grid (rendering lives in
:mod:`~solarray.data.synthetic.render`; what it emits over time — flare times, GOES XRS, F10.7 —
in :mod:`~solarray.data.synthetic.activity`). Times are days since the sequence start (float).
Sources of the numbers: REFERENCE.md "Typical values".

Magnetic complexity is continuous: bipoles range from wide to compact (opposite-polarity spots
a few degrees apart), and a δ-spot (Künzel 1960: opposite-polarity umbrae closer than
:data:`DELTA_MAX_DEG`, in one penumbra) has a continuous strength. The Hale class is what the
magnetogram shows (:func:`delta_spots`); flare productivity follows :attr:`ActiveRegion.pil_flux`,
not the class.

Conventions: Stonyhurst longitude grows towards the west limb, so solar rotation moves features to
larger longitudes; an AR's leading polarity is the western one (Hale's law sign depends on the
hemisphere and the cycle); bipoles are tilted so the leading pole is nearer the equator (Joy's law).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage

from solarray.core.classes import HALE_CLASSES
from solarray.core.geometry import synodic_rate

R_SUN_CM = 6.96e10
DEG_CM = np.radians(1.0) * R_SUN_CM  # cm per heliographic degree on the surface
AR_MASK_GAUSS = 100.0  # |B_r| above which a pixel belongs to an AR footprint (its mask and area)
COMPLEXITY = {"alpha": 0.3, "beta": 1.0, "beta-x": 3.0}
PENUMBRA_GAUSS = 1000.0  # a spot whose peak |B_r| exceeds this has a penumbra (McIntosh)
PIL_SCALE_DEG = 2.0  # e-folding distance of opposite polarities for ActiveRegion.pil_flux
DELTA_MAX_DEG = 2.0  # opposite-polarity umbrae closer than this share a penumbra: a δ-spot
#: Main-spot separation of bipoles (deg), log-uniform: compact bipoles (≥ DELTA_MAX_DEG apart, so
#: never a δ) have opposite spots close enough for a substantial PIL flux.
BIPOLE_SEP_DEG = (2.4, 18.0)
#: δ-spot flux as a fraction of the region's flux per polarity, log-uniform (weak δs exist).
DELTA_FRACTION = (0.08, 0.45)
DELTA_REGION_FLUX = 1.5  # δ-spot regions are larger: their flux per polarity is this × more
DELTA_OFFSET_SIGMA = 1.5  # δ umbra's distance from the leading spot, its sigmas (≤ ¾ DELTA_MAX_DEG)


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

    def mcintosh_at(self, t: float) -> str:
        """McIntosh Z class at ``t`` (days): penumbrae of the main spots as strong as they are
        then (an emerging region gets its penumbrae as its field grows, not before)."""
        s = float(self.strength(t))
        spots = [p for p in self.poles if p.spot]
        return mcintosh_z(self.hale, self.separation,
                          sum(s * p.peak_gauss >= PENUMBRA_GAUSS for p in spots[:2]))

    @property
    def pil_site(self) -> tuple[float, float]:
        """Midpoint (deg offsets) of the opposite-signed spot pair adding most to
        :attr:`pil_flux`, where flares start; the centre for a region without one."""
        spots = [p for p in self.poles if p.spot]
        best, site = 0.0, (0.0, 0.0)
        for i, a in enumerate(spots):
            for b in spots[i + 1:]:
                if np.sign(a.flux) != np.sign(b.flux):
                    d = float(np.hypot(a.dlon - b.dlon, a.dlat - b.dlat))
                    w = min(abs(a.flux), abs(b.flux)) * np.exp(-d / PIL_SCALE_DEG)
                    if w > best:
                        best, site = w, ((a.dlon + b.dlon) / 2, (a.dlat + b.dlat) / 2)
        return site


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


RISE_SIGMAS = 2.0  # a flare starts this many rise sigmas before its peak


@dataclass
class Flare:
    ar_number: int
    peak_time: float  # days
    excess_flux: float  # W m^-2 above background at peak (1–8 Å)
    rise: float  # Gaussian rise sigma, minutes
    decay: float  # e-folding decay, minutes
    site: tuple[float, float]  # offsets from the AR centre, deg

    def profile(self, t_days: np.ndarray) -> np.ndarray:
        """Excess 1–8 Å flux (W m⁻²) at times ``t_days``: a Gaussian rise from 0 at
        :attr:`start_time` (nothing of the flare exists before it starts), exponential decay."""
        dt = (np.asarray(t_days) - self.peak_time) * 1440.0
        g0 = np.exp(-0.5 * RISE_SIGMAS**2)
        g = np.exp(-0.5 * (np.minimum(dt, 0.0) / self.rise) ** 2)
        rise = np.clip((g - g0) / (1.0 - g0), 0.0, None)
        decay = np.exp(-np.maximum(dt, 0.0) / self.decay)
        return self.excess_flux * np.where(dt < 0, rise, decay)

    @property
    def start_time(self) -> float:
        return self.peak_time - RISE_SIGMAS * self.rise / 1440.0

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
    flux = 10 ** rng.uniform(21.6, 22.5) * (DELTA_REGION_FLUX if hale == "beta-x" else 1.0)
    sigma = rng.uniform(0.5, 1.1)
    if hale == "alpha":
        spot = Pole(0.0, 0.0, lead * 0.7 * flux, sigma)
        plage = Pole(rng.uniform(-3, -1), 0.0, -lead * 0.7 * flux, 4.5, spot=False)
        halo = [Pole(0.0, 0.0, lead * 0.3 * flux, 2.5 * sigma, spot=False),
                Pole(rng.uniform(-3, -1), 0.0, -lead * 0.3 * flux, 6.0, spot=False)]
        poles, sep, site = [spot, plage, *halo], 0.0, (0.0, 0.0)
    else:
        # Compactness is continuous: wide bipoles hardly have a strong-field PIL, compact ones
        # (spots ≥ DELTA_MAX_DEG apart, separate penumbrae) do.
        sep = float(np.exp(rng.uniform(*np.log(BIPOLE_SEP_DEG))))
        poles = _bipole(rng, lat, flux, sep, lead, sigma)
        if hale == "beta-x":
            # A δ-spot: an opposite-polarity umbra inside the leading spot's penumbra, at a
            # random (shear) angle, its flux continuous; the leading spot gains as much flux, so
            # the region stays balanced.
            spot, other = poles[0], poles[1]
            outward = np.arctan2(spot.dlat - other.dlat, spot.dlon - other.dlon)
            ang = outward + rng.uniform(-0.6, 0.6) * np.pi  # not into the following spot
            dflux = float(np.exp(rng.uniform(*np.log(DELTA_FRACTION)))) * flux
            spot.flux += lead * dflux
            d = min(DELTA_OFFSET_SIGMA * spot.sigma, 0.75 * DELTA_MAX_DEG)
            poles.append(Pole(spot.dlon + d * np.cos(ang), spot.dlat + d * np.sin(ang),
                              -lead * dflux, 0.4 * spot.sigma))
        site = (0.0, 0.0)
    t_grow = rng.uniform(0.5, 2.0)
    region = ActiveRegion(number, lon0, lat, t_birth, t_grow, rng.uniform(6.0, 25.0), str(hale),
                          poles, flux, sep, site)
    if hale != "alpha":
        region.flare_site = region.pil_site
    return region


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


UMBRA_FRACTION = 0.15  # an umbra in delta_spots: a local |B_r| extremum ≥ this × the region's max


def delta_spots(region: ActiveRegion, step_deg: float = 0.05) -> list[tuple[float, float]]:
    """δ-spots seen in the region's full-strength magnetogram: midpoints (deg offsets) of pairs
    of opposite-polarity umbrae (local |B_r| extrema ≥ ``UMBRA_FRACTION`` of the region's
    peak |B_r|) closer than :data:`DELTA_MAX_DEG` (Künzel 1960). A region is ``beta-x`` exactly
    when this is non-empty (tests/test_synthetic_activity.py checks the generator keeps it so)."""
    extent = max(abs(p.dlon) + abs(p.dlat) + 4 * p.sigma for p in region.poles if p.spot)
    ax = np.arange(-extent, extent + step_deg, step_deg)
    gx, gy = np.meshgrid(ax, ax)
    b = region_field(region, gx, gy, 1.0).astype(np.float64)
    floor = UMBRA_FRACTION * np.abs(b).max()
    size = max(3, int(round(0.5 / step_deg)) | 1)  # extrema ≥ 0.25° from a stronger neighbour
    pos = (b == ndimage.maximum_filter(b, size)) & (b >= floor)
    neg = (b == ndimage.minimum_filter(b, size)) & (b <= -floor)
    out = []
    for i, j in zip(*np.nonzero(pos), strict=True):
        for k, m in zip(*np.nonzero(neg), strict=True):
            d = np.hypot(gx[i, j] - gx[k, m], gy[i, j] - gy[k, m])
            if d < DELTA_MAX_DEG:
                out.append((float(gx[i, j] + gx[k, m]) / 2, float(gy[i, j] + gy[k, m]) / 2))
    return out


def region_field(region: ActiveRegion, dlon: np.ndarray, dlat: np.ndarray,
                 strength: float) -> np.ndarray:
    """Radial field (G) of a region at local offsets (deg, tangent plane) for a flux envelope."""
    b = np.zeros(np.shape(dlon), dtype=np.float32)
    for p in region.poles:
        peak = np.float32(strength * np.sign(p.flux) * p.peak_gauss)
        r2 = ((dlon - p.dlon) ** 2 + (dlat - p.dlat) ** 2) / np.float32(2 * p.sigma**2)
        b += peak * np.exp(-r2)
    return b
