"""Co-temporal files → samples: header scan of every input, then grouping onto a time grid.

Pure functions on the driver (the scan of large file lists runs as Ray Data tasks). A file that
cannot be used is not dropped silently: its :class:`~solarray.data.sources.FileRecord` carries the
reason, which ends up in the ingest manifest.
"""

from __future__ import annotations

import json
import re
import warnings
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

from solarray.data import sources
from solarray.data.sources import FileRecord

#: Origin of the sample time grid.
_EPOCH = datetime(2000, 1, 1)


@dataclass
class Sample:
    """One observation time: the chosen file per channel (``files``) and its joined truth."""

    sample_id: str
    t_obs: datetime
    files: dict[str, str]
    mask_file: str = ""
    labels: dict[str, object] = field(default_factory=dict)


def sample_id_of(t: datetime) -> str:
    """The ``sample_id`` of observation time ``t`` (ISO, whole seconds)."""
    return t.strftime("%Y-%m-%dT%H:%M:%S")


def reason_kind(reason: str) -> str:
    """The category of a reject reason (the text before the first colon / parenthesis)."""
    return re.split(r"[:(]", reason, maxsplit=1)[0].strip()


def scan_with_warnings_off(path: str, wanted: Sequence[str] | None) -> FileRecord:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sources.scan_file(path, wanted)


def _scan_batch(batch: dict[str, np.ndarray], wanted: Sequence[str]) -> dict[str, np.ndarray]:
    recs = [scan_with_warnings_off(str(p), wanted) for p in batch["path"]]
    return {"record": np.array([json.dumps(r.to_dict(), default=str) for r in recs], dtype=object)}


def scan_inputs(paths: Sequence[str], channels: Sequence[str], use_ray: bool | None = None,
                threads: int = 8) -> list[FileRecord]:
    """Header scan of every path. Large lists use Ray Data tasks (headers are read where the
    workers are); small ones a local thread pool (no Ray start-up cost)."""
    if use_ray is None:
        use_ray = len(paths) > 512
    if use_ray:
        import ray

        ds = ray.data.from_items([{"path": p} for p in paths]).map_batches(
            _scan_batch, fn_kwargs={"wanted": list(channels)}, batch_size=128)
        return [FileRecord.from_dict(json.loads(r["record"])) for r in ds.take_all()]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(lambda p: scan_with_warnings_off(p, channels), paths))


def estimate_cadence(records: Iterable[FileRecord], default_minutes: float = 12.0) -> float:
    """Cadence in minutes: the largest per-channel median spacing of distinct times (so the grid
    follows the slowest channel); ``default_minutes`` when no channel has two times."""
    by_channel: dict[str, set[datetime]] = {}
    for r in records:
        if r.reason is None and r.channel and r.t_obs:
            by_channel.setdefault(r.channel, set()).add(r.t_obs)
    spacings = []
    for times in by_channel.values():
        t = np.array(sorted(times), dtype="datetime64[ms]")
        if len(t) > 1:
            spacings.append(float(np.median(np.diff(t).astype(np.float64))) / 60000.0)
    if not spacings:
        return default_minutes
    return max(round(max(spacings) * 60.0) / 60.0, 1.0 / 60.0)  # whole seconds, ≥ 1 s


def group_samples(records: Sequence[FileRecord], channels: Sequence[str],
                  cadence_minutes: float, tolerance_minutes: float = 6.0,
                  start: datetime | None = None, end: datetime | None = None,
                  allow_mixed_sizes: bool = False) -> tuple[list[Sample], list[FileRecord]]:
    """Group scanned files into samples on a time grid of ``cadence_minutes`` (epoch 2000-01-01).

    Each file goes to its nearest grid time if within ``tolerance_minutes``; per grid time and
    channel the file closest in time wins. Returns ``(samples sorted by time, rejected records
    with reasons)``. Rejected: scan rejects, time outside [start, end), not within tolerance of
    a grid time, duplicates (another file of the channel is closer), image size different from
    the channel's most common size (unless ``allow_mixed_sizes``).
    """
    cadence = timedelta(minutes=cadence_minutes)
    tol = timedelta(minutes=tolerance_minutes)
    rejects: list[FileRecord] = []
    good: list[FileRecord] = []
    for r in records:
        if r.reason is not None:
            rejects.append(r)
        elif r.channel not in channels:
            r.reason = f"channel not requested: {r.channel}"
            rejects.append(r)
        elif (start and r.t_obs < start) or (end and r.t_obs >= end):
            r.reason = f"time outside range: {r.t_obs.isoformat()} not in [{start}, {end})"
            rejects.append(r)
        else:
            good.append(r)

    if not allow_mixed_sizes:
        majority = {}
        for ch in {r.channel for r in good}:
            majority[ch] = Counter(r.shape for r in good if r.channel == ch).most_common(1)[0][0]
        kept = []
        for r in good:
            want = majority[r.channel]
            if r.shape != want:
                r.reason = (f"mixed image sizes: {r.shape[0]}x{r.shape[1]} differs from the run's "
                            f"{want[0]}x{want[1]} for {r.channel}")
                rejects.append(r)
            else:
                kept.append(r)
        good = kept

    chosen: dict[tuple[int, str], FileRecord] = {}
    for r in sorted(good, key=lambda r: (r.t_obs, r.path)):
        k = round((r.t_obs - _EPOCH) / cadence)
        grid_t = _EPOCH + k * cadence
        dt = abs(r.t_obs - grid_t)
        if dt > tol:
            r.reason = f"no sample time within ±{tolerance_minutes:g} min (nearest {grid_t.isoformat()})"
            rejects.append(r)
            continue
        prev = chosen.get((k, r.channel))
        if prev is None:
            chosen[(k, r.channel)] = r
            continue
        if abs(prev.t_obs - grid_t) <= dt:
            loser, winner = r, prev
        else:
            loser, winner = prev, r
            chosen[(k, r.channel)] = r
        loser.reason = f"duplicate: {winner.path} is closer to sample time {grid_t.isoformat()}"
        rejects.append(loser)

    by_key: dict[int, dict[str, str]] = {}
    for (k, ch), r in chosen.items():
        by_key.setdefault(k, {})[ch] = r.path
    samples = []
    for k in sorted(by_key):
        t = _EPOCH + k * cadence
        samples.append(Sample(sample_id=sample_id_of(t), t_obs=t, files=by_key[k]))
    return samples, rejects


__all__ = ["Sample", "estimate_cadence", "group_samples", "reason_kind", "sample_id_of",
           "scan_inputs", "scan_with_warnings_off"]
