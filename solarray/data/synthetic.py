"""The synthetic Sun: a seeded sequence of co-temporal AIA + HMI level-1 FITS files with ground truth.

``generate(SynthConfig(...), out_dir)`` writes::

    OUT/fits/<channel>/<JSOC-like name>.fits   level-1 FITS, one per channel and time step
    OUT/masks/masks_<YYYYmmddTHHMMSS>.fits      uint8 [3, H, W] AR, CH, FL on a north-up grid
                                                 centred on the disk spanning ±1.1 R☉
    OUT/tables/ar.parquet                        one row per visible AR per time step
    OUT/tables/events.parquet, events.csv        flares (start, peak, end, class, AR, position)
    OUT/tables/xrs.parquet                       GOES XRS xrsa/xrsb, 1-min, W m⁻²
    OUT/tables/indices.parquet                   daily F10.7 and F30, sfu
    OUT/preview.png                              one panel per channel, masks outlined
    OUT/synth.json                               written last: the set is complete

Tables cover one day before the first and after the last image so that 24-h flare labels and
flare-history features are defined for every time step. AIA files are in DN (divide by EXPTIME),
HMI in Gauss with the instrument's ≈180° roll (CROTA2), exactly as JSOC level-1 data, so the same
code reads synthetic and real observations.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from astropy.io import fits
from astropy.time import Time, TimeDelta

from solarray import __version__
from solarray.core import channels as chans
from solarray.core.frame import FRAME_RSUN, centred_grid, frame_header
from solarray.core.geometry import (
    ImageGrid,
    Observer,
    carrington_longitude,
    earth_observer,
    grid_geometry,
    hgs_to_hpc,
)
from solarray.data import synthetic_model as model
from solarray.data.synthetic_render import aia_rate, hmi_field, render_fields

FULL_RES = 4096
AIA_PLATE = 0.600698  # arcsec/px at 4096²
HMI_PLATE = 0.504365
AIA_SATURATION_DN = 16383.0
QUALITY_OFFPOINT = 0x00000080  # QUALITY bit set on frames taken off-pointed (ISS loop open)


@dataclass
class SynthConfig:
    """What to render. Times are UTC; ``cadence_minutes`` between time steps."""

    start: str = "2024-01-01T00:00:00"
    hours: float = 6.0
    cadence_minutes: float = 12.0
    size: int = 256
    seed: int = 0
    channels: tuple[str, ...] | None = None  # None: chans.DEFAULT_CHANNELS
    vector: bool = False  # also render HMI Bx, By, Bz
    bad_frame_rate: float = 0.0  # probability per (time, channel) of an off-pointed or missing frame
    activity: float = 1.0  # number of regions and emergence rate (1 ≈ solar maximum)
    compress: bool = False  # write RICE-compressed FITS (as JSOC exports)
    preview: bool = True

    def __post_init__(self) -> None:
        try:
            self.start_time = Time(self.start, scale="utc")
        except ValueError:
            raise ValueError(f"start: expected an ISO time like 2024-01-01T00:00, got {self.start!r}") from None
        if not self.hours >= 0:
            raise ValueError(f"hours: expected a duration ≥ 0, got {self.hours}")
        if not self.cadence_minutes > 0:
            raise ValueError(f"cadence: expected a positive cadence, got {self.cadence_minutes} min")
        if int(self.size) != self.size or self.size < 16 or self.size > 8192:
            raise ValueError(f"size: expected an integer between 16 and 8192 pixels, got {self.size}")
        if not 0.0 <= self.bad_frame_rate <= 1.0:
            raise ValueError(f"bad_frame_rate: expected a probability in [0, 1], got {self.bad_frame_rate}")
        if self.activity < 0:
            raise ValueError(f"activity: expected ≥ 0, got {self.activity}")
        names = chans.resolve(self.channels)
        if self.vector:
            names = tuple(dict.fromkeys(names + chans.VECTOR_CHANNELS))
        for n in names:
            if chans.get(n).instrument == "AIA" or n in ("hmi_m", *chans.VECTOR_CHANNELS):
                continue
            raise ValueError(f"channels: the synthetic Sun cannot render {n!r}")
        self.channels = names

    @property
    def n_steps(self) -> int:
        return int(np.floor(self.hours * 60.0 / self.cadence_minutes + 1e-9)) + 1

    @property
    def times(self) -> list[Time]:
        return [self.start_time + TimeDelta(i * self.cadence_minutes * 60.0, format="sec")
                for i in range(self.n_steps)]

    def to_dict(self) -> dict:
        d = asdict(self)
        d["channels"] = list(self.channels)
        return d


@dataclass
class SynthResult:
    out_dir: Path
    times: list[str]
    n_files: int
    n_flares: int
    bad_frames: list[dict] = field(default_factory=list)
    preview: Path | None = None


def _stamp(t: Time, fmt: str = "%Y%m%dT%H%M%S") -> str:
    return t.datetime.strftime(fmt)


def _channel_offset_s(name: str) -> float:
    """Seconds after the step time at which a channel is exposed (AIA sequence, HMI 45 s)."""
    order = list(chans.CATALOGUE)
    ch = chans.get(name)
    if ch.instrument == "HMI":
        return 22.5
    if ch.cadence > 12:
        return 7.0 + 12.0 * (name == "aia1700")
    return 1.3 * order.index(name) + 0.34


def _filename(name: str, t_obs: Time) -> str:
    ch = chans.get(name)
    if ch.instrument == "AIA":
        series = "lev1_euv_12s" if ch.cadence <= 12 else "lev1_uv_24s"
        return f"aia.{series}.{_stamp(t_obs, '%Y-%m-%dT%H%M%S')}Z.{int(ch.wavelength)}.image_lev1.fits"
    tai = (t_obs.tai).datetime.strftime("%Y%m%d_%H%M%S")
    kind = "m_45s" if name == "hmi_m" else "b_720s"
    seg = "magnetogram" if name == "hmi_m" else name.split("_")[1]
    return f"hmi.{kind}.{tai}_TAI.2.{seg}.fits"


def instrument_grid(instrument: str, size: int, obs: Observer, rng: np.random.Generator) -> ImageGrid:
    """Level-1 pointing: AIA ≈ north up, HMI rolled by ≈180°; disk centre a few px off centre."""
    plate = (AIA_PLATE if instrument == "AIA" else HMI_PLATE) * FULL_RES / size
    centre = (size + 1) / 2.0
    off = rng.normal(0, 6.0, size=2) * size / FULL_RES
    if instrument == "AIA":
        return ImageGrid(size, size, plate, centre + off[0], centre + off[1], 0.0, 0.0,
                         float(rng.normal(0.0, 0.02)))
    # HMI: the reference pixel is the image centre and CRVAL carries the disk-centre offset.
    return ImageGrid(size, size, plate, centre, centre, float(rng.normal(0, 3.0)),
                     float(rng.normal(0, 3.0)), 180.0 + float(rng.normal(0.08, 0.01)))


def level1_header(name: str, grid: ImageGrid, obs: Observer, t_obs: Time, exptime: float,
                  quality: int) -> fits.Header:
    """A header with the keywords real JSOC level-1 AIA/HMI files carry."""
    h = fits.Header()
    for k, v in grid.header().items():
        if not k.startswith("NAXIS"):
            h[k] = v
    for k, v in chans.fits_identity(name).items():
        h[k] = v
    ch = chans.get(name)
    t_mid = t_obs + TimeDelta(exptime / 2.0, format="sec")
    h["DATE-OBS"] = t_obs.isot
    if ch.instrument == "AIA":
        h["T_OBS"] = t_mid.isot + "Z"
        h["EXPTIME"] = exptime
        h["LVL_NUM"] = 1.0
    else:
        h["T_OBS"] = t_mid.tai.datetime.strftime("%Y.%m.%d_%H:%M:%S") + "_TAI"
        h["CADENCE"] = ch.cadence
        h["LVL_NUM"] = 1.5
    h["RSUN_OBS"] = obs.rsun_obs
    h["R_SUN"] = obs.rsun_obs / grid.cdelt
    h["RSUN_REF"] = 696000000.0
    h["DSUN_OBS"] = obs.dsun
    h["DSUN_REF"] = 149597870691.0
    h["HGLN_OBS"] = obs.hgln
    h["HGLT_OBS"] = obs.hglt
    h["CRLN_OBS"] = obs.crln
    h["CRLT_OBS"] = obs.hglt
    h["QUALITY"] = quality
    h["ORIGIN"] = "solarray synthetic Sun"
    h["SOLARRAY"] = (__version__, "solarray version that wrote this file")
    h["HISTORY"] = "Synthetic observation rendered by solarray.data.synthetic (not real data)."
    return h


def _write_atomic(path: Path, writer: Callable[[Path], None]) -> None:
    """Write through a temporary file in the same directory, then rename over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        writer(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write_fits(path: Path, data: np.ndarray, header: fits.Header, compress: bool) -> None:
    if compress:
        hdus = fits.HDUList([fits.PrimaryHDU(), fits.CompImageHDU(data, header, compression_type="RICE_1")])
    else:
        hdus = fits.HDUList([fits.PrimaryHDU(data, header)])
    _write_atomic(path, lambda tmp: hdus.writeto(tmp, overwrite=True))


def _write_table(path: Path, df: pd.DataFrame) -> None:
    if path.suffix == ".csv":
        _write_atomic(path, lambda tmp: df.to_csv(tmp, index=False))
    else:
        _write_atomic(path, lambda tmp: df.to_parquet(tmp, index=False))


def _noisy(name: str, clean: np.ndarray, exptime: float, size: int, rng: np.random.Generator) -> np.ndarray:
    """Level-1 values with detector noise: AIA DN (photon + read noise, saturation), HMI G."""
    ch = chans.get(name)
    binning = FULL_RES / size  # each pixel stands for binning² full-resolution pixels (averaged)
    if ch.instrument == "AIA":
        dn = clean * np.float32(exptime)
        sigma = np.sqrt(np.maximum(dn, 0.0) + 1.2**2) / np.float32(binning)
        dn = dn + sigma * rng.standard_normal(dn.shape, dtype=np.float32)
        return np.clip(dn, 0.0, AIA_SATURATION_DN).astype(np.float32)
    noise = np.float32(ch.quiet_sun / binning) * rng.standard_normal(clean.shape, dtype=np.float32)
    return (clean + noise).astype(np.float32)


def _mask_header(obs: Observer, size: int) -> fits.Header:
    h = frame_header(obs, size, FRAME_RSUN)
    h["MASKS"] = ("AR,CH,FL", "planes of the data cube")
    return h


def _days(t: Time, t0: Time) -> float:
    return float((t - t0).to_value("day"))


def _ar_rows(sun: model.SunModel, t: Time, t_day: float, obs: Observer) -> list[dict]:
    rows = []
    for r in sun.active_regions:
        s = float(r.strength(t_day))
        if s <= 0:
            continue
        lon = float((r.lon(t_day) + 180.0) % 360.0 - 180.0)
        _, _, mu = hgs_to_hpc(np.array([lon]), np.array([r.lat]), obs)
        if mu[0] <= 0.05:
            continue
        area = model.active_area_msh(r, t_day)
        if area <= 0:
            continue
        rows.append({
            "t_obs": t.datetime, "ar_number": r.number, "hgs_lon": lon, "hgs_lat": r.lat,
            "carr_lon": float(carrington_longitude(lon, obs)), "area_msh": area,
            "hale": r.hale, "mcintosh": r.mcintosh,
            "flux_pos": s * sum(p.flux for p in r.poles if p.flux > 0),
            "flux_neg": s * sum(p.flux for p in r.poles if p.flux < 0),
            "complexity": r.complexity, "mu": float(mu[0]),
        })
    return rows


def _event_table(sun: model.SunModel, t0: Time, xrs_t: np.ndarray, xrsb: np.ndarray) -> pd.DataFrame:
    rows = []
    for f in sun.flares:
        # The observed peak: the light-curve maximum within 3 min of the flare's own maximum.
        near = np.flatnonzero(np.abs(xrs_t - f.peak_time) <= 3.0 / 1440.0)
        i = int(near[np.argmax(xrsb[near])])
        reg = sun.region(f.ar_number)
        lat = reg.lat + f.site[1]
        lon = float((reg.lon(f.peak_time) + 180) % 360 - 180) + f.site[0] / np.cos(np.radians(reg.lat))
        peak = float(xrsb[i])
        rows.append({
            "start": (t0 + TimeDelta(f.start_time, format="jd")).datetime,
            "peak": (t0 + TimeDelta(float(xrs_t[i]), format="jd")).datetime,
            "end": (t0 + TimeDelta(f.end_time, format="jd")).datetime,
            "goes_class": model.goes_class(peak), "peak_flux": peak,
            "excess_flux": f.excess_flux, "ar_number": f.ar_number,
            "hgs_lon": lon, "hgs_lat": lat,
        })
    cols = ["start", "peak", "end", "goes_class", "peak_flux", "excess_flux", "ar_number",
            "hgs_lon", "hgs_lat"]
    df = pd.DataFrame(rows, columns=cols)
    for c in ("start", "peak", "end"):
        df[c] = pd.to_datetime(df[c], utc=True)
    return df


def check_writable(out_dir: Path) -> None:
    """Raise ``PermissionError`` naming ``out_dir`` when it cannot be created or written."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=out_dir, prefix=".probe", delete=True)
        probe.close()
    except OSError as err:
        raise PermissionError(f"--out {out_dir}: cannot write there ({err.strerror})") from None


def generate(cfg: SynthConfig, out_dir: str | Path,
             progress: Callable[[int, int], None] | None = None) -> SynthResult:
    """Render the sequence described by ``cfg`` into ``out_dir`` (see module docstring)."""
    out = Path(out_dir)
    check_writable(out)
    (out / "synth.json").unlink(missing_ok=True)  # an interrupted rewrite must not look complete
    t0 = cfg.start_time
    days = cfg.hours / 24.0
    year = float(t0.decimalyear)
    sun = model.build_sun(cfg.seed, days, year, cfg.activity)
    sun.flares = model.simulate_flares(sun, -1.0, days + 1.0, cfg.seed)

    # GOES XRS, 1-min, one day either side of the images.
    xrs_t = np.arange(-1440, int(np.ceil(days * 1440)) + 1441) / 1440.0
    xrsa, xrsb = model.xrs_series(sun, xrs_t, cfg.seed)
    xrs_times = t0 + TimeDelta(xrs_t, format="jd")

    n_files, bad, ar_rows = 0, [], []
    times = cfg.times
    for i, t in enumerate(times):
        rng = np.random.default_rng([cfg.seed, 100, i])
        t_day = _days(t, t0)
        obs = earth_observer(t)
        flaring = float(np.interp(t_day, xrs_t, xrsb)) >= 1e-5
        grids = {inst: instrument_grid(inst, cfg.size, obs, rng) for inst in ("AIA", "HMI")}
        fields_cache: dict[str, tuple] = {}
        for name in cfg.channels:
            ch = chans.get(name)
            fate = rng.random()
            if fate < cfg.bad_frame_rate / 2:
                bad.append({"time": t.isot, "channel": name, "kind": "missing"})
                continue
            offpoint = fate < cfg.bad_frame_rate
            grid = grids[ch.instrument]
            render_grid = grid
            if offpoint:  # the header claims nominal pointing; the Sun is elsewhere
                shift = 0.08 * cfg.size
                render_grid = ImageGrid(grid.nx, grid.ny, grid.cdelt, grid.crpix1 + shift,
                                        grid.crpix2 - shift, grid.crval1, grid.crval2, grid.crota2)
                bad.append({"time": t.isot, "channel": name, "kind": "off-pointed"})
            key = f"{ch.instrument}-{offpoint}"
            if key not in fields_cache:
                geom = grid_geometry(render_grid, obs)
                fields_cache[key] = (geom, render_fields(sun, t_day, render_grid, obs, geom,
                                                         vector=cfg.vector))
            geom, fields = fields_cache[key]
            exptime = ch.exptime * (0.3 if flaring and ch.cadence <= 12 else 1.0)  # AEC in flares
            clean = aia_rate(name, fields, geom) if ch.instrument == "AIA" else hmi_field(name, fields, geom)
            data = _noisy(name, clean, exptime, cfg.size, rng)
            t_obs = t + TimeDelta(_channel_offset_s(name), format="sec")
            header = level1_header(name, grid, obs, t_obs, exptime if ch.instrument == "AIA" else 0.0,
                                   QUALITY_OFFPOINT if offpoint else 0)
            _write_fits(out / "fits" / name / _filename(name, t_obs), data, header, cfg.compress)
            n_files += 1
        # Ground-truth masks on the north-up, disk-centred frame.
        mgrid = centred_grid(cfg.size, obs.rsun_obs, FRAME_RSUN)
        mgeom = grid_geometry(mgrid, obs)
        mf = render_fields(sun, t_day, mgrid, obs, mgeom)
        masks = np.stack([mf.ar_label > 0, mf.ch >= 0.5, mf.fl >= 0.5]).astype(np.uint8)
        _write_fits(out / "masks" / f"masks_{_stamp(t)}.fits", masks, _mask_header(obs, cfg.size), False)
        ar_rows += _ar_rows(sun, t, t_day, obs)
        if progress:
            progress(i + 1, len(times))

    tables = out / "tables"
    ar_cols = ["t_obs", "ar_number", "hgs_lon", "hgs_lat", "carr_lon", "area_msh", "hale",
               "mcintosh", "flux_pos", "flux_neg", "complexity", "mu"]
    ar = pd.DataFrame(ar_rows, columns=ar_cols)
    ar["t_obs"] = pd.to_datetime(ar["t_obs"], utc=True)
    _write_table(tables / "ar.parquet", ar)
    events = _event_table(sun, t0, xrs_t, xrsb)
    _write_table(tables / "events.parquet", events)
    _write_table(tables / "events.csv", events)
    _write_table(tables / "xrs.parquet", pd.DataFrame({
        "time": pd.to_datetime(xrs_times.datetime, utc=True), "xrsa": xrsa, "xrsb": xrsb}))
    first_day = Time(t0.datetime.strftime("%Y-%m-%d")) - TimeDelta(1, format="jd")
    n_days = int(np.ceil(days)) + 3
    day_offsets = np.array([_days(first_day + TimeDelta(k, format="jd"), t0) for k in range(n_days)])
    f107, f30 = model.f107_series(sun, day_offsets, cfg.seed)
    _write_table(tables / "indices.parquet", pd.DataFrame({
        "date": [(first_day + TimeDelta(k, format="jd")).datetime.date() for k in range(n_days)],
        "f107": f107, "f30": f30}))

    preview = None
    if cfg.preview:
        from solarray.data.synthetic_preview import write_preview

        preview = write_preview(out, times[len(times) // 2], cfg.channels)
    result = SynthResult(out, [t.isot for t in times], n_files, len(events), bad, preview)
    manifest = {
        "solarray_version": __version__, "config": cfg.to_dict(), "times": result.times,
        "n_files": n_files, "n_flares": len(events), "bad_frames": bad,
        "tables_cover": [(t0 - TimeDelta(1, format="jd")).isot,
                         (t0 + TimeDelta(days + 1, format="jd")).isot],
    }
    _write_atomic(out / "synth.json", lambda tmp: tmp.write_text(json.dumps(manifest, indent=2)))
    return result


_CADENCE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|min|m|h|hr)?\s*$", re.IGNORECASE)


def parse_cadence(text: str) -> float:
    """'12min', '720s', '1h', '6' (minutes) → minutes. ValueError naming the expected form."""
    m = _CADENCE.match(str(text))
    if not m:
        raise ValueError(f"cadence: expected a duration like 12min, 720s or 1h, got {text!r}")
    value, unit = float(m.group(1)), (m.group(2) or "min").lower()
    return value / 60.0 if unit in ("s", "sec") else value * 60.0 if unit in ("h", "hr") else value

