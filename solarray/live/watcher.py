"""The live loop: each new complete observation → the service's cycle → the forecast store, and
every forecast whose 24-h window the GOES data now cover → its outcome and the running scores.

:class:`Watcher` is plain Python (no Ray): :meth:`Watcher.poll_once` does one round and
:meth:`Watcher.run` repeats it every ``every_s`` seconds. ``solarray watch`` runs it inside a Ray
actor (:mod:`solarray.live.actor`). It is restart-safe by construction: everything it knows is in
the store (a time is forecast only when the store lacks it; each forecast is one atomic file), so a
watcher killed at any point and started again resumes where it stopped and never forecasts a time
twice.

A set still missing a channel the models read ``grace_s`` after its newest file landed (default:
one cadence step, when the next observation is due) is not waited for any longer: it is forecast
from the channels present, marked degraded (:mod:`solarray.pipeline.degraded`), and the log says
which channels were missing. A file that lands after that does not replace the stored forecast.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from solarray.core.checkpoints import default_checkpoint_dir
from solarray.core.frame import DEFAULT_GRID
from solarray.live.discover import Discovery, InputSet, read_bytes
from solarray.live.outcomes import verify_pending
from solarray.live.scores import update_scores
from solarray.live.store import ForecastStore, StoreError
from solarray.pipeline.config import CycleConfig
from solarray.pipeline.cycle import run_cycle
from solarray.pipeline.flare_history import FlareHistory, FlareSourceError
from solarray.pipeline.inputs import InputConfig, InputError, sample_from_fits
from solarray.pipeline.model_set import ModelSet, load_models


@dataclass
class WatchConfig:
    """What the watcher reads and writes. ``goes``: a GOES XRS file or a synthetic-Sun ``tables/``
    directory (``xrs.parquet`` + located ``events.parquet``), re-read every poll; ``None``: no
    verification and an unknown flare index."""

    input: str
    store: str
    goes: str | None = None
    every_s: float = 720.0  # poll period (the 12-min AIA/HMI cadence)
    cadence_minutes: float = 12.0  # the observation grid a set is grouped onto
    tolerance_minutes: float = 6.0
    settle_s: float = 2.0  # a file must be this old and unchanged over one poll
    #: an incomplete set is forecast degraded this long after its newest file landed (None: one
    #: cadence step, ``cadence_minutes``)
    grace_s: float | None = None
    size: int = DEFAULT_GRID
    checkpoint_dir: str | None = None
    cycle: dict = field(default_factory=dict)  # CycleConfig fields

    def __post_init__(self) -> None:
        if self.every_s <= 0 or self.cadence_minutes <= 0:
            raise ValueError("every_s and cadence_minutes must be > 0")
        if self.grace_s is not None and self.grace_s < 0:
            raise ValueError(f"grace_s must be ≥ 0 seconds, got {self.grace_s}")

    @property
    def grace(self) -> float:
        """Seconds an incomplete set is waited for before it is forecast degraded."""
        return self.cadence_minutes * 60.0 if self.grace_s is None else float(self.grace_s)


def model_channels(models: ModelSet) -> tuple[str, ...]:
    """The input channels the loaded models read (SPNet's, then FPNet's)."""
    out: list[str] = []
    for role in ("spnet", "fpnet_full_disk", "fpnet_ar"):
        model = models.optional(role)
        for c in getattr(getattr(model, "config", None), "channels", ()) or ():
            if c not in out:
                out.append(c)
    return tuple(out)


class Watcher:
    """One live forecaster over ``config.input`` writing ``config.store``."""

    def __init__(self, config: WatchConfig, models: ModelSet | None = None,
                 log: Callable[[str], None] = print) -> None:
        self.config = config
        self.log = log
        self.store = ForecastStore(config.store)
        ckpt = Path(config.checkpoint_dir).expanduser() if config.checkpoint_dir \
            else default_checkpoint_dir()
        self.models = models or load_models(checkpoint_dir=ckpt)
        for role in self.models.untrained:
            log(f"WARNING model {role} is UNTRAINED (no checkpoint in {ckpt})")
        self.channels = model_channels(self.models)
        self.inputs = InputConfig(size=config.size, accepted=self.channels)
        self.cycle = CycleConfig(**config.cycle)
        self.discovery = Discovery(config.input, self.channels, config.cadence_minutes,
                                   config.tolerance_minutes, config.settle_s)
        self.given_up: set[str] = set()

    def history(self) -> FlareHistory:
        if not self.config.goes:
            return FlareHistory()
        try:
            return FlareHistory.load(xrs=self.config.goes)
        except (FlareSourceError, OSError, ValueError) as err:  # mid-update: try next poll
            self.log(f"GOES source not readable yet ({err}); flare history unknown this poll")
            return FlareHistory()

    def forecast_set(self, s: InputSet, history: FlareHistory) -> bool:
        """Forecast one set and store it (read, decode, preprocess, cycle; the stored
        response's ``timings_s`` has each stage); an incomplete set is forecast degraded. False
        when the set is refused (recorded as skipped) or another watcher stored that time
        first."""
        t0 = time.perf_counter()
        files = [(os.path.basename(s.files[ch]), read_bytes(s.files[ch]))
                 for ch in self.channels if ch in s.files]
        t_read = time.perf_counter() - t0
        try:
            sample = sample_from_fits(files, self.inputs)
        except InputError as err:
            for path in s.files.values():
                self.store.record_skipped(path, f"set {s.t_ref:%Y-%m-%dT%H:%M:%S}: {err}")
            self.given_up.add(s.t_ref.isoformat())
            self.log(f"skipped {s.t_ref:%Y-%m-%dT%H:%M:%S}: {err}")
            return False
        del files
        t1 = time.perf_counter()
        result = run_cycle(sample, self.models, self.cycle, history=history)
        # the stored response says where the time went: read, decode, preprocess, cycle stages
        result.timings = {"read": t_read, **(sample.source.get("timings") or {}),
                          "input": t1 - t0, **result.timings, "cycle": result.timings["total"],
                          "total": time.perf_counter() - t0}
        response = result.to_json()
        try:
            self.store.add_forecast(response, list(s.files.values()),
                                    latency_s=max(0.0, time.time() - s.landed))
        except StoreError:  # another watcher stored it first: nothing to do
            return False
        p = response["full_disk"].get("p_m24")
        self.log(f"forecast {response['observation_time']}: {len(response['regions'])} regions, "
                 f"P(≥M, 24 h, disk) = {'n/a' if p is None else f'{p:.2f}'}"
                 + (f" — DEGRADED: no {', '.join(response['missing'])} "
                    f"{self.config.grace:.0f} s after the set's newest file landed"
                    + (f"; full disk from the {response['fallback']} fallback, no region "
                       "forecasts" if response.get("fallback") else "")
                    if response.get("degraded") else ""))
        return True

    def poll_once(self, now: float | None = None) -> dict[str, Any]:
        """One round: forecast new complete sets (oldest first), record rejects and sets given
        up, verify what the GOES data now cover, refresh the scores."""
        now = time.time() if now is None else now
        sets, rejects = self.discovery.poll(now)
        for r in rejects:
            if r.reason and not r.reason.startswith("duplicate"):
                self.store.record_skipped(r.path, r.reason)
        history = self.history()
        new = 0
        for s in sets:
            if self.store.has_forecast(s.t_ref) or s.t_ref.isoformat() in self.given_up:
                continue
            if not s.complete and now - s.landed <= self.config.grace:
                continue  # within the grace period: the missing files may still land
            new += self.forecast_set(s, history)
        verified = verify_pending(self.store, history, log=self.log)
        if verified or new:
            update_scores(self.store)
        return {"forecasts": new, "verified": verified, "sets": len(sets),
                "rejected": len(rejects)}

    def run(self, should_stop: Callable[[], bool] = lambda: False,
            max_polls: int | None = None) -> int:
        """Poll every ``every_s`` seconds until ``should_stop()`` (or ``max_polls``); returns the
        number of forecasts issued."""
        issued, polls = 0, 0
        while not should_stop() and (max_polls is None or polls < max_polls):
            t0 = time.monotonic()
            issued += self.poll_once()["forecasts"]
            polls += 1
            while not should_stop() and time.monotonic() - t0 < self.config.every_s:
                time.sleep(min(0.2, self.config.every_s))
        return issued


__all__ = ["WatchConfig", "Watcher", "model_channels"]
