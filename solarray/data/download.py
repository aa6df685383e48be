"""Downloading real SDO data: sunpy Fido (the VSO, or JSOC via drms when an export e-mail is
given), one query per channel. The only module of :mod:`solarray.data` that touches the network;
its client is injectable (``fido=``) and its network faults end in one line
(:mod:`solarray.data.download_faults`).
"""

from __future__ import annotations

import errno
import os
import warnings
from dataclasses import dataclass
from datetime import datetime

from solarray.core import channels as chans
from solarray.data import download_faults as faults
from solarray.data.download_faults import DownloadError
from solarray.data.sources import FITS_SUFFIXES


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




__all__ = ["DownloadConfig", "DownloadError", "build_queries", "download", "time_range"]
