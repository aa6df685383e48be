"""Noticing new observations: which co-temporal sets of level-1 files in a directory are complete.

Each poll lists the FITS files under the input directory (or an fsspec URL: http(s), s3, ...). A file is *landed* once it is older than
``settle_s`` and its size has not changed since the previous poll (a file still being copied is
waited for); landed files are header-scanned once (:func:`solarray.data.sources.scan_file`) and
grouped onto the cadence grid (:func:`solarray.data.grouping.group_samples`, ``tolerance``
minutes). A set holding every wanted channel is *complete*; an incomplete one is reported with
its ``missing`` channels (the watcher waits a grace period, then forecasts it degraded). Files
whose header cannot be used (corrupt, unknown channel, bad time, QUALITY ≠ 0) are reported with
the scan's reason.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from datetime import datetime

import fsspec

from solarray.data.grouping import group_samples, scan_with_warnings_off
from solarray.data.sources import FileRecord, is_url, list_fits


def _info_time(info: dict) -> float | None:
    """Modification time (epoch s) from an fsspec ``info`` dict, whatever the backend calls it."""
    for key in ("mtime", "LastModified", "last_modified", "updated", "created"):
        value = info.get(key)
        if value is None:
            continue
        if isinstance(value, int | float):
            return float(value)
        try:
            return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp() \
                if not hasattr(value, "timestamp") else value.timestamp()
        except ValueError:
            continue
    return None


def read_bytes(path: str) -> bytes:
    """A landed file's bytes (a local path or an fsspec URL)."""
    if is_url(path):
        with fsspec.open(path, "rb") as fh:
            return fh.read()
    with open(path, "rb") as fh:
        return fh.read()


@dataclass(frozen=True)
class InputSet:
    """One observation time's files: ``t_ref`` (the reference channel's header time, the key of
    its forecast), ``files`` channel → path, ``landed`` (epoch s the newest file landed)."""

    t_ref: datetime
    grid_time: datetime
    files: dict[str, str]
    landed: float
    missing: tuple[str, ...] = ()

    @property
    def complete(self) -> bool:
        return not self.missing


class Discovery:
    """Polls ``root`` for complete sets of ``channels``; remembers scans between polls."""

    def __init__(self, root: str | os.PathLike, channels: tuple[str, ...],
                 cadence_minutes: float, tolerance_minutes: float = 6.0,
                 settle_s: float = 2.0, reference: str = "hmi_m") -> None:
        if not channels:
            raise ValueError("Discovery needs the channels a complete set must hold")
        self.root = os.fspath(root)
        self.channels = tuple(channels)
        self.cadence = float(cadence_minutes)
        self.tolerance = float(tolerance_minutes)
        self.settle_s = float(settle_s)
        self.reference = reference if reference in channels else sorted(channels)[0]
        self._sizes: dict[str, tuple[int, float]] = {}
        self._first_seen: dict[str, float] = {}
        self._records: dict[tuple[str, int, float], FileRecord] = {}

    def _listing(self, now: float) -> dict[str, tuple[int, float]]:
        """path → (size, modification time) of every FITS file under the root; a URL root
        (fsspec: http(s), s3, ...) is listed remotely, and a file whose server gives no time
        counts from when it was first seen."""
        out: dict[str, tuple[int, float]] = {}
        if is_url(self.root):
            fs, _ = fsspec.core.url_to_fs(self.root)
            for p in list_fits(self.root):
                try:
                    info = fs.info(p)
                except FileNotFoundError:
                    continue
                mtime = _info_time(info)
                out[p] = (int(info.get("size") or 0),
                          mtime if mtime is not None else self._first_seen.setdefault(p, now))
            return out
        for p in list_fits(self.root) if os.path.isdir(self.root) else []:
            try:
                st = os.stat(p)
            except FileNotFoundError:  # moved away between listing and stat
                continue
            out[p] = (st.st_size, st.st_mtime)
        return out

    def _landed(self, now: float) -> tuple[list[str], dict[str, float]]:
        paths, mtimes = [], {}
        seen = self._listing(now)
        for p, (size, mtime) in seen.items():
            stable = self.settle_s <= 0 or self._sizes.get(p) == (size, mtime)
            if stable and now - mtime >= self.settle_s:
                paths.append(p)
                mtimes[p] = mtime
        self._sizes = seen
        return paths, mtimes

    def poll(self, now: float | None = None) -> tuple[list[InputSet], list[FileRecord]]:
        """``(sets oldest first — complete or not, rejected files)`` among the landed files."""
        now = time.time() if now is None else now
        paths, mtimes = self._landed(now)
        records = []
        for p in paths:
            key = (p, *self._sizes[p])
            if key not in self._records:
                self._records[key] = scan_with_warnings_off(p, self.channels)
            # group_samples writes its verdict into the record: hand it a fresh copy each poll
            records.append(FileRecord.from_dict(self._records[key].to_dict()))
        samples, rejects = group_samples(records, self.channels, self.cadence, self.tolerance,
                                         allow_mixed_sizes=True)
        by_path = {r.path: r for r in records}
        out = []
        for s in samples:
            ref = s.files.get(self.reference) or s.files[sorted(s.files)[0]]
            missing = tuple(c for c in self.channels if c not in s.files)
            out.append(InputSet(by_path[ref].t_obs, s.t_obs, dict(s.files),
                                max(mtimes[p] for p in s.files.values()), missing))
        return out, rejects


__all__ = ["Discovery", "InputSet", "read_bytes"]
