"""FITS sources: list files, read headers and data, validate keywords, and download real SDO data.

Everything here works on local paths and on fsspec URLs (``s3://…``, ``https://…``, ``file://…``);
compressed files (``.fits.gz``, Rice tile-compressed ``CompImageHDU`` as JSOC exports them) are read
transparently. Nothing here touches the network except :func:`download`, whose client is injectable
(its network faults: :mod:`solarray.data.download_faults`).
"""

from __future__ import annotations

import errno
import glob
import io
import os
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime

import numpy as np

from solarray.core import channels as chans
from solarray.data import download_faults as faults
from solarray.data.download_faults import DownloadError

#: File name endings treated as FITS when a directory is listed.
FITS_SUFFIXES: tuple[str, ...] = (".fits", ".fits.gz", ".fts", ".fts.gz", ".fit", ".fit.gz", ".fits.fz")

#: Header keywords copied into each sample's ``meta`` (ARCHITECTURE.md contract).
META_KEYWORDS: tuple[str, ...] = (
    "DATE-OBS", "EXPTIME", "WAVELNTH", "RSUN_OBS", "CDELT1", "CRPIX1", "CRPIX2", "CROTA2",
    "DSUN_OBS", "HGLN_OBS", "HGLT_OBS", "QUALITY",
)

#: Keywords preprocessing cannot do without (pointing and scale); the observer distance or the
#: apparent solar radius is checked separately (either RSUN_OBS or DSUN_OBS is enough).
WCS_KEYWORDS: tuple[str, ...] = ("CDELT1", "CDELT2", "CRPIX1", "CRPIX2", "CRVAL1", "CRVAL2")


class RejectError(ValueError):
    """An input that cannot be preprocessed; the message is the manifest's reject reason."""


def is_url(path: str) -> bool:
    """Whether ``path`` is a remote fsspec URL (``file://`` counts as local)."""
    return "://" in path and not path.startswith("file://")


def list_fits(spec: str | os.PathLike | Sequence[str | os.PathLike]) -> list[str]:
    """Every FITS file named by ``spec``, sorted.

    ``spec`` is a directory (searched recursively for :data:`FITS_SUFFIXES`), a glob pattern, a
    single file, an fsspec URL (directory or glob), or a list of any of these.
    """
    if isinstance(spec, (list, tuple)):
        out: list[str] = []
        for s in spec:
            out.extend(list_fits(s))
        return sorted(dict.fromkeys(out))
    spec = os.fspath(spec)
    if spec.startswith("file://"):
        spec = spec[len("file://"):]
    if is_url(spec):
        import fsspec

        fs, root = fsspec.core.url_to_fs(spec)
        proto = spec.split("://", 1)[0]
        if glob.has_magic(root):
            found = fs.glob(root)
        elif fs.isdir(root):
            found = [p for p in fs.find(root) if p.lower().endswith(FITS_SUFFIXES)]
        else:
            found = [root] if fs.exists(root) else []
        return sorted(f"{proto}://{p}" if "://" not in p else p for p in found)
    if os.path.isdir(spec):
        found = []
        for dirpath, _, files in os.walk(spec):
            found.extend(os.path.join(dirpath, f) for f in files if f.lower().endswith(FITS_SUFFIXES))
        return sorted(found)
    if glob.has_magic(spec):
        return sorted(p for p in glob.glob(spec, recursive=True) if os.path.isfile(p))
    return [spec] if os.path.isfile(spec) else []


def _open_bytes(path: str):
    if is_url(path):
        import fsspec

        with fsspec.open(path, "rb", compression="infer") as f:
            return io.BytesIO(f.read())
    return path


def _image_hdu(hdul):
    """The first HDU holding a ≥2-D image (the primary HDU, or the CompImageHDU JSOC writes)."""
    for hdu in hdul:
        if getattr(hdu, "is_image", False) and hdu.header.get("NAXIS", 0) >= 2:
            return hdu
    raise ValueError("no 2-D image HDU in file")


def read_header(path: str):
    """The header of the image HDU of ``path`` (astropy ``Header``), without reading the data."""
    from astropy.io import fits

    with fits.open(_open_bytes(path), lazy_load_hdus=True, memmap=False) as hdul:
        return _image_hdu(hdul).header.copy()


def read_fits(path: str) -> tuple[np.ndarray, object]:
    """``(data, header)`` of the image HDU: data as a native-endian float array ``[H, W]``.

    Raises ``ValueError`` for files without a 2-D image and whatever astropy raises for corrupt
    or truncated files (callers turn these into manifest rejects).
    """
    from astropy.io import fits

    with fits.open(_open_bytes(path), memmap=False) as hdul:
        hdu = _image_hdu(hdul)
        data = hdu.data
        if data is None:
            raise ValueError("image HDU has no data")
        data = np.asarray(data)
        if data.ndim != 2:
            raise ValueError(f"expected a 2-D image, got shape {data.shape}")
        if data.dtype.kind != "f":
            data = data.astype(np.float32)
        elif not data.dtype.isnative:
            data = data.astype(data.dtype.newbyteorder("="))
        return data, hdu.header.copy()


def parse_time(header: Mapping[str, object]) -> datetime:
    """Observation time (UTC, naive ``datetime``) from DATE-OBS, DATE_OBS or T_OBS."""
    from sunpy.time import parse_time as _parse

    for key in ("DATE-OBS", "DATE_OBS", "T_OBS"):
        value = header.get(key)
        if value not in (None, ""):
            try:
                return _parse(str(value).strip()).utc.to_datetime().replace(tzinfo=None)
            except Exception as err:  # noqa: BLE001 - report the keyword and value
                raise ValueError(f"cannot parse {key}={value!r}: {err}") from None
    raise KeyError("missing keyword DATE-OBS (also no DATE_OBS or T_OBS)")


def missing_keywords(header: Mapping[str, object], channel: str | None = None) -> list[str]:
    """Keywords preprocessing needs that ``header`` lacks (empty list: the header is usable).

    Always: DATE-OBS (or DATE_OBS/T_OBS), the WCS scale and pointing keywords, and either
    RSUN_OBS or DSUN_OBS. AIA channels whose data are in DN (not DN/s) also need EXPTIME.
    """
    missing = []
    if not any(header.get(k) not in (None, "") for k in ("DATE-OBS", "DATE_OBS", "T_OBS")):
        missing.append("DATE-OBS")
    missing += [k for k in WCS_KEYWORDS if header.get(k) in (None, "")]
    if header.get("RSUN_OBS") in (None, "") and header.get("DSUN_OBS") in (None, ""):
        missing.append("RSUN_OBS|DSUN_OBS")
    if channel is not None and chans.get(channel).instrument == "AIA" and not is_rate(header):
        if header.get("EXPTIME") in (None, ""):
            missing.append("EXPTIME")
    return missing


def is_rate(header: Mapping[str, object]) -> bool:
    """True when BUNIT/PIXLUNIT say the data are already a rate (``DN/s``, ``DN s-1``)."""
    unit = str(header.get("BUNIT") or header.get("PIXLUNIT") or "").replace(" ", "").lower()
    return unit.endswith("/s") or unit.endswith("s-1") or unit.endswith("s^-1")


def header_meta(header: Mapping[str, object]) -> dict[str, object]:
    """The ARCHITECTURE ``meta`` subset of a header, JSON-serialisable (absent keys → None)."""
    out: dict[str, object] = {}
    for k in META_KEYWORDS:
        v = header.get(k)
        if isinstance(v, (np.generic,)):
            v = v.item()
        if v is not None and not isinstance(v, (int, float, str, bool)):
            v = str(v)
        out[k] = v
    return out


@dataclass
class FileRecord:
    """What a header scan learnt about one file; ``reason`` is set when the file is rejected."""

    path: str
    channel: str | None = None
    t_obs: datetime | None = None
    shape: tuple[int, int] | None = None
    quality: int = 0
    reason: str | None = None
    meta: dict[str, object] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        d = asdict(self)
        d["t_obs"] = self.t_obs.isoformat() if self.t_obs else None
        d["shape"] = list(self.shape) if self.shape else None
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, object]) -> FileRecord:
        t = d.get("t_obs")
        shape = d.get("shape")
        return cls(
            path=str(d["path"]), channel=d.get("channel") or None,
            t_obs=datetime.fromisoformat(str(t)) if t else None,
            shape=tuple(int(s) for s in shape) if shape is not None else None,
            quality=int(d.get("quality") or 0), reason=d.get("reason") or None,
            meta=dict(d.get("meta") or {}),
        )


def describe_instrument(header: Mapping[str, object]) -> str:
    return ", ".join(
        f"{k}={header.get(k)!s}".strip() for k in ("TELESCOP", "INSTRUME", "WAVELNTH", "CONTENT")
        if header.get(k) not in (None, "")
    ) or "no TELESCOP/INSTRUME keywords"


def scan_file(path: str, wanted: Iterable[str] | None = None) -> FileRecord:
    """Read and validate the header of ``path``; never raises (problems become ``reason``).

    Rejection reasons: ``corrupt file``, ``unknown channel`` (another instrument, e.g. SOHO/EIT),
    ``channel not requested``, ``missing keyword``, ``bad time``, ``QUALITY != 0``.
    """
    rec = FileRecord(path=path)
    try:
        header = read_header(path)
    except Exception as err:  # noqa: BLE001 - any reader failure is a corrupt file
        rec.reason = f"corrupt file: {type(err).__name__}: {err}"[:300]
        return rec
    rec.channel = chans.channel_from_header(header)
    rec.meta = header_meta(header)
    try:
        rec.shape = (int(header["NAXIS2"]), int(header["NAXIS1"]))
    except (KeyError, ValueError):
        rec.reason = "missing keyword NAXIS1/NAXIS2"
        return rec
    try:
        rec.t_obs = parse_time(header)
    except (KeyError, ValueError) as err:
        rec.reason = f"bad time: {err}"
        return rec
    if rec.channel is None:
        rec.reason = f"unknown channel: not an SDO channel in the catalogue ({describe_instrument(header)})"
        return rec
    if wanted is not None and rec.channel not in set(wanted):
        rec.reason = f"channel not requested: {rec.channel}"
        return rec
    missing = missing_keywords(header, rec.channel)
    if missing:
        rec.reason = "missing keyword " + ", ".join(missing)
        return rec
    try:
        rec.quality = int(header.get("QUALITY") or 0)
    except (TypeError, ValueError):
        rec.quality = -1
    if rec.quality != 0:
        rec.reason = f"QUALITY != 0 (QUALITY={header.get('QUALITY')})"
    return rec


# --------------------------------------------------------------------------------------------------
# Downloading real data (sunpy Fido: VSO, or JSOC via drms when an export e-mail is given)
# --------------------------------------------------------------------------------------------------


@dataclass
class DownloadConfig:
    """A download request. Times UTC ISO strings; ``cadence_minutes`` between kept frames."""

    start: str
    end: str
    channels: tuple[str, ...] = chans.DEFAULT_CHANNELS
    cadence_minutes: float = 12.0
    out_dir: str = "data/raw"
    jsoc_email: str | None = None  # use JSOC (drms) exports instead of the VSO
    max_conn: int = 4
    provider: str | None = None  # one VSO data provider (e.g. "JSOC", "SDAC"); None: any


def build_queries(cfg: DownloadConfig) -> list[tuple[str, tuple]]:
    """One Fido query (a tuple of ``sunpy.net.attrs``) per channel: ``[(channel, attrs), ...]``."""
    import astropy.units as u
    from sunpy.net import attrs as a

    if cfg.provider and cfg.jsoc_email:
        raise ValueError(f"provider {cfg.provider!r} picks a VSO data provider; JSOC exports "
                         "(jsoc_email) come from JSOC itself: give one or the other")
    time = a.Time(cfg.start, cfg.end)
    sample = a.Sample(cfg.cadence_minutes * u.min)
    vso_extra = (a.Provider(cfg.provider),) if cfg.provider else ()
    out = []
    for name in chans.resolve(cfg.channels):
        c = chans.get(name)
        if cfg.jsoc_email:
            if c.instrument == "AIA":
                series = "aia.lev1_uv_24s" if c.wavelength >= 1000 else "aia.lev1_euv_12s"
                q = (time, a.jsoc.Series(series), a.Wavelength(c.wavelength * u.AA),
                     a.jsoc.Notify(cfg.jsoc_email), sample)
            else:
                series = {"hmi_m": "hmi.M_45s", "hmi_ic": "hmi.Ic_45s"}.get(name, "hmi.B_720s")
                q = (time, a.jsoc.Series(series), a.jsoc.Notify(cfg.jsoc_email), sample)
        elif c.instrument == "AIA":
            q = (time, a.Instrument("AIA"), a.Wavelength(c.wavelength * u.AA), sample, *vso_extra)
        else:
            physobs = {"hmi_m": "LOS_magnetic_field", "hmi_ic": "intensity"}.get(name)
            if physobs is None:
                raise ValueError(
                    f"channel {name}: vector field (SHARP/B_720s) needs JSOC; pass jsoc_email"
                )
            q = (time, a.Instrument("HMI"), a.Physobs(physobs), sample, *vso_extra)
        out.append((name, q))
    return out


def _fits_in(folder: str) -> list[str]:
    """The FITS files directly in ``folder`` (where Fido puts a channel's files), sorted."""
    if not os.path.isdir(folder):
        return []
    return sorted(e.path for e in os.scandir(folder)
                  if e.is_file() and e.name.lower().endswith(FITS_SUFFIXES))


def _n_records(found) -> int:
    return found.file_num if hasattr(found, "file_num") else len(found)


def _tables(found) -> list:
    """The per-client tables of a Fido ``UnifiedResponse`` (a stand-in's result: itself)."""
    return list(found) if hasattr(found, "file_num") else [found]


def _search_errors(found) -> list:
    """Errors a client met while searching but returned with its (partial) table (the VSO)."""
    return [e for t in _tables(found) for e in (getattr(t, "errors", None) or [])]


def _providers(found) -> set[str]:
    """The VSO data providers of the records found (empty for JSOC or a stand-in)."""
    out: set[str] = set()
    for t in _tables(found):
        if "Provider" in (getattr(t, "colnames", None) or ()):
            out.update(str(p) for p in t["Provider"])
    return out


_LOCAL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC), errno.EACCES, errno.EPERM,
          errno.EROFS}


def _network_call(call, *, source, step: str, kept, log):
    """``call()`` with sunpy's warnings caught; a network fault becomes a one-line
    :class:`DownloadError` naming ``source`` and ``step``; anything else propagates as it is."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            value = call()
        except Exception as err:
            hints = [str(w.message) for w in caught if "Connection" in type(w.message).__name__]
            kind = faults.fault_kind(err, hints)
            if kind is None and isinstance(err, ValueError) and source.jsoc_email \
                    and "registered" in str(err):
                kind = faults.SERVER  # drms: "Email address is invalid or not registered"
            if kind is None:
                raise
            raise faults.DownloadError(
                faults.search_message(source, step, err, kind, hints, kept())) from err
    for w in caught:  # the fault-free path: say what sunpy warned about, on the log
        log(f"[download] {step}: {type(w.message).__name__}: {' '.join(str(w.message).split())}")
    return value


def download(cfg: DownloadConfig, fido=None, log=print) -> dict[str, list[str]]:
    """Search and fetch every requested channel into ``cfg.out_dir/<channel>/``; a re-run
    fetches only what is missing.

    ``fido`` defaults to ``sunpy.net.Fido``; tests pass a stand-in with ``search(*attrs)`` and
    ``fetch(result, path=..., max_conn=..., overwrite=False)`` returning the paths (a parfive
    ``Results``, whose ``errors`` are the failed transfers). Files complete on disk are never
    transferred again (``overwrite=False``: parfive skips a file that exists); a FITS file cut
    off mid-transfer (left by a killed run, or delivered short) is removed, so that it is
    fetched again and never taken as complete.

    Returns ``{channel: [paths of complete files]}``. Raises :class:`DownloadError`, one line
    naming the source (VSO or JSOC), what happened, the complete files kept and what to do: at
    once when the network stops a search or an export request, after every channel was tried
    when some transfers failed.
    """
    if fido is None:
        from sunpy.net import Fido as fido  # noqa: N813
    source = faults.Source(cfg.jsoc_email, cfg.provider)
    queries = build_queries(cfg)
    removed = 0

    def kept() -> str:
        n = sum(len(_fits_in(os.path.join(cfg.out_dir, name))) for name, _ in queries)
        return faults.kept_text(n, cfg.out_dir, removed)

    for name, _ in queries:  # first, so that every count of the files kept is of complete ones
        for path, why in faults.remove_truncated(_fits_in(os.path.join(cfg.out_dir, name))):
            removed += 1
            log(f"[download] {name}: removed {os.path.basename(path)} ({why}); fetching it again")
    result: dict[str, list[str]] = {}
    failures: list[faults.Failure] = []
    records: dict[str, int] = {}
    providers: set[str] = set()
    for name, query in queries:
        folder = os.path.join(cfg.out_dir, name)
        os.makedirs(folder, exist_ok=True)
        before = {os.path.basename(p) for p in _fits_in(folder)}
        found = _network_call(lambda q=query: fido.search(*q), source=source,
                              step=f"{name} search", kept=kept, log=log)
        records[name] = n = _n_records(found)
        providers |= _providers(found)
        for err in _search_errors(found):
            kind = faults.fault_kind(err) or faults.SERVER
            failures.append(faults.Failure(name, kind, faults.describe(err), file=False))
        log(f"[download] {name}: {n} records")
        if n == 0:
            result[name] = []
            continue
        files = _network_call(
            lambda f=found, folder=folder: fido.fetch(
                f, path=os.path.join(folder, "{file}"), max_conn=cfg.max_conn, overwrite=False),
            source=source, step=f"{name} download", kept=kept, log=log)
        paths, n_failed = [], 0
        for path in map(str, files):
            why = faults.fits_truncation(path) if os.path.isfile(path) else None
            if why is None and os.path.isfile(path):
                paths.append(path)
                continue
            if why is not None:
                os.remove(path)
                removed += 1
            n_failed += 1
            failures.append(faults.Failure(
                name, faults.CUT_OFF if why else faults.SERVER,
                f"{os.path.basename(path)}: {why or 'reported as fetched but not on disk'}"))
        for err in getattr(files, "errors", None) or []:
            exc = getattr(err, "exception", err)
            if isinstance(exc, OSError) and exc.errno in _LOCAL and faults.fault_kind(exc) is None:
                raise exc  # a full disk or a denied write is the machine's, not the network's
            n_failed += 1
            failures.append(faults.Failure(
                name, faults.fault_kind(exc) or faults.SERVER, faults.describe(exc),
                faults.host_of(getattr(err, "url", None))))
        new = sum(os.path.basename(p) not in before for p in paths)
        log(f"[download] {name}: {new} fetched, {len(paths) - new} already complete on disk"
            + (f", {n_failed} failed" if n_failed else ""))
        result[name] = paths
    if failures:
        raise faults.DownloadError(
            faults.transfer_message(source, failures, records, providers, kept()))
    return result


def time_range(start: str, end: str) -> tuple[datetime, datetime]:
    """Parse a start/end pair (ISO strings) and check order."""
    t0, t1 = datetime.fromisoformat(start), datetime.fromisoformat(end)
    if t1 <= t0:
        raise ValueError(f"end {end} is not after start {start}")
    return t0, t1


__all__ = [
    "FITS_SUFFIXES", "META_KEYWORDS", "DownloadConfig", "DownloadError", "FileRecord",
    "build_queries", "download", "header_meta", "is_rate", "is_url", "list_fits", "missing_keywords", "parse_time", "read_fits",
    "read_header", "scan_file", "time_range",
]
