"""FITS sources: list files, read headers and data, validate keywords.

Everything here works on local paths and on fsspec URLs (``s3://…``, ``https://…``, ``file://…``);
compressed files (``.fits.gz``, Rice tile-compressed ``CompImageHDU`` as JSOC exports them) are read
transparently. Downloading real SDO data: :mod:`solarray.data.download`.
"""

from __future__ import annotations

import glob
import io
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime

import numpy as np

from solarray.core import channels as chans

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


__all__ = [
    "FITS_SUFFIXES", "META_KEYWORDS", "FileRecord", "header_meta", "is_rate", "is_url",
    "list_fits", "missing_keywords", "parse_time", "read_fits", "read_header", "scan_file",
]
