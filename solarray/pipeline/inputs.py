"""Untrusted inputs → a validated :class:`~solarray.pipeline.sample.Sample`.

Two ways in:

* :func:`sample_from_fits` — uploaded FITS files (bytes), one per channel. Each file is checked to
  be FITS (magic bytes; gzip accepted) and parsed by astropy only (no pickle, no code); its
  channel comes from the header (:func:`solarray.core.channels.channel_from_header`); the set must hold
  the required channels; channels the forecaster does not use are left out with a warning
  (``sample.source["warnings"]``, copied into the response); images must be 2-D, within the
  size limits, carry the keywords preprocessing needs, and be co-temporal. Then each is
  preprocessed (:func:`solarray.data.preprocess.preprocess`) onto the sample grid.
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
import warnings
import zlib
from collections.abc import Sequence
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
from solarray.pipeline.sample import Sample

FITS_MAGIC = b"SIMPLE  ="
GZIP_MAGIC = b"\x1f\x8b"


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
    required: tuple[str, ...] = ("hmi_m",)  # channels every request must hold
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


def read_upload(name: str, raw: bytes, config: InputConfig) -> tuple[np.ndarray, object]:
    """``(data [H, W] float, header)`` of one uploaded FITS file, or :class:`InputError`."""
    from astropy.io import fits

    if not raw:
        raise InputError(f"file {name!r} is empty")
    raw = _decompress(name, raw, config.max_file_bytes)
    if not raw.startswith(FITS_MAGIC):
        raise InputError(f"file {name!r} is not a FITS file (it does not start with "
                         "'SIMPLE  =')", "unsupported")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with fits.open(io.BytesIO(raw), memmap=False, lazy_load_hdus=False) as hdul:
                hdu = next((h for h in hdul if getattr(h, "is_image", False)
                            and h.header.get("NAXIS", 0) >= 2), None)
                if hdu is None:
                    raise InputError(f"file {name!r}: no 2-D image HDU")
                nx, ny = int(hdu.header.get("NAXIS1", 0)), int(hdu.header.get("NAXIS2", 0))
                _check_size(name, hdu.header.get("NAXIS", 0), nx, ny, config)
                data = np.asarray(hdu.data)
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


def _check_size(name: str, naxis: int, nx: int, ny: int, config: InputConfig) -> None:
    if naxis != 2:
        raise InputError(f"file {name!r}: expected a 2-D image, NAXIS={naxis}")
    lo, hi = config.min_pixels, config.max_pixels
    if not (lo <= nx <= hi and lo <= ny <= hi):
        raise InputError(f"file {name!r}: unsupported image size {nx}×{ny} (each side must be "
                         f"{lo}..{hi} pixels)", size=[nx, ny])


def sample_from_fits(files: Sequence[tuple[str, bytes]], config: InputConfig) -> Sample:
    """Uploaded ``(filename, bytes)`` pairs, one per channel → preprocessed :class:`Sample`."""
    if not files:
        raise InputError("no files uploaded (multipart field 'files', one FITS per channel)")
    if len(files) > config.max_files:
        raise InputError(f"{len(files)} files uploaded; at most {config.max_files}", "too_large")
    by_channel: dict[str, tuple[str, np.ndarray, object]] = {}
    ignored: list[str] = []
    for name, raw in files:
        if len(raw) > config.max_file_bytes:
            raise InputError(f"file {name!r}: {len(raw) // 2**20} MiB, more than "
                             f"{config.max_file_bytes // 2**20} MiB", "too_large")
        data, header = read_upload(name, raw, config)
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
        by_channel[ch] = (name, data, header)
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
    channels = tuple(c for c in (config.accepted or sorted(by_channel)) if c in by_channel)
    cfg = pp.PreprocessConfig(size=config.size, frame=config.frame, off_limb="keep",
                              degradation_table=config.degradation_table)
    image = np.full((len(channels), config.size, config.size), np.nan, np.float32)
    b_los = None
    info = {}
    for i, ch in enumerate(channels):
        name, data, header = by_channel[ch]
        try:
            out = pp.preprocess(data, header, ch, cfg, t_obs=times[ch])
        except sources.RejectError as err:
            raise InputError(f"file {name!r} ({ch}): {err}", channel=ch) from None
        except Exception as err:  # noqa: BLE001 - bad WCS etc.
            raise InputError(f"file {name!r} ({ch}): cannot preprocess ({type(err).__name__}: "
                             f"{str(err)[:200]})", channel=ch) from None
        image[i] = out.scaled
        if ch == "hmi_m":
            b_los = out.data
        info[ch] = {"file": name, "time": times[ch].isoformat(), "header": sources.header_meta(header)}
    header = sample_frame_header(config.size, t_obs, by_channel[ref][2], config.frame)
    return Sample(image, channels, t_obs, header, present=np.ones(len(channels), bool),
                  b_los=b_los, sample_id=t_obs.strftime("%Y-%m-%dT%H:%M:%S"),
                  source={"kind": "upload", "files": info,
                          "warnings": _ignored_warning(ignored, config.accepted)})


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
