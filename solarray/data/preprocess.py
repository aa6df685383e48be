"""Preprocessing of one level-1 image: pure functions, each step a switch in :class:`PreprocessConfig`.

Steps (in order), for an image of one channel:

1. **Exposure** (AIA in DN): divide by EXPTIME → DN/s.
2. **Degradation** (AIA, optional): divide by aiapy's time-dependent degradation factor computed from
   a local correction table (offline); which table was used, or that the step was skipped, goes to
   ``info``.
3. **Geometry**, one affine warp: rotate to solar north (CROTA2/PC matrix; HMI ≈ 180°), move the
   disk centre (the pixel of helioprojective (0″, 0″), from the WCS) to the image centre, and rescale
   so the N×N frame spans ±``frame`` R☉. Strong downsampling first block-averages by an integer
   factor (area mean), so values stay intensities per full-resolution pixel (surface brightness):
   the catalogue clip ranges are valid at every output size. NaN pixels (HMI off-disk) are handled
   by normalised interpolation, so the disk stays finite up to the limb.
4. **Off-limb**: ``keep``, ``mask`` (set to 0 in physical units: the floor of the scaling), or
   ``nan``.
5. **Scaling** with :meth:`solarray.core.channels.Channel.scale` → [-1, 1] (inverse:
   :func:`unscale_image`).

Output grid convention: row index increases to solar north, column index to solar west (FITS
``origin='lower'``, as sunpy plots), pixel centre ``(N-1)/2`` is the disk centre, pixel scale
``2·frame·R☉/N`` arcsec.
"""

from __future__ import annotations

import functools
import os
import warnings
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime

import numpy as np
from scipy import ndimage

from solarray.core import channels as chans
from solarray.data import sources

#: Bumped whenever preprocessing output changes; recorded in every sample's ``meta``.
PREPROCESS_VERSION = "1.0"

OFF_LIMB_MODES = ("keep", "mask", "nan")


def aiapy_test_table() -> str | None:
    """Path of the V8 degradation table shipped in aiapy's test data (works offline), if present."""
    try:
        import aiapy
    except ImportError:  # pragma: no cover - aiapy is a dependency
        return None
    path = os.path.join(os.path.dirname(aiapy.__file__), "tests", "data",
                        "aia_V8_20171210_050627_response_table.txt")
    return path if os.path.exists(path) else None


@dataclass
class PreprocessConfig:
    """Switches and sizes for :func:`preprocess`.

    ``degradation_table``: path of an aiapy correction table, ``"aiapy-v8"`` for the table in
    aiapy's test data, or ``None`` to skip (recorded in ``info``).
    """

    size: int = 512  # output N (pixels)
    frame: float = 1.1  # half-width of the frame, R☉
    exposure: bool = True
    degradation_table: str | None = None
    off_limb: str = "keep"  # keep | mask | nan
    limb_radius: float = 1.0  # R☉; off-limb means r > limb_radius
    interp_order: int = 1  # spline order of the affine warp (1 bilinear, 3 cubic)
    min_finite_fraction: float = 0.5  # of on-disk pixels; below → reject "NaN-filled"
    version: str = field(default=PREPROCESS_VERSION)

    def __post_init__(self) -> None:
        if int(self.size) < 8:
            raise ValueError(f"size must be ≥ 8 pixels, got {self.size}")
        if not self.frame > 0:
            raise ValueError(f"frame must be > 0 R☉, got {self.frame}")
        if self.off_limb not in OFF_LIMB_MODES:
            raise ValueError(f"off_limb must be one of {OFF_LIMB_MODES}, got {self.off_limb!r}")
        if self.interp_order not in (0, 1, 3):
            raise ValueError(f"interp_order must be 0, 1 or 3, got {self.interp_order}")
        self.size = int(self.size)
        if self.degradation_table == "aiapy-v8":
            table = aiapy_test_table()
            if table is None:
                raise ValueError("degradation_table='aiapy-v8': aiapy test table not found")
            self.degradation_table = table

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


class RejectError(ValueError):
    """An input that cannot be preprocessed; the message is the manifest's reject reason."""


# --------------------------------------------------------------------------------------------------
# Radiometry
# --------------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------------
# Geometry
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DiskGeometry:
    """Where the Sun is in an input image.

    ``cx, cy``: 0-based pixel (column, row) of disk centre; ``rsun``: apparent radius, arcsec;
    ``matrix``: 2×2 arcsec per pixel, ``(Tx, Ty) = matrix @ (x - cx, y - cy)`` (helioprojective,
    Tx west, Ty north; includes CDELT and the roll).
    """

    cx: float
    cy: float
    rsun: float
    matrix: tuple[tuple[float, float], tuple[float, float]]

    @property
    def pixel_scale(self) -> float:
        """Mean input pixel size, arcsec."""
        return float(np.sqrt(abs(np.linalg.det(np.asarray(self.matrix)))))

    @property
    def roll_deg(self) -> float:
        """Angle of the image's +y axis from solar north, degrees (≈ CROTA2)."""
        m = np.asarray(self.matrix)
        return float(np.degrees(np.arctan2(-m[0, 1], m[1, 1])))


def disk_geometry(smap) -> DiskGeometry:
    """:class:`DiskGeometry` of a ``sunpy.map.GenericMap`` (any instrument sunpy understands)."""
    import astropy.units as u
    from astropy.coordinates import SkyCoord

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        centre = SkyCoord(0 * u.arcsec, 0 * u.arcsec, frame=smap.coordinate_frame)
        cx, cy = smap.wcs.world_to_pixel(centre)
        matrix = np.asarray(smap.wcs.pixel_scale_matrix) * 3600.0  # deg → arcsec
        rsun = smap.rsun_obs.to_value(u.arcsec)
    if not (np.isfinite(cx) and np.isfinite(cy) and np.isfinite(rsun) and rsun > 0):
        raise RejectError(f"cannot locate the disk from the WCS (centre {cx}, {cy}; R☉ {rsun}″)")
    return DiskGeometry(float(cx), float(cy), float(rsun), tuple(map(tuple, matrix.tolist())))


def _astropy_geometry(header: Mapping[str, object]) -> DiskGeometry | None:
    """Fast path for helioprojective (HPLN/HPLT-TAN) headers such as SDO's: astropy's WCS only
    (importing ``sunpy.map`` costs seconds per worker process). ``None`` when not applicable."""
    from astropy.wcs import WCS

    ctype = (str(header.get("CTYPE1", "")), str(header.get("CTYPE2", "")))
    if not (ctype[0].startswith("HPLN-") and ctype[1].startswith("HPLT-")):
        return None
    if any(str(header.get(f"CUNIT{i}", "arcsec")).strip().lower() not in ("arcsec", "")
           for i in (1, 2)):
        return None
    rsun = header.get("RSUN_OBS")
    if rsun in (None, "") and "STEREO" in str(header.get("TELESCOP", "")).upper():
        rsun = header.get("RSUN")  # SECCHI: apparent radius in arcsec
    if rsun in (None, ""):
        dsun, rref = header.get("DSUN_OBS"), header.get("RSUN_REF") or 695_700_000.0
        if dsun in (None, ""):
            return None
        rsun = np.degrees(np.arcsin(float(rref) / float(dsun))) * 3600.0
    h = {k: header[k] for k in header if k not in ("", "COMMENT", "HISTORY")} \
        if not hasattr(header, "tostring") else header
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w = WCS(h, naxis=2, fix=False)
        # world in the WCS's native units (CUNIT arcsec → astropy works in degrees)
        cx, cy = w.wcs_world2pix(np.array([[0.0, 0.0]]), 0)[0]
        matrix = np.asarray(w.pixel_scale_matrix) * 3600.0
    return DiskGeometry(float(cx), float(cy), float(rsun), tuple(map(tuple, matrix.tolist())))


def header_geometry(header: Mapping[str, object], data: np.ndarray | None = None) -> DiskGeometry:
    """:class:`DiskGeometry` from a FITS header: astropy's WCS for helioprojective headers (SDO),
    sunpy's map sources for anything else (e.g. SOHO/EIT ``Solar-X``), so other instruments work."""
    fast = _astropy_geometry(header)
    if fast is not None and np.isfinite([fast.cx, fast.cy, fast.rsun]).all() and fast.rsun > 0:
        return fast
    import sunpy.map

    arr = data if data is not None else np.zeros(
        (int(header["NAXIS2"]), int(header["NAXIS1"])), dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        smap = sunpy.map.Map(arr, header)
    return disk_geometry(smap)


def block_mean(data: np.ndarray, f: int) -> tuple[np.ndarray, np.ndarray | None]:
    """Area mean over ``f×f`` blocks (trailing rows/columns that do not fill a block are dropped).

    Returns ``(mean, weight)``: ``weight`` is the finite fraction of each block (``None`` when the
    input has no NaN); blocks with no finite pixel are NaN.
    """
    if f == 1:
        finite = np.isfinite(data)
        return data, (None if finite.all() else finite.astype(np.float32))
    h, w = data.shape[0] // f, data.shape[1] // f
    blocks = data[: h * f, : w * f].reshape(h, f, w, f)
    finite = np.isfinite(blocks)
    if finite.all():
        return blocks.mean(axis=(1, 3), dtype=np.float64).astype(np.float32), None
    count = finite.sum(axis=(1, 3))
    total = np.where(finite, blocks, 0).sum(axis=(1, 3), dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (total / count).astype(np.float32)
    return mean, (count / float(f * f)).astype(np.float32)


def output_scale(rsun: float, size: int, frame: float) -> float:
    """Output pixel size, arcsec, for a frame of ±``frame`` R☉ across ``size`` pixels."""
    return 2.0 * frame * rsun / size


def warp_to_frame(data: np.ndarray, geom: DiskGeometry, size: int = 512, frame: float = 1.1,
                  order: int = 1) -> tuple[np.ndarray, dict[str, float]]:
    """Derotate, recentre and rescale ``data`` ``[H, W]`` onto the N×N ±``frame`` R☉ grid.

    Values are surface brightness (area mean), so an intensity per input pixel stays an
    intensity per input-sized pixel. Pixels outside the input are NaN. Returns ``(image
    float32 [size, size], info)`` with the block factor and scales used.
    """
    s_out = output_scale(geom.rsun, size, frame)
    ratio = s_out / geom.pixel_scale
    f = int(round(ratio)) if ratio >= 1.5 else 1
    binned, weight = block_mean(np.asarray(data, dtype=np.float32), f)

    m_inv = np.linalg.inv(np.asarray(geom.matrix))  # arcsec → input pixels, (x, y) order
    swap = np.array([[0.0, 1.0], [1.0, 0.0]])
    mat = swap @ m_inv @ swap * (s_out / f)  # output (row, col) → binned input (row, col)
    c = (size - 1) / 2.0
    offset = (np.array([geom.cy, geom.cx]) - (f - 1) / 2.0) / f - mat @ np.array([c, c])
    kw = dict(matrix=mat, offset=offset, output_shape=(size, size), order=order,
              mode="constant", prefilter=order > 1)
    if weight is None:
        img = ndimage.affine_transform(binned, cval=np.nan, **kw)
    else:
        # Normalised interpolation: divides out the NaN holes (HMI off-disk) and the edges.
        out = ndimage.affine_transform(np.where(weight > 0, binned * weight, 0).astype(np.float32),
                                       cval=0.0, **kw)
        wout = ndimage.affine_transform(weight, cval=0.0, **kw)
        with np.errstate(invalid="ignore", divide="ignore"):
            img = np.where(wout > 0.5, out / np.where(wout > 0, wout, 1.0), np.nan)
    img = img.astype(np.float32, copy=False)
    info = {"block": f, "in_scale_arcsec": geom.pixel_scale, "out_scale_arcsec": s_out,
            "rsun_arcsec": geom.rsun, "centre_px": [geom.cx, geom.cy], "roll_deg": geom.roll_deg}
    return img, info


def radius_grid(size: int, frame: float = 1.1) -> np.ndarray:
    """Distance of each output pixel centre from disk centre, R☉ ``[size, size]``."""
    c = (size - 1) / 2.0
    yy, xx = np.mgrid[0:size, 0:size]
    return np.hypot(xx - c, yy - c) * (2.0 * frame / size)


def apply_off_limb(img: np.ndarray, mode: str, frame: float = 1.1, radius: float = 1.0) -> np.ndarray:
    """Off-limb handling on the output grid: ``keep``, ``mask`` (→ 0) or ``nan``."""
    if mode == "keep":
        return img
    off = radius_grid(img.shape[-1], frame) > radius
    out = img.copy()
    out[..., off] = 0.0 if mode == "mask" else np.nan
    return out


# --------------------------------------------------------------------------------------------------
# Whole pipeline for one image
# --------------------------------------------------------------------------------------------------


@dataclass
class Preprocessed:
    """Result of :func:`preprocess`: ``data`` in physical units (DN/s or G) and ``scaled`` in
    [-1, 1], both float32 ``[N, N]``; ``info`` records every step (JSON-serialisable)."""

    data: np.ndarray
    scaled: np.ndarray
    info: dict[str, object]


def preprocess(data: np.ndarray, header: Mapping[str, object], channel: str,
               cfg: PreprocessConfig | None = None, t_obs: datetime | None = None) -> Preprocessed:
    """Level-1 image ``[H, W]`` of ``channel`` → preprocessed sample plane (see module docstring).

    Raises :class:`RejectError` with a manifest-ready reason for unusable inputs (missing
    EXPTIME, NaN-filled image, disk not locatable).
    """
    cfg = cfg or PreprocessConfig()
    c = chans.get(channel)
    info: dict[str, object] = {"channel": channel, "version": cfg.version}
    data = np.asarray(data, dtype=np.float32)
    finite_in = np.isfinite(data)
    if not finite_in.any():
        raise RejectError("NaN-filled image: no finite pixel")

    if c.instrument == "AIA" and cfg.exposure and not sources.is_rate(header):
        data = normalize_exposure(data, header)
        info["exposure"] = f"divided by EXPTIME={float(header['EXPTIME']):g} s"
    else:
        info["exposure"] = "skipped"

    if c.instrument == "AIA" and cfg.degradation_table:
        t = t_obs or sources.parse_time(header)
        try:
            factor = degradation_factor(channel, t, cfg.degradation_table)
            data = data / np.float32(factor)
            info["degradation"] = {"table": os.path.basename(cfg.degradation_table),
                                   "factor": factor}
        except KeyError as err:
            info["degradation"] = f"skipped: {err}"
    else:
        info["degradation"] = "skipped: no table" if c.instrument == "AIA" else "n/a"

    geom = header_geometry(header, data)
    img, ginfo = warp_to_frame(data, geom, cfg.size, cfg.frame, cfg.interp_order)
    info["geometry"] = ginfo

    on_disk = radius_grid(cfg.size, cfg.frame) < 0.95 * min(cfg.limb_radius, 1.0)
    finite_frac = float(np.isfinite(img[on_disk]).mean()) if on_disk.any() else 0.0
    if finite_frac < cfg.min_finite_fraction:
        raise RejectError(f"NaN-filled image: {100 * finite_frac:.0f}% of on-disk pixels finite")
    info["finite_on_disk"] = finite_frac

    img = apply_off_limb(img, cfg.off_limb, cfg.frame, cfg.limb_radius)
    info["off_limb"] = cfg.off_limb
    return Preprocessed(data=img, scaled=c.scale(img), info=info)


def preprocess_file(path: str, channel: str | None = None,
                    cfg: PreprocessConfig | None = None) -> Preprocessed:
    """Read ``path`` and :func:`preprocess` it (channel from the header unless given)."""
    data, header = sources.read_fits(path)
    channel = channel or chans.channel_from_header(header)
    if channel is None:
        raise RejectError(f"unknown channel ({sources.describe_instrument(header)})")
    return preprocess(data, header, channel, cfg)


def scale_image(img: np.ndarray, channels: list[str] | tuple[str, ...]) -> np.ndarray:
    """Physical ``[C, H, W]`` → [-1, 1] per channel (float32)."""
    return np.stack([chans.get(n).scale(p) for n, p in zip(channels, img, strict=True)])


def unscale_image(img: np.ndarray, channels: list[str] | tuple[str, ...]) -> np.ndarray:
    """Inverse of :func:`scale_image`: [-1, 1] ``[C, H, W]`` → DN/s or G (float64)."""
    return np.stack([chans.get(n).unscale(p) for n, p in zip(channels, img, strict=True)])


# --------------------------------------------------------------------------------------------------
# Quality checks on preprocessed images (used by tests and for QA of real data)
# --------------------------------------------------------------------------------------------------


def radial_profile(img: np.ndarray, frame: float = 1.1, nbins: int | None = None
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Azimuthal mean of ``img`` ``[N, N]`` about the image centre: ``(r in R☉, mean)``."""
    n = img.shape[-1]
    nbins = nbins or n // 2
    r = radius_grid(n, frame)
    edges = np.linspace(0, frame, nbins + 1)
    idx = np.digitize(r.ravel(), edges) - 1
    vals = img.ravel()
    ok = (idx >= 0) & (idx < nbins) & np.isfinite(vals)
    total = np.bincount(idx[ok], weights=vals[ok], minlength=nbins)
    count = np.bincount(idx[ok], minlength=nbins)
    with np.errstate(invalid="ignore", divide="ignore"):
        prof = total / count
    return 0.5 * (edges[1:] + edges[:-1]), prof


def measure_limb(img: np.ndarray, frame: float = 1.1) -> float:
    """Limb radius measured from the image, R☉: where the radial profile falls fastest.

    NaN off-disk counts as the darkest value. Works for EUV (the drop just above the limb
    brightening) and continuum (the limb-darkened edge).
    """
    filled = np.where(np.isfinite(img), img, np.nanmin(img))
    r, prof = radial_profile(filled, frame)
    prof = np.where(np.isfinite(prof), prof, np.nanmin(prof))
    grad = np.gradient(prof, r)
    grad[r < 0.5] = 0  # ignore disk structure near the centre
    return float(r[int(np.argmin(grad))])


def disk_centroid(img: np.ndarray) -> tuple[float, float]:
    """Centroid (column, row) of the pixels brighter than half the median of the bright half."""
    v = np.where(np.isfinite(img), img, -np.inf)
    finite = v[np.isfinite(v)]
    thresh = 0.5 * np.median(finite[finite > np.median(finite)])
    mask = v > thresh
    yy, xx = np.nonzero(mask)
    return float(xx.mean()), float(yy.mean())
