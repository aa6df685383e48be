"""Replay: a synthetic Sun's files delivered in time order as if they were landing live.

The synthetic Sun's level-1 FITS (``SYNTH/fits/<channel>/*.fits``) are grouped into time steps by
their headers. :meth:`Replay.release` puts one step's files into ``LIVE/input`` (copied beside
their final name and renamed, as a careful downloader does) and brings ``LIVE/goes`` — the GOES XRS
(``xrs.parquet``) and located flares (``events.parquet``) of ``SYNTH/tables`` — up to that step's
time: what a forecaster would know at that moment. :meth:`Replay.finish` releases the rest of the
GOES data (the synthetic tables run one day past the last image), so every forecast can be
verified. The watcher reads ``LIVE/input`` and ``LIVE/goes`` exactly as it reads live data.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pandas as pd

from solarray.core.atomic import atomic_path
from solarray.data.grouping import estimate_cadence, group_samples
from solarray.data.sources import list_fits, scan_file
from solarray.data.tables.table import read_table


@dataclass(frozen=True)
class Step:
    t: datetime
    files: tuple[str, ...]


def _naive(s: pd.Series) -> pd.Series:
    return pd.to_datetime(s, utc=True).dt.tz_localize(None)


class Replay:
    """Time steps of ``synth_dir`` released into ``live_dir`` (``input/`` and ``goes/``)."""

    def __init__(self, synth_dir: str | os.PathLike, live_dir: str | os.PathLike) -> None:
        self.synth = Path(synth_dir).expanduser().resolve()
        if not (self.synth / "synth.json").exists():
            raise FileNotFoundError(f"{self.synth}: not a complete synthetic-Sun output "
                                    "(no synth.json; run `solarray synth` first)")
        self.live = Path(live_dir).expanduser().resolve()
        records = [scan_file(p) for p in list_fits(self.synth / "fits")]
        good = [r for r in records if r.reason is None]
        if not good:
            raise FileNotFoundError(f"{self.synth / 'fits'}: no usable level-1 FITS files")
        channels = sorted({r.channel for r in good})
        samples, _ = group_samples(good, channels, estimate_cadence(good),
                                   allow_mixed_sizes=True)
        self.steps = [Step(s.t_obs, tuple(sorted(s.files.values()))) for s in samples]
        tables = self.synth / "tables"
        self.xrs = read_table(tables / "xrs.parquet", "GOES XRS table", columns=("time",))
        self.events = read_table(tables / "events.parquet", "flare events", columns=("peak",))

    @property
    def input_dir(self) -> Path:
        return self.live / "input"

    @property
    def goes_dir(self) -> Path:
        return self.live / "goes"

    def _copy(self, src: str) -> None:
        rel = Path(src).relative_to(self.synth / "fits")
        dst = self.input_dir / rel
        if dst.exists() and dst.stat().st_size == Path(src).stat().st_size:
            return  # released before (a restarted replay)
        with atomic_path(dst) as tmp:
            shutil.copyfile(src, tmp)

    def _goes_until(self, t: pd.Timestamp | None) -> None:
        xrs, ev = self.xrs, self.events
        if t is not None:
            xrs = xrs[_naive(xrs["time"]) <= t]
            ev = ev[_naive(ev["peak"]) <= t]
        for name, df in (("xrs", xrs), ("events", ev)):
            with atomic_path(self.goes_dir / f"{name}.parquet") as tmp:
                df.to_parquet(tmp, index=False)

    def release(self, k: int) -> Step:
        """Deliver step ``k``'s files and the GOES data up to its time."""
        step = self.steps[k]
        for f in step.files:
            self._copy(f)
        self._goes_until(pd.Timestamp(step.t))
        return step

    def finish(self) -> None:
        """Deliver the GOES data to their end."""
        self._goes_until(None)


def run_replay(replay: Replay, poll: Callable[[], dict], speed: float = 0.0, *,
               log: Callable[[str], None] = print,
               sleep: Callable[[float], None] = time.sleep) -> dict[str, int]:
    """Release every step in time order and let the watcher ``poll`` after each one; ``speed``
    seconds of Sun time per wall-clock second (0: as fast as the cycle runs). Ends with the rest
    of the GOES data and a last poll (the verification of the final forecasts)."""
    if speed < 0:
        raise ValueError(f"speed must be ≥ 0, got {speed}")
    totals = {"forecasts": 0, "verified": 0}
    prev = None
    for k, step in enumerate(replay.steps):
        if prev is not None and speed > 0:
            sleep((step.t - prev).total_seconds() / speed)
        replay.release(k)
        out = poll()
        for key in totals:
            totals[key] += int(out.get(key, 0))
        prev = step.t
        log(f"replay {k + 1}/{len(replay.steps)} {step.t:%Y-%m-%dT%H:%M}: "
            f"{out.get('forecasts', 0)} new forecast(s), {out.get('verified', 0)} verified")
    replay.finish()
    out = poll()
    for key in totals:
        totals[key] += int(out.get(key, 0))
    return totals


__all__ = ["Replay", "Step", "run_replay"]
