"""Network faults of ``solarray download`` said in one line, and FITS files cut off mid-transfer.

sunpy's Fido raises whatever its network stack raised when a search or an export request fails
(no VSO mirror online: ``ConnectionError``; JSOC via drms: ``urllib.error.URLError``; a SOAP or
export failure: zeep / drms errors) and returns failed transfers in the parfive ``Results.errors``
(aiohttp errors, or the HTTP response of a refused request). :func:`fault_kind` tells which of
these a failure is; :class:`Source` and :func:`search_message` / :func:`transfer_message` write the
one line: the source tried, what happened, what is kept on disk, what to do.

parfive writes each file under its final name and, with ``overwrite=False``, skips a file that
exists: it removes a partial file when a transfer fails in-process, but a killed process leaves
the partial file behind and a re-run would keep it as complete. :func:`fits_truncation` tells a
cut-off FITS file from its own headers (each HDU declares the size of its data), so the
downloader can remove it before fetching again.
"""

from __future__ import annotations

import errno
import gzip
import math
import os
import socket
import urllib.parse
import zlib
from collections.abc import Iterable
from dataclasses import dataclass

#: What happened, as said in the one-line message (``"<source> <kind>"``).
NO_NETWORK = "could not be reached (no network, or its name did not resolve)"
REFUSED = "refused the connection"
TIMEOUT = "timed out"
CUT_OFF = "cut the transfer off"
SERVER = "answered with an error"

#: Network libraries under Fido: an exception of theirs is the remote side's failure, not a bug.
_NETWORK_MODULES = ("aiohttp", "drms", "parfive", "requests", "urllib3", "zeep", "http", "urllib")
_NO_ROUTE = {errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ENETDOWN}
_CUT_NAMES = {"ClientPayloadError", "ContentLengthError", "IncompleteRead", "ChunkedEncodingError",
              "ProtocolError", "ServerDisconnectedError", "RemoteDisconnected"}


class DownloadError(RuntimeError):
    """The network stopped a download. ``str(err)`` is one line: the source tried (VSO or JSOC),
    what happened, how many complete files are kept on disk, and what to do next."""


def _parts(err: object) -> list[object]:
    """``err`` and what it wraps: ``__cause__``, ``URLError.reason``, aiohttp's ``os_error``,
    parfive's ``exception`` (an exception or an HTTP response)."""
    out: list[object] = []
    todo = [err]
    while todo:
        e = todo.pop(0)
        if e is None or any(e is o for o in out):
            continue
        out.append(e)
        todo += [getattr(e, "__cause__", None), getattr(e, "reason", None),
                 getattr(e, "os_error", None), getattr(e, "exception", None)]
    return [e for e in out if not isinstance(e, str)]


def _kind_from_text(text: str) -> str | None:
    low = text.lower()
    if any(s in low for s in ("name resolution", "name or service not known", "nodename nor",
                              "getaddrinfo", "errno -2]", "errno -3]", "errno -5]")):
        return NO_NETWORK
    if "refused" in low:
        return REFUSED
    if "timed out" in low or "timeout" in low:
        return TIMEOUT
    return None


def _kind_of(e: object) -> tuple[str, bool] | None:
    """``(kind, specific)`` for one link of an error chain; ``specific`` is False when only the
    error's family says "network" (a bare ``ConnectionError``, any zeep or drms error)."""
    names = {c.__name__ for c in type(e).__mro__}
    code = getattr(e, "errno", None)
    if isinstance(e, (socket.gaierror, socket.herror)) or code in _NO_ROUTE:
        return NO_NETWORK, True
    if isinstance(e, ConnectionRefusedError) or code == errno.ECONNREFUSED:
        return REFUSED, True
    if isinstance(e, TimeoutError) or code == errno.ETIMEDOUT or any("Timeout" in n for n in names):
        return TIMEOUT, True
    if isinstance(e, (ConnectionResetError, ConnectionAbortedError, BrokenPipeError)) \
            or names & _CUT_NAMES:
        return CUT_OFF, True
    if not isinstance(e, BaseException):
        # parfive hands back the aiohttp response of a non-2xx answer
        return (SERVER, True) if isinstance(getattr(e, "status", None), int) else None
    said = _kind_from_text(str(e))
    if isinstance(e, ConnectionError) or "ConnectionError" in names:
        return (said, True) if said else (NO_NETWORK, False)
    if type(e).__module__.split(".")[0] in _NETWORK_MODULES or "NotExportedError" in names:
        return (said, True) if said else (SERVER, False)
    return None


def fault_kind(err: object, hints: Iterable[str] = ()) -> str | None:
    """What the network did (:data:`NO_NETWORK`, :data:`REFUSED`, :data:`TIMEOUT`,
    :data:`CUT_OFF`, :data:`SERVER`), or ``None`` when ``err`` is no network fault (a bug, a
    full disk: those keep their own handling). ``hints`` are texts that say more than a bare
    error (sunpy's warning for each VSO mirror it could not reach), the last one first."""
    found = [k for k in map(_kind_of, _parts(err)) if k is not None]
    if not found:
        return None
    for kind, specific in found:
        if specific:
            return kind
    for hint in reversed(list(hints)):
        kind = _kind_from_text(str(hint))
        if kind is not None:
            return kind
    return found[0][0]


def describe(err: object, limit: int = 160) -> str:
    """``err`` as ``Type: message`` on one line (an HTTP response as ``HTTP 503 reason``)."""
    if not isinstance(err, BaseException) and isinstance(getattr(err, "status", None), int):
        text = f"HTTP {err.status} {getattr(err, 'reason', '') or ''}".strip()
    else:
        text = f"{type(err).__name__}: {err}" if str(err) else type(err).__name__
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def host_of(url: object) -> str | None:
    """The host name in ``url`` (``None`` when there is none)."""
    try:
        return urllib.parse.urlparse(str(url)).hostname or None
    except ValueError:
        return None


@dataclass(frozen=True)
class Source:
    """Where a download goes: the VSO (``provider`` pins one of its data providers) or, with a
    registered export e-mail, JSOC itself through drms exports."""

    jsoc_email: str | None = None
    provider: str | None = None

    @property
    def name(self) -> str:
        return "JSOC" if self.jsoc_email else "VSO"

    def label(self, providers: Iterable[str] = (), hosts: Iterable[str] = ()) -> str:
        """``VSO (provider JSOC; host vso.nascom.nasa.gov)`` / ``JSOC (drms export for …)``."""
        bits = [] if not self.jsoc_email else [f"drms export for {self.jsoc_email}"]
        providers = sorted({str(p) for p in providers if p} | ({self.provider} - {None}))
        if providers and not self.jsoc_email:
            bits.append("provider " + ", ".join(providers))
        hosts = sorted({h for h in hosts if h})
        if hosts:
            bits.append(("host " if len(hosts) == 1 else "hosts ") + ", ".join(hosts))
        return f"{self.name} ({'; '.join(bits)})" if bits else self.name

    def advice(self) -> str:
        """What to do next, naming the flags that change the source."""
        again = ("run the same command again later (files complete on disk are skipped, only the "
                 "missing ones are fetched)")
        if self.jsoc_email:
            return (f"{again}, check that {self.jsoc_email} is registered for JSOC exports "
                    "(http://jsoc.stanford.edu/ajax/register_email.html), or drop --jsoc-email to "
                    "download through the VSO")
        other = ("another VSO provider (--provider NAME, or none to let the VSO choose)"
                 if self.provider else "one VSO provider (--provider NAME, e.g. JSOC or SDAC)")
        return (f"{again}, or try {other} or JSOC directly (--jsoc-email ADDRESS, an address "
                "registered for JSOC exports)")


def kept_text(n_complete: int, out_dir: str, n_removed: int = 0) -> str:
    """``3 complete files kept in OUT`` (and the cut-off files removed, if any)."""
    text = f"{n_complete} complete file{'s' * (n_complete != 1)} kept in {out_dir}"
    if n_removed:
        text += f", {n_removed} cut-off file{'s' * (n_removed != 1)} removed"
    return text


def mirror_hosts(hints: Iterable[str]) -> list[str]:
    """Hosts named in sunpy's ``Connection to URL failed …`` warnings, in order, once each."""
    out: list[str] = []
    for hint in hints:
        words = str(hint).split()
        if len(words) > 2 and words[0] == "Connection" and words[1] == "to":
            h = host_of(words[2])
            if h and h not in out:
                out.append(h)
    return out


def search_message(source: Source, step: str, err: BaseException, kind: str,
                   hints: Iterable[str], kept: str) -> str:
    """The one line for a search or export request the network stopped."""
    hints = list(hints)
    hosts = mirror_hosts(hints)
    detail = describe(err)
    if hints and kind != SERVER:
        cause = str(hints[-1]).split(" failed with error ", 1)[-1].removesuffix(
            ". Retrying with different url and port.")
        detail += f"; last: {' '.join(cause.split())[:120]}"
    return f"{source.label(hosts=hosts)} {kind} during the {step} ({detail}); {kept}; {source.advice()}"


@dataclass
class Failure:
    """One thing that did not arrive: a channel's search, or one file of it."""

    channel: str
    kind: str
    detail: str
    host: str | None = None
    file: bool = True


def transfer_message(source: Source, failures: list[Failure], records: dict[str, int],
                     providers: Iterable[str], kept: str) -> str:
    """The one line after every channel was tried and some files (or searches) failed;
    ``records`` is the number of records found per channel."""
    per: dict[str, int] = {}
    for f in failures:
        per[f.channel] = per.get(f.channel, 0) + f.file
    parts = [f"{ch} {n} of {records.get(ch, 0)} files" if n else f"{ch} search"
             for ch, n in per.items()]
    first = failures[0]
    hosts = [f.host for f in failures if f.host]
    return (f"{source.label(providers, hosts)} {first.kind}: {', '.join(parts)} failed (first: "
            f"{first.detail}); {kept}; {source.advice()}")


# --------------------------------------------------------------------------------------------------
# FITS files cut off mid-transfer
# --------------------------------------------------------------------------------------------------

_BLOCK = 2880  # FITS headers and data come in 2880-byte blocks
_CARD = 80


def _header(f, first: bytes) -> dict[str, str] | None:
    """The value cards of the header starting with block ``first``; ``None`` if cut off."""
    cards: dict[str, str] = {}
    block = first
    while len(block) == _BLOCK:
        for i in range(0, _BLOCK, _CARD):
            card = block[i:i + _CARD]
            key = card[:8].decode("ascii", "replace").strip()
            if key == "END":
                return cards
            if card[8:10] == b"= ":
                cards[key] = card[10:].decode("ascii", "replace").split("/", 1)[0].strip()
        block = f.read(_BLOCK)
    return None


def _data_bytes(cards: dict[str, str]) -> int:
    """Bytes of data the header declares: |BITPIX|/8 · GCOUNT · (PCOUNT + Π NAXISn)."""
    naxis = int(cards.get("NAXIS", "0"))
    if naxis == 0:
        return 0
    dims = [int(cards.get(f"NAXIS{i}", "0")) for i in range(1, naxis + 1)]
    if cards.get("GROUPS") == "T" and dims and dims[0] == 0:
        dims = dims[1:]  # random groups: NAXIS1 = 0 is a marker, not an axis
    return (abs(int(cards.get("BITPIX", "8"))) // 8 * int(cards.get("GCOUNT", "1"))
            * (int(cards.get("PCOUNT", "0")) + math.prod(dims)))


def _skip(f, n: int, size: int | None) -> int:
    """Move ``n`` bytes on; return how many were there (a gzip stream is read through)."""
    if size is not None:
        here = f.tell()
        f.seek(min(n, size - here), os.SEEK_CUR)
        return min(n, size - here)
    got = 0
    while got < n:
        chunk = f.read(min(1 << 20, n - got))
        if not chunk:
            break
        got += len(chunk)
    return got


def fits_truncation(path: str) -> str | None:
    """Why the FITS file at ``path`` is cut off, or ``None`` when it is complete (or no FITS
    file: not this check's to judge; ingest rejects it as corrupt).

    Cut off: empty; a header without its END card; an HDU with less data than its header
    declares; a gzip stream that stops early; or nothing but an empty primary header (a JSOC
    export cut right before its compressed image HDU — no file we download looks like that).
    """
    size = os.path.getsize(path)
    if size == 0:
        return "empty file"
    gz = path.lower().endswith(".gz")
    try:
        with (gzip.open(path, "rb") if gz else open(path, "rb")) as f:
            return _walk(f, None if gz else size)
    except EOFError:
        return "the gzip stream stops early"
    except (gzip.BadGzipFile, zlib.error, ValueError):
        return None


def _walk(f, size: int | None) -> str | None:
    hdu, data = 0, 0
    while True:
        block = f.read(_BLOCK)
        if not block:
            break
        if not block.startswith(b"SIMPLE" if hdu == 0 else b"XTENSION"):
            if hdu == 0:
                return None
            break  # bytes after the last HDU: padding or junk, not a cut
        cards = _header(f, block)
        if cards is None:
            return f"header of HDU {hdu} cut off (no END card)"
        try:
            want = _data_bytes(cards)
        except ValueError:
            return None
        have = _skip(f, math.ceil(want / _BLOCK) * _BLOCK, size)
        if have < want:
            return f"HDU {hdu} has {have} of its {want} data bytes"
        data += want
        hdu += 1
    if hdu and not data:
        return "only an empty header, no data"
    return None


def remove_truncated(paths: Iterable[str]) -> list[tuple[str, str]]:
    """Delete every FITS file in ``paths`` that :func:`fits_truncation` finds cut off;
    ``[(path, why), ...]`` of those removed."""
    removed = []
    for path in paths:
        why = fits_truncation(path)
        if why is not None:
            os.remove(path)
            removed.append((path, why))
    return removed


__all__ = [
    "CUT_OFF", "NO_NETWORK", "REFUSED", "SERVER", "TIMEOUT", "DownloadError", "Failure", "Source",
    "describe", "fault_kind", "fits_truncation", "host_of", "kept_text", "mirror_hosts",
    "remove_truncated", "search_message", "transfer_message",
]
