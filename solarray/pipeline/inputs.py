"""Untrusted inputs → a validated :class:`~solarray.pipeline.sample.Sample`.

Two ways in:

* :func:`sample_from_fits` — uploaded FITS files (bytes), one per channel. Each file is checked to
  be FITS (magic bytes; gzip accepted) and parsed by astropy only (no pickle, no code); its
  channel comes from the header (:func:`solarray.core.channels.channel_from_header`); the set must
  hold the required channels (none by default: an accepted channel not uploaded becomes a NaN
  plane flagged absent, and the forecast is degraded, :mod:`solarray.pipeline.degraded`); channels
  the forecaster does not use are left out with a warning (``sample.source["warnings"]``,
  copied into the response); images must be 2-D, within the
  size limits, carry the keywords preprocessing needs, and be co-temporal. Then each is
  preprocessed (:func:`solarray.data.preprocess.preprocess`) onto the sample grid. Files are
  decoded, and channels preprocessed, in parallel threads; RICE-compressed level-1 files (4096²,
  as JSOC exports them) are decoded from the uploaded bytes by
  :mod:`solarray.data.tiled_fits`, bit for bit as astropy decodes them.
* :func:`sample_from_dataset` — a sample of an ingested shard directory, by ``sample_id``, from
  directories the service allows.

Every rejection raises :class:`InputError` with a reason and a ``kind`` (invalid, unsupported,
too_large, forbidden, not_found); the service turns the kind into an HTTP status
(:mod:`solarray.serve.errors`) and returns the reason as JSON.
"""

from __future__ import annotations

import gzip
import io
import os
import time
import warnings
import zlib
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from solarray.core import channels as chans
from solarray.core.frame import DEFAULT_GRID, FRAME_RSUN
from solarray.core.frame_header import sample_frame_header
from solarray.data import preprocess as pp
from solarray.data import sources
from solarray.data.shard_reader import ShardRow, meta_frame, meta_header, read_row, sample_ids
from solarray.data.shards import shard_paths
from solarray.data.tiled_fits import decode_rice_rows
from solarray.pipeline.sample import Sample

FITS_MAGIC = b"SIMPLE  ="
GZIP_MAGIC = b"\x1f\x8b"

#: Threads that decode the uploaded files, and then preprocess the channels, of one request (one
#: per file up to this many; the RICE decoder and numpy release the GIL).
MAX_THREADS = 4


#: Why an input is refused (the service maps each to an HTTP status, :mod:`solarray.serve.errors`).
INPUT_KINDS = ("invalid", "unsupported", "too_large", "forbidden", "not_found")


class InputError(ValueError):
    """An input the pipeline refuses, with the reason as the message. ``kind`` (one of
    :data:`INPUT_KINDS`): ``invalid`` (a bad value, channel set or header), ``unsupported`` (not a
    FITS file, corrupt gzip), ``too_large`` (over a size or count limit), ``forbidden`` (dataset
    requests disabled or outside the allowed roots), ``not_found`` (no such dataset or sample);
    ``detail``: extra fields for the caller to report."""

    def __init__(self, message: str, kind: str = "invalid", **detail):
        if kind not in INPUT_KINDS:
            raise ValueError(f"InputError kind must be one of {INPUT_KINDS}, got {kind!r}")
        super().__init__(message)
        self.kind = kind
        self.detail = detail


@dataclass
class InputConfig:
    """Limits and settings for turning inputs into samples."""

    size: int = DEFAULT_GRID  # sample grid N (pixels)
    frame: float = FRAME_RSUN  # ±R☉ of the grid
    accepted: tuple[str, ...] = ()  # channels the forecaster uses (empty: any known channel)
    required: tuple[str, ...] = ()  # channels every request must hold (else: forecast degraded)
    max_files: int = 16
    max_file_bytes: int = 80 * 2**20  # decompressed FITS bytes per file
    min_pixels: int = 64  # per side
    max_pixels: int = 4096  # per side
    max_time_spread_s: float = 600.0  # co-temporality of the channels
    degradation_table: str | None = None  # aiapy table path (None: skip)
    dataset_roots: tuple[str, ...] = ()  # directories JSON requests may name

    def __post_init__(self) -> None:
        self.accepted = chans.resolve(self.accepted) if self.accepted else ()
        self.required = chans.resolve(self.required) if self.required else ()
        if self.accepted:
            missing = [c for c in self.required if c not in self.accepted]
            if missing:
                raise ValueError(f"required channels {missing} are not accepted channels "
                                 f"{list(self.accepted)}")
        if not 16 <= int(self.size) <= 4096:
            raise ValueError(f"size must be in 16..4096 pixels, got {self.size}")


def _decompress(name: str, raw: bytes, limit: int) -> bytes:
    if raw[:2] == GZIP_MAGIC:
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(raw)) as g:
                out = g.read(limit + 1)
        except (OSError, EOFError, zlib.error) as err:
            raise InputError(f"file {name!r}: corrupt gzip ({err})", "unsupported") from None
        if len(out) > limit:
            raise InputError(f"file {name!r}: more than {limit // 2**20} MiB once decompressed",
                             "too_large")
        return out
    return raw


def read_upload(name: str, raw: bytes, config: InputConfig,
                skip: Callable[[object], bool] | None = None) -> tuple[np.ndarray | None, object]:
    """``(data [H, W] float, header)`` of one uploaded FITS file, or :class:`InputError`.

    RICE tile-compressed images (SDO level 1 as JSOC exports them) are decoded by
    :func:`~solarray.data.tiled_fits.decode_rice_rows` straight from ``raw`` (no copy of the
    upload; the C decoder releases the GIL, so files decode in parallel threads), anything else
    by astropy. ``skip(header)`` true: the header is returned without decoding the data
    (``None``), for files the caller will not use.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _read_upload(name, raw, config, skip)


def _read_upload(name: str, raw: bytes, config: InputConfig,
                 skip: Callable[[object], bool] | None = None) -> tuple[np.ndarray | None, object]:
    """:func:`read_upload` without touching the warning filters (safe in threads)."""
    from astropy.io import fits

    if not raw:
        raise InputError(f"file {name!r} is empty")
    raw = _decompress(name, raw, config.max_file_bytes)
    if not raw.startswith(FITS_MAGIC):
        raise InputError(f"file {name!r} is not a FITS file (it does not start with "
                         "'SIMPLE  =')", "unsupported")
    try:
        # BytesIO of a bytes object shares its buffer: the upload is not copied
        with fits.open(io.BytesIO(raw), memmap=False, lazy_load_hdus=False) as hdul:
            hdu = next((h for h in hdul if getattr(h, "is_image", False)
                        and h.header.get("NAXIS", 0) >= 2), None)
            if hdu is None:
                raise InputError(f"file {name!r}: no 2-D image HDU")
            nx, ny = int(hdu.header.get("NAXIS1", 0)), int(hdu.header.get("NAXIS2", 0))
            _check_size(name, hdu.header.get("NAXIS", 0), nx, ny, config)
            if skip is not None and skip(hdu.header):
                return None, hdu.header.copy()
            data = decode_rice_rows(hdu, raw) if isinstance(hdu, fits.CompImageHDU) else None
            data = np.asarray(hdu.data) if data is None else data
            header = hdu.header.copy()
    except InputError:
        raise
    except Exception as err:  # noqa: BLE001 - astropy raises many types on broken files
        raise InputError(f"file {name!r}: unreadable FITS ({type(err).__name__}: "
                         f"{str(err)[:200]})") from None
    if data.ndim != 2:
        raise InputError(f"file {name!r}: expected a 2-D image, got shape {data.shape}")
    data = data.astype(np.float32) if data.dtype.kind != "f" or not data.dtype.isnative \
        else data
    return data, header


def _threads(fn: Callable, items: Sequence) -> list:
    """``[fn(x) for x in items]`` on up to :data:`MAX_THREADS` threads (one per item), in order;
    each item's exception is returned in its place (the caller raises the first in order)."""
    def call(x):
        try:
            return fn(x)
        except Exception as err:  # noqa: BLE001 - re-raised by the caller, in file order
            return _Failed(err)

    if len(items) <= 1:
        return [call(x) for x in items]
    with ThreadPoolExecutor(min(len(items), MAX_THREADS), thread_name_prefix="solarray-input") \
            as pool:
        return list(pool.map(call, items))


@dataclass(frozen=True)
class _Failed:
    error: Exception


def _result(value):
    if isinstance(value, _Failed):
        raise value.error
    return value


def _check_size(name: str, naxis: int, nx: int, ny: int, config: InputConfig) -> None:
    if naxis != 2:
        raise InputError(f"file {name!r}: expected a 2-D image, NAXIS={naxis}")
    lo, hi = config.min_pixels, config.max_pixels
    if not (lo <= nx <= hi and lo <= ny <= hi):
        raise InputError(f"file {name!r}: unsupported image size {nx}×{ny} (each side must be "
                         f"{lo}..{hi} pixels)", size=[nx, ny])


def sample_from_fits(files: Sequence[tuple[str, bytes]], config: InputConfig) -> Sample:
    """Uploaded ``(filename, bytes)`` pairs, one per channel → preprocessed :class:`Sample`.

    One thread per file decodes it and, as soon as it is decoded, preprocesses it (no barrier
    between the two: a core never waits for the slowest file's decode); files of channels the
    forecaster does not read are not decoded at all. The set is then validated in upload order,
    as one file after the other would be, and the first problem raised. ``sample.source["timings"]``
    holds wall seconds: ``decode`` until the last file is decoded (FITS parsing, decompression),
    ``preprocess`` from then until the sample is built (calibration, warp, scaling — begun
    earlier for the files decoded first).
    """
    t0 = time.perf_counter()
    if not files:
        raise InputError("no files uploaded (multipart field 'files', one FITS per channel)")
    if len(files) > config.max_files:
        raise InputError(f"{len(files)} files uploaded; at most {config.max_files}", "too_large")
    for name, raw in files:
        if len(raw) > config.max_file_bytes:
            raise InputError(f"file {name!r}: {len(raw) // 2**20} MiB, more than "
                             f"{config.max_file_bytes // 2**20} MiB", "too_large")
    cfg = pp.PreprocessConfig(size=config.size, frame=config.frame, off_limb="keep",
                              degradation_table=config.degradation_table)

    def used(header) -> str | None:
        ch = chans.channel_from_header(header)
        return ch if ch is not None and (not config.accepted or ch in config.accepted) else None

    def one(f: tuple[str, bytes]) -> tuple[object, object, float]:
        """(header, Preprocessed | _Failed | None, when decoded) of one file."""
        data, header = _read_upload(f[0], f[1], config, skip=lambda h: used(h) is None)
        decoded = time.perf_counter()
        ch = used(header)
        if data is None or ch is None or sources.missing_keywords(header, ch):
            return header, None, decoded  # refused or ignored below, in upload order
        try:
            t = sources.parse_time(header)
        except (KeyError, ValueError):
            return header, None, decoded
        try:
            return header, pp.preprocess(data, header, ch, cfg, t_obs=t), decoded
        except Exception as err:  # noqa: BLE001 - reported below, after the set's checks
            return header, _Failed(err), decoded

    # Warning filters are process-wide before Python 3.14: they are set and restored here, in
    # this thread, around the threads (catch_warnings inside concurrent threads would restore
    # each other's filters out of order).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # astropy's header complaints, as in read_upload
        read = _threads(one, files)
    t_decoded = max([r[2] for r in read if not isinstance(r, _Failed)], default=t0)
    by_channel: dict[str, tuple[str, object, object]] = {}
    ignored: list[str] = []
    for (name, _), result in zip(files, read, strict=True):
        header, out, _ = _result(result)
        ch = chans.channel_from_header(header)
        if ch is None:
            raise InputError(f"file {name!r}: unknown channel ({sources.describe_instrument(header)});"
                             f" expected one of {', '.join(config.accepted or chans.CATALOGUE)}")
        if config.accepted and ch not in config.accepted:
            # A full time step (every AIA channel + HMI) is a normal upload: use what the
            # models read, say what was left out.
            ignored.append(f"{name} ({ch})")
            continue
        if ch in by_channel:
            raise InputError(f"files {by_channel[ch][0]!r} and {name!r} are both {ch}: "
                             "upload one file per channel", channel=ch)
        missing = sources.missing_keywords(header, ch)
        if missing:
            raise InputError(f"file {name!r} ({ch}): header lacks {', '.join(missing)}",
                             channel=ch)
        by_channel[ch] = (name, out, header)
    absent = [c for c in config.required if c not in by_channel]
    if absent:
        raise InputError(f"wrong channel set: {', '.join(absent)} required, got "
                         f"{', '.join(sorted(by_channel)) or 'none used by this forecaster'}",
                         channels=sorted(by_channel), required=list(config.required),
                         ignored=ignored)
    if not by_channel:
        raise InputError(f"no uploaded file is a channel this forecaster uses "
                         f"({', '.join(config.accepted)}); got {', '.join(ignored)}")
    times = {}
    for ch, (name, _, header) in by_channel.items():
        try:
            times[ch] = sources.parse_time(header)
        except (KeyError, ValueError) as err:
            raise InputError(f"file {name!r} ({ch}): {err}") from None
    spread = (max(times.values()) - min(times.values())).total_seconds()
    if spread > config.max_time_spread_s:
        raise InputError(f"files are not co-temporal: {spread:.0f} s between "
                         f"{min(times, key=times.get)} and {max(times, key=times.get)} "
                         f"(at most {config.max_time_spread_s:.0f} s)",
                         times={c: t.isoformat() for c, t in times.items()})
    ref = "hmi_m" if "hmi_m" in by_channel else sorted(by_channel)[0]
    t_obs = times[ref]
    # every accepted channel has a plane: an absent one stays NaN, flagged not present
    channels = tuple(config.accepted or sorted(by_channel))
    image = np.full((len(channels), config.size, config.size), np.nan, np.float32)
    b_los = None
    info = {}
    for i, ch in enumerate(channels):
        if ch not in by_channel:
            continue
        name, out, header = by_channel[ch]
        if isinstance(out, _Failed):
            err = out.error
            if isinstance(err, sources.RejectError):
                raise InputError(f"file {name!r} ({ch}): {err}", channel=ch) from None
            raise InputError(f"file {name!r} ({ch}): cannot preprocess ({type(err).__name__}: "
                             f"{str(err)[:200]})", channel=ch) from None
        image[i] = out.scaled
        if ch == "hmi_m":
            b_los = out.data
        info[ch] = {"file": name, "time": times[ch].isoformat(), "header": sources.header_meta(header)}
    header = sample_frame_header(config.size, t_obs, by_channel[ref][2], config.frame)
    t_end = time.perf_counter()
    return Sample(image, channels, t_obs, header,
                  present=np.array([c in by_channel for c in channels], bool),
                  b_los=b_los, sample_id=t_obs.strftime("%Y-%m-%dT%H:%M:%S"),
                  source={"kind": "upload", "files": info,
                          "warnings": _ignored_warning(ignored, config.accepted),
                          "timings": {"decode": t_decoded - t0, "preprocess": t_end - t_decoded}})


def _ignored_warning(ignored: Sequence[str], accepted: Sequence[str]) -> list[str]:
    if not ignored:
        return []
    return [f"ignored {len(ignored)} channel(s) this forecaster does not use: "
            f"{', '.join(ignored)} (it reads {', '.join(accepted)})"]


def _allowed(path: Path, roots: Sequence[str]) -> bool:
    real = path.resolve()
    for r in roots:
        root = Path(r).expanduser().resolve()
        if real == root or root in real.parents:
            return True
    return False


def dataset_path(dataset: str, config: InputConfig) -> Path:
    """The shard directory a dataset request names, checked against ``config.dataset_roots``."""
    if not config.dataset_roots:
        raise InputError("dataset requests are disabled (no dataset roots configured)", "forbidden")
    if not isinstance(dataset, str) or not dataset or "\x00" in dataset:
        raise InputError("'dataset' must be a directory path")
    path = Path(dataset).expanduser()
    if not _allowed(path, config.dataset_roots):
        raise InputError(f"dataset {dataset!r} is outside the allowed directories", "forbidden")
    if not path.is_dir():
        raise InputError(f"dataset {dataset!r}: no such directory", "not_found")
    if not shard_paths(str(path)):
        raise InputError(f"dataset {dataset!r}: no shard_*.parquet files", "not_found")
    return path


def sample_from_row(row: ShardRow, config: InputConfig, dataset: str | os.PathLike) -> Sample:
    """An ingested shard row → a validated :class:`Sample` (the channels ``config`` accepts, the
    channels it requires present, the frame header from the row's ``meta``)."""
    image, present, channels = row.image, row.present, row.channels
    if config.accepted:
        keep = [c for c in channels if c in config.accepted]
        if not keep:
            raise InputError(f"dataset sample {row.sample_id!r} has channels {list(channels)}, "
                             f"none used by this forecaster ({', '.join(config.accepted)})")
        dropped = [c for c in channels if c not in config.accepted]
        idx = [channels.index(c) for c in keep]
        image, present, channels = image[idx], present[idx], tuple(keep)
    else:
        dropped = []
    absent = [c for c in config.required if c not in channels or not present[channels.index(c)]]
    if absent:
        raise InputError(f"wrong channel set: dataset sample {row.sample_id!r} lacks "
                         f"{', '.join(absent)}")
    header = sample_frame_header(image.shape[-1], row.t_obs, meta_header(row.meta),
                                 meta_frame(row.meta))
    return Sample(image, channels, row.t_obs, header, present=present, sample_id=row.sample_id,
                  source={"kind": "dataset", "dataset": os.fspath(dataset),
                          "warnings": _ignored_warning(dropped, config.accepted)})


def sample_from_dataset(dataset: str, sample_id: str, config: InputConfig) -> Sample:
    """Read ``sample_id`` from the ingested shard directory ``dataset`` (must lie under one of
    ``config.dataset_roots``)."""
    path = dataset_path(dataset, config)
    row = read_row(path, sample_id)
    if row is None:
        raise InputError(f"dataset {dataset!r}: no sample {sample_id!r}", "not_found",
                         example_ids=sample_ids(path)[:5])
    return sample_from_row(row, config, path)


__all__ = ["INPUT_KINDS", "InputConfig", "InputError", "dataset_path", "read_upload",
           "sample_from_dataset", "sample_from_fits", "sample_from_row"]
