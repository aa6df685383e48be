"""Rendering the synthetic Sun onto an image grid: surface fields, per-channel intensities, masks.

Per pixel we know where on the Sun it looks (:mod:`~solarray.core.geometry`); each feature of the
:class:`~solarray.data.synthetic.model.SunModel` is evaluated only inside its bounding box, so a
4096² frame with a dozen regions costs a few hundred milliseconds per channel.

The per-channel response below is a coarse stand-in for the AIA temperature responses: hot
passbands (94, 131, 335, 211 Å) brighten most over active regions and in flares, 193/211 Å show
coronal holes darkest, 304 Å shows filaments dark, 1600/1700 Å limb-darken like the continuum and
show plage bright and umbrae dark.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from solarray.core import channels as chans
from solarray.core.geometry import (
    DiskGeometry,
    ImageGrid,
    Observer,
    carrington_longitude,
    hgs_to_hpc,
)
from solarray.data.synthetic.blocks import row_bands
from solarray.data.synthetic.model import AR_MASK_GAUSS, SunModel


@dataclass(frozen=True)
class Response:
    """How one AIA passband responds to each feature (multiplicative factors and gains)."""

    limb: str  # "corona" (limb-brightened, off-limb glow), "chromosphere", "photosphere"
    ar_gain: float  # brightening at loop cores, in units of the quiet Sun
    ch_factor: float  # intensity inside a coronal hole relative to quiet Sun
    fl_factor: float  # intensity at a filament's spine relative to quiet Sun
    flare_gain: float  # brightening per 1e-6 W m^-2 of flare X-ray excess, in quiet-Sun units
    network: float  # amplitude of network/moss modulation


RESPONSE: dict[str, Response] = {
    "aia94": Response("corona", 60.0, 0.5, 0.9, 900.0, 0.15),
    "aia131": Response("corona", 30.0, 0.6, 0.9, 1200.0, 0.2),
    "aia171": Response("corona", 10.0, 0.55, 0.7, 15.0, 0.25),
    "aia193": Response("corona", 12.0, 0.2, 0.7, 20.0, 0.2),
    "aia211": Response("corona", 15.0, 0.2, 0.75, 60.0, 0.2),
    "aia304": Response("chromosphere", 3.0, 0.8, 0.15, 80.0, 0.35),
    "aia335": Response("corona", 40.0, 0.35, 0.85, 150.0, 0.15),
    "aia1600": Response("photosphere", 2.0, 1.0, 0.95, 150.0, 0.3),
    "aia1700": Response("photosphere", 0.8, 1.0, 1.0, 20.0, 0.2),
}
CORONA_SCALE_HEIGHT = 0.08  # R☉, off-limb decay of EUV coronal emission
CORONA_LIMB = (0.15, 0.9)  # (c, p) of :func:`corona_limb`
HMI_NETWORK_GAUSS = 25.0


@dataclass
class SurfaceFields:
    """Noise-free physical fields on a grid at one time (arrays ``[ny, nx]``)."""

    br: np.ndarray  # radial field, G (AR + plage + network + coronal holes)
    ar_label: np.ndarray  # int32, AR number where |B_AR| ≥ AR_MASK_GAUSS, else 0
    ch: np.ndarray  # float32 0–1, coronal-hole depth (1 inside, soft edge)
    fl: np.ndarray  # float32 0–1, filament darkness
    loops: np.ndarray  # float32, AR coronal emission (≈1 at loop cores of a 1e22 Mx region)
    flare: np.ndarray  # float32, flare X-ray excess weighted by kernel, units of 1e-6 W m^-2
    network: np.ndarray  # float32, unit-variance texture fixed to the Carrington frame
    bx: np.ndarray | None = None  # horizontal field westward, G (vector channels)
    by: np.ndarray | None = None  # horizontal field northward, G


def _network_texture(seed: int) -> np.ndarray:
    """A smoothed random field on a 0.5° Carrington lon-lat grid, unit variance."""
    rng = np.random.default_rng([seed, 5])
    tex = ndimage.gaussian_filter(rng.standard_normal((361, 720)), sigma=1.2, mode="wrap")
    return (tex / tex.std()).astype(np.float32)


_TEXTURES: dict[int, np.ndarray] = {}


def _sample_texture(seed: int, carr_lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    if seed not in _TEXTURES:
        _TEXTURES.clear()
        _TEXTURES[seed] = _network_texture(seed)
    tex = _TEXTURES[seed]
    coords = np.stack([(lat + 90.0) * 2.0, carr_lon * 2.0])
    return ndimage.map_coordinates(tex, coords, order=1, mode="grid-wrap").astype(np.float32)


def _wrap(dlon: np.ndarray) -> np.ndarray:
    return (dlon + 180.0) % 360.0 - 180.0


def _box(grid: ImageGrid, obs: Observer, lon: float, lat: float, extent_deg: float):
    """Pixel slices around a surface point covering ``extent_deg`` (None when not visible)."""
    tx, ty, mu = hgs_to_hpc(np.array([lon]), np.array([lat]), obs)
    if mu[0] < -np.sin(np.radians(min(extent_deg, 89.0))):
        return None
    px, py = grid.hpc_to_pixel(tx, ty)
    rad = np.radians(extent_deg) * obs.rsun_obs / grid.cdelt + 2.0
    x0, x1 = int(max(px[0] - rad, 0)), int(min(px[0] + rad + 1, grid.nx))
    y0, y1 = int(max(py[0] - rad, 0)), int(min(py[0] + rad + 1, grid.ny))
    if x0 >= x1 or y0 >= y1:
        return None
    return slice(y0, y1), slice(x0, x1)


def _seg_dist2(px, py, ax, ay, bx, by):
    """Squared distance from points to the segment a–b (all in deg)."""
    vx, vy = bx - ax, by - ay
    t = np.clip(((px - ax) * vx + (py - ay) * vy) / max(vx * vx + vy * vy, 1e-9), 0.0, 1.0)
    return (px - ax - t * vx) ** 2 + (py - ay - t * vy) ** 2


def network_on_grid(seed: int, geom: DiskGeometry, obs: Observer) -> np.ndarray:
    """The Carrington-fixed network texture (unit variance) sampled on-disk, 0 off-disk,
    ``[ny, nx]`` float32; evaluated band by band (:mod:`~solarray.data.synthetic.blocks`)."""
    network = np.zeros(geom.on_disk.shape, np.float32)
    for rows in row_bands(*network.shape):
        on = geom.on_disk[rows]
        carr = carrington_longitude(geom.lon[rows][on], obs)
        network[rows][on] = _sample_texture(seed, carr, geom.lat[rows][on])
    return network


def _add_loops(loops: np.ndarray, box, bon: np.ndarray, reg, dx: np.ndarray, dy: np.ndarray,
               extent: float, s: float) -> None:
    """Coronal loops of one region into ``loops[box][bon]``: arcs between opposite-polarity
    spots plus a diffuse glow."""
    spots = [p for p in reg.poles if p.spot]
    pos = [p for p in spots if p.flux > 0]
    neg = [p for p in spots if p.flux < 0]
    e = np.zeros(dx.shape, np.float32)
    for a in pos:
        for c in neg:
            w = 0.6 * (a.sigma + c.sigma)
            d2 = _seg_dist2(dx, dy, a.dlon, a.dlat, c.dlon, c.dlat)
            e = np.maximum(e, np.exp(-d2 / np.float32(2 * w * w)))
    glow_w = max(extent / 2.5, 1.0)
    e += 0.3 * np.exp(-(dx * dx + dy * dy) / np.float32(2 * glow_w**2))
    scale = (0.15 if reg.decayed else 1.0) * s * np.sqrt(reg.flux / 1e22)
    lsub = loops[box]
    lsub[bon] += np.float32(scale) * e


def render_fields(sun: SunModel, t: float, grid: ImageGrid, obs: Observer, geom: DiskGeometry,
                  vector: bool = False, masks_only: bool = False) -> SurfaceFields:
    """Evaluate every feature of ``sun`` at time ``t`` (days) on ``grid``.

    ``masks_only``: compute only what the truth masks need (``ar_label``, ``ch``, ``fl``); the
    other fields are zero (no network texture, loops, flares or field values besides AR claims).
    """
    shape = (grid.ny, grid.nx)
    on = geom.on_disk
    best = np.zeros(shape, np.float32)  # |B| of the strongest AR claiming each pixel
    ar_label = np.zeros(shape, np.int32)
    ch = np.zeros(shape, np.float32)
    fl = np.zeros(shape, np.float32)
    loops = np.zeros(shape, np.float32)
    flare = np.zeros(shape, np.float32)
    bx = np.zeros(shape, np.float32) if vector else None
    by = np.zeros(shape, np.float32) if vector else None

    if masks_only:
        network, br = np.zeros(shape, np.float32), np.zeros(shape, np.float32)
    else:
        network = network_on_grid(sun.network_seed, geom, obs)
        br = HMI_NETWORK_GAUSS * network  # 0 off-disk, as the network

    active_flares = [(f, float(f.profile(np.array([t]))[0])) for f in sun.flares
                     if f.start_time <= t <= f.peak_time + 8 * f.decay / 1440.0]
    for reg in sun.regions:
        s = float(reg.strength(t))
        if s <= 0 or (masks_only and reg.decayed):  # decayed plage claims no AR pixels
            continue
        lon_c = float(_wrap(reg.lon(t)))
        extent = max(np.hypot(p.dlon, p.dlat) + 3.5 * p.sigma for p in reg.poles)
        box = _box(grid, obs, lon_c, reg.lat, extent)
        if box is None:
            continue
        bon = on[box]
        if not bon.any():
            continue
        coslat = np.float32(np.cos(np.radians(reg.lat)))
        dx = (_wrap(geom.lon[box][bon] - lon_c) * coslat).astype(np.float32)
        dy = (geom.lat[box][bon] - reg.lat).astype(np.float32)
        b = np.zeros(dx.shape, np.float32)
        gx = np.zeros(dx.shape, np.float32)
        gy = np.zeros(dx.shape, np.float32)
        for p in reg.poles:
            peak = np.float32(s * np.sign(p.flux) * p.peak_gauss)
            ux, uy = dx - np.float32(p.dlon), dy - np.float32(p.dlat)
            g = peak * np.exp(-(ux * ux + uy * uy) / np.float32(2 * p.sigma**2))
            b += g
            if vector:  # horizontal field fans out of positive and into negative poles
                gx += g * ux / np.float32(p.sigma)
                gy += g * uy / np.float32(p.sigma)
        if not masks_only:
            sub = br[box]
            sub[bon] += b
            if vector:
                bx[box][bon] += gx
                by[box][bon] += gy
            _add_loops(loops, box, bon, reg, dx, dy, extent, s)
        if not reg.decayed:
            absb = np.abs(b)
            claim = (absb >= AR_MASK_GAUSS) & (absb > best[box][bon])
            bsub, lab = best[box], ar_label[box]
            bvals, lvals = bsub[bon], lab[bon]
            bvals[claim], lvals[claim] = absb[claim], reg.number
            bsub[bon], lab[bon] = bvals, lvals
        for f, excess in active_flares:
            if masks_only or f.ar_number != reg.number or excess <= 0:
                continue
            r2 = (dx - f.site[0]) ** 2 + (dy - f.site[1]) ** 2
            fsub = flare[box]
            fsub[bon] += np.float32(excess / 1e-6) * np.exp(-r2 / np.float32(2 * 0.5**2))

    for hole in sun.holes:
        lon_c = float(_wrap(hole.lon(t)))
        extent = max(hole.radius_lon, hole.radius_lat) * 1.6
        box = _box(grid, obs, lon_c, hole.lat, extent)
        if box is None:
            continue
        bon = on[box]
        coslat = np.cos(np.radians(hole.lat))
        dx = _wrap(geom.lon[box][bon] - lon_c) * coslat / hole.radius_lon
        dy = (geom.lat[box][bon] - hole.lat) / hole.radius_lat
        theta = np.arctan2(dy, dx)
        edge = np.ones_like(theta)
        for k, (a, b2) in enumerate(hole.harmonics, start=2):
            edge += a * np.cos(k * theta) + b2 * np.sin(k * theta)
        rho = np.hypot(dx, dy)
        depth = np.clip((edge - rho) / 0.08, 0.0, 1.0).astype(np.float32)
        csub = ch[box]
        csub[bon] = np.maximum(csub[bon], depth)
        if masks_only:
            continue
        # Unipolar weak field: the network inside a hole is one polarity, a few G on average.
        bsub = br[box]
        net = network[box][bon]
        bsub[bon] = (1 - depth) * bsub[bon] + depth * hole.polarity * (4.0 + 6.0 * np.abs(net))

    for fil in sun.filaments:
        reg = sun.region(fil.anchor)
        if reg.strength(t) <= 0:
            continue
        lon_c = float(_wrap(reg.lon(t)))
        extent = float(np.abs(fil.points).max()) + 2.0
        box = _box(grid, obs, lon_c, reg.lat, extent)
        if box is None:
            continue
        bon = on[box]
        coslat = np.cos(np.radians(reg.lat))
        dx = _wrap(geom.lon[box][bon] - lon_c) * coslat
        dy = geom.lat[box][bon] - reg.lat
        d2 = np.full(dx.shape, np.inf)
        for a, c in zip(fil.points[:-1], fil.points[1:], strict=True):
            d2 = np.minimum(d2, _seg_dist2(dx, dy, a[0], a[1], c[0], c[1]))
        dark = np.exp(-d2 / (2 * (fil.width / 2.0) ** 2)).astype(np.float32)
        fsub = fl[box]
        fsub[bon] = np.maximum(fsub[bon], dark)
    return SurfaceFields(br, ar_label, ch, fl, loops, flare, network, bx, by)


def corona_limb(mu: np.ndarray) -> np.ndarray:
    """Optically thin coronal brightening vs μ = cos(angle from disk centre), 1 at μ = 1.

    The line of sight through an emitting shell lengthens towards the limb; ``(μ + c)^-p``
    (``CORONA_LIMB``) is tuned so the rendered 171 Å frame matches the real AIA file's
    limb/centre ratio (:data:`solarray.data.quality.REAL_AIA171_CONTRAST`)."""
    c, p = CORONA_LIMB
    return ((np.asarray(mu, dtype=np.float64) + c) / (1.0 + c)) ** -p


def limb_profile(kind: str, geom: DiskGeometry) -> np.ndarray:
    """Centre-to-limb profile (1 at disk centre) of a :attr:`Response.limb` kind on ``geom``,
    on and off the disk, ``[ny, nx]`` float32; shared by every passband of that kind."""
    mu, r, on = geom.mu, geom.r, geom.on_disk
    if kind == "corona":
        disk = corona_limb(mu)
        edge = corona_limb(np.zeros(1))[0]
        off = edge * np.exp(-(np.maximum(r, 1.0) - 1.0) / CORONA_SCALE_HEIGHT)
    elif kind == "chromosphere":
        disk = 0.9 + 0.1 / np.sqrt(mu + 0.15)
        off = 1.1 * np.exp(-(np.maximum(r, 1.0) - 1.0) / 0.015) + 0.02 * np.exp(
            -(np.maximum(r, 1.0) - 1.0) / CORONA_SCALE_HEIGHT)
    else:
        disk = 1.0 - 0.55 * (1.0 - mu)
        off = np.zeros_like(r)
    return np.where(on, disk, off).astype(np.float32)


def aia_rate(name: str, fields: SurfaceFields, geom: DiskGeometry,
             base: np.ndarray | None = None) -> np.ndarray:
    """Noise-free AIA intensity, DN/s per full-resolution pixel, ``[ny, nx]`` float32.

    ``base``: ``limb_profile(RESPONSE[name].limb, geom)`` when the caller already has it."""
    ch = chans.get(name)
    resp = RESPONSE[name]
    qs = np.float32(ch.quiet_sun)
    on = geom.on_disk
    base = limb_profile(resp.limb, geom) if base is None else base
    texture = 1.0 + resp.network * np.tanh(fields.network)
    img = base * np.where(on, texture, 1.0)
    img *= 1.0 - (1.0 - resp.ch_factor) * fields.ch
    if resp.limb == "photosphere":
        absb = np.abs(fields.br)
        img *= 1.0 + resp.ar_gain * np.clip(absb / 500.0, 0.0, 1.0) * (absb < 900)
        img *= 1.0 - 0.7 * np.clip((absb - 800.0) / 1000.0, 0.0, 1.0)  # umbrae are dark in UV
    else:
        img += resp.ar_gain * fields.loops * np.where(on, base, 0.0)
    img *= 1.0 - (1.0 - resp.fl_factor) * fields.fl  # filaments absorb what lies behind them
    img += resp.flare_gain * fields.flare
    return (qs * img).astype(np.float32)


def hmi_field(name: str, fields: SurfaceFields, geom: DiskGeometry) -> np.ndarray:
    """Noise-free HMI field in G: LOS (``hmi_m`` = B_r·μ) or vector components; NaN off disk."""
    if name == "hmi_m":
        out = fields.br * geom.mu
    elif name == "hmi_bz":
        out = fields.br
    elif name in ("hmi_bx", "hmi_by"):
        comp = fields.bx if name == "hmi_bx" else fields.by
        if comp is None:
            raise ValueError(f"{name} needs fields rendered with vector=True")
        out = comp
    else:
        raise ValueError(f"{name} is not an HMI field channel")
    return np.where(geom.on_disk, out, np.nan).astype(np.float32)
