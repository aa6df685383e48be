"""The generator: a seeded sequence of level-1 FITS files, truth masks and tables in one directory.

Layout of ``out_dir`` in the package docstring (:mod:`solarray.data.synthetic`); ``synth.json`` is
written last, so its presence means the set is complete.
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from astropy.io import fits
from astropy.time import Time, TimeDelta

from solarray import __version__
from solarray.core import channels as chans
from solarray.core.atomic import atomic_path, write_text
from solarray.core.features import FEATURE_KINDS
from solarray.core.frame import FRAME_RSUN
from solarray.core.frame_header import centred_grid, frame_header
from solarray.core.geometry import ImageGrid, Observer, earth_observer
from solarray.data.synthetic import activity, model
from solarray.data.synthetic.blocks import banded, banded_geometry
from solarray.data.synthetic.draws import StepDraws
from solarray.data.synthetic.level1 import (
    QUALITY_OFFPOINT,
    channel_offset_s,
    detector_noise,
    instrument_grid,
    level1_filename,
    level1_header,
    stamp,
)
from solarray.data.synthetic.preview import write_preview
from solarray.data.synthetic.render import (
    RESPONSE,
    aia_rate,
    hmi_field,
    limb_profile,
    render_fields,
)
from solarray.data.synthetic.tables import ar_rows, days_since, write_tables


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
    """What :func:`generate` wrote: the time steps (ISO), file and flare counts, bad frames."""

    out_dir: Path
    times: list[str]
    n_files: int
    n_flares: int
    bad_frames: list[dict] = field(default_factory=list)
    preview: Path | None = None


def _write_fits(path: Path, data: np.ndarray, header: fits.Header, compress: bool) -> None:
    if compress:
        hdus = fits.HDUList([fits.PrimaryHDU(), fits.CompImageHDU(data, header, compression_type="RICE_1")])
    else:
        hdus = fits.HDUList([fits.PrimaryHDU(data, header)])
    with atomic_path(path) as tmp:
        hdus.writeto(tmp, overwrite=True)


def _mask_header(obs: Observer, size: int) -> fits.Header:
    h = frame_header(obs, size, FRAME_RSUN)
    h["MASKS"] = (",".join(FEATURE_KINDS), "planes of the data cube")
    return h


def check_writable(out_dir: Path) -> None:
    """Raise ``PermissionError`` naming ``out_dir`` when it cannot be created or written."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=out_dir, prefix=".probe", delete=True)
        probe.close()
    except OSError as err:
        raise PermissionError(f"--out {out_dir}: cannot write there ({err.strerror})") from None


def simulate(cfg: SynthConfig) -> tuple[model.SunModel, np.ndarray, np.ndarray, np.ndarray]:
    """The Sun of ``cfg`` with its flares, and its 1-min GOES XRS one day either side of the
    images: ``(sun, xrs_t, xrsa, xrsb)``, ``xrs_t`` in days since the start, fluxes W m⁻²."""
    days = cfg.hours / 24.0
    sun = model.build_sun(cfg.seed, days, float(cfg.start_time.decimalyear), cfg.activity)
    sun.flares = activity.simulate_flares(sun, -1.0, days + 1.0, cfg.seed)
    xrs_t = np.arange(-1440, int(np.ceil(days * 1440)) + 1441) / 1440.0
    xrsa, xrsb = activity.xrs_series(sun, xrs_t, cfg.seed)
    return sun, xrs_t, xrsa, xrsb


def generate(cfg: SynthConfig, out_dir: str | Path,
             progress: Callable[[int, int], None] | None = None) -> SynthResult:
    """Render the sequence described by ``cfg`` into ``out_dir`` (see the package docstring)."""
    out = Path(out_dir)
    check_writable(out)
    (out / "synth.json").unlink(missing_ok=True)  # an interrupted rewrite must not look complete
    t0 = cfg.start_time
    days = cfg.hours / 24.0
    sun, xrs_t, xrsa, xrsb = simulate(cfg)

    n_files, bad, rows = 0, [], []
    times = cfg.times
    for i, t in enumerate(times):
        rng = np.random.default_rng([cfg.seed, 100, i])
        t_day = days_since(t, t0)
        obs = earth_observer(t)
        flaring = float(np.interp(t_day, xrs_t, xrsb)) >= 1e-5
        grids = {inst: instrument_grid(inst, cfg.size, obs, rng) for inst in ("AIA", "HMI")}
        fields_cache: dict = {}  # per grid: geometry and fields; per (grid, limb kind): profile
        draws = StepDraws(rng, cfg.channels, cfg.bad_frame_rate / 2, (cfg.size, cfg.size))
        for name in cfg.channels:
            ch = chans.get(name)
            fate = draws.fate()
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
                geom = banded_geometry(render_grid, obs)
                fields_cache[key] = (geom, render_fields(sun, t_day, render_grid, obs, geom,
                                                         vector=cfg.vector))
            geom, fields = fields_cache[key]
            exptime = ch.exptime * (0.3 if flaring and ch.cadence <= 12 else 1.0)  # AEC in flares
            shape = (render_grid.ny, render_grid.nx)
            if ch.instrument == "AIA":
                kind = RESPONSE[name].limb
                if (key, kind) not in fields_cache:  # one limb profile per kind and grid
                    fields_cache[key, kind] = banded(limb_profile, shape, np.float32, kind, geom)
                clean = banded(aia_rate, shape, np.float32, name, fields, geom,
                               base=fields_cache[key, kind])
            else:
                clean = banded(hmi_field, shape, np.float32, name, fields, geom)
            data = banded(detector_noise, shape, np.float32, name, clean, exptime, cfg.size,
                          draws.noise())
            t_obs = t + TimeDelta(channel_offset_s(name), format="sec")
            header = level1_header(name, grid, obs, t_obs, exptime if ch.instrument == "AIA" else 0.0,
                                   QUALITY_OFFPOINT if offpoint else 0)
            _write_fits(out / "fits" / name / level1_filename(name, t_obs), data, header,
                        cfg.compress)
            n_files += 1
        draws.close()
        # Ground-truth masks on the north-up, disk-centred frame, planes in FEATURE_KINDS order.
        mgrid = centred_grid(cfg.size, obs.rsun_obs, FRAME_RSUN)
        mgeom = banded_geometry(mgrid, obs)
        mf = render_fields(sun, t_day, mgrid, obs, mgeom, masks_only=True)
        masks = np.stack([mf.ar_label > 0, mf.ch >= 0.5, mf.fl >= 0.5]).astype(np.uint8)
        _write_fits(out / "masks" / f"masks_{stamp(t)}.fits", masks, _mask_header(obs, cfg.size),
                    False)
        rows += ar_rows(sun, t, t_day, obs)
        if progress:
            progress(i + 1, len(times))

    events = write_tables(out / "tables", sun, t0, days, cfg.seed, rows, xrs_t, xrsa, xrsb)
    preview = write_preview(out, times[len(times) // 2], cfg.channels) if cfg.preview else None
    result = SynthResult(out, [t.isot for t in times], n_files, len(events), bad, preview)
    manifest = {
        "solarray_version": __version__, "config": cfg.to_dict(), "times": result.times,
        "n_files": n_files, "n_flares": len(events), "bad_frames": bad,
        "tables_cover": [(t0 - TimeDelta(1, format="jd")).isot,
                         (t0 + TimeDelta(days + 1, format="jd")).isot],
    }
    write_text(out / "synth.json", json.dumps(manifest, indent=2))
    return result


_CADENCE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|min|m|h|hr)?\s*$", re.IGNORECASE)


def parse_cadence(text: str) -> float:
    """'12min', '720s', '1h', '6' (minutes) → minutes. ValueError naming the expected form."""
    m = _CADENCE.match(str(text))
    if not m:
        raise ValueError(f"cadence: expected a duration like 12min, 720s or 1h, got {text!r}")
    value, unit = float(m.group(1)), (m.group(2) or "min").lower()
    return value / 60.0 if unit in ("s", "sec") else value * 60.0 if unit in ("h", "hr") else value


__all__ = ["SynthConfig", "SynthResult", "check_writable", "generate", "parse_cadence", "simulate"]
