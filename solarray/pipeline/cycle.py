"""One perception → analysis → forecast cycle on one sample, with timings per stage (no Ray).

The three stages are separate functions (:func:`~solarray.pipeline.perception.perceive`,
:func:`~solarray.pipeline.analysis_stage.analyse`, :func:`~solarray.pipeline.forecast_stage.forecast`)
because the Serve app runs each in its own deployment (SPNet and FPNet batched over requests);
:func:`run_cycle` chains them in one process (``solarray demo``, batch forecasting, tests).
An observation missing inputs is forecast degraded (:mod:`~solarray.pipeline.degraded` decides
which stages run and the full-disk fallback), never refused.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from solarray.pipeline.analysis_stage import Analysis, analyse
from solarray.pipeline.config import CycleConfig
from solarray.pipeline.degraded import InputStatus, assess
from solarray.pipeline.flare_history import FlareHistory
from solarray.pipeline.forecast_stage import Forecast, fallback_forecast, forecast
from solarray.pipeline.map_view import map_inputs
from solarray.pipeline.model_set import UNTRAINED, ModelSet
from solarray.pipeline.perception import Perception, empty_perception, perceive
from solarray.pipeline.response import build_response, new_id
from solarray.pipeline.sample import Sample
from solarray.viz.forecast_map import MapInputs


@dataclass
class CycleResult:
    """The outcome of one cycle; :meth:`to_json` is the API response."""

    id: str
    sample: Sample
    perception: Perception
    analysis: Analysis
    forecast: Forecast
    versions: dict[str, str]
    timings: dict[str, float]
    warnings: list[str] = field(default_factory=list)
    cpu: dict[str, float] = field(default_factory=dict)  # process CPU seconds per stage
    inputs: InputStatus = field(default_factory=InputStatus)  # degraded or not

    @property
    def untrained(self) -> bool:
        return any(UNTRAINED in v for v in self.versions.values())

    def to_json(self) -> dict[str, Any]:
        return build_response(self.id, self.sample, self.analysis, self.forecast, self.versions,
                              self.timings, self.warnings, self.inputs)

    def map_inputs(self) -> MapInputs:
        return map_inputs(self.sample, self.perception, self.analysis, self.forecast,
                          self.untrained, self.inputs)


def stage_channels(models: ModelSet) -> dict[str, tuple[str, ...]]:
    """The input channels of each stage's loaded models: ``{"perception": SPNet's,
    "forecast": both FPNets'}`` (what :func:`~solarray.pipeline.degraded.assess` weighs an
    observation against)."""
    def channels(roles) -> tuple[str, ...]:
        out: list[str] = []
        for role in roles:
            cfg = getattr(models.optional(role), "config", None)
            out += [c for c in getattr(cfg, "channels", ()) or () if c not in out]
        return tuple(out)

    return {"perception": channels(("spnet",)),
            "forecast": channels(("fpnet_full_disk", "fpnet_ar"))}


def run_cycle(sample: Sample, models: ModelSet, config: CycleConfig | None = None, *,
              history: FlareHistory | None = None, result_id: str | None = None,
              crop_batch: int | None = None) -> CycleResult:
    """Perception → analysis → forecast on one sample with ``models``; wall-clock timings per
    stage in seconds (and the process CPU seconds in ``result.cpu``: on a shared machine the wall
    clock mostly waits). ``crop_batch``: per-AR FPNet crops per forward (None: all in one)."""
    config = config or CycleConfig()
    timings: dict[str, float] = {}
    cpu: dict[str, float] = {}
    status = assess(sample.present_channels, stage_channels(models))
    t0, c0 = time.perf_counter(), time.process_time()
    perception = perceive(models.get("spnet"), [sample], config.threshold)[0] \
        if status.perceive else empty_perception(sample)
    t1, c1 = time.perf_counter(), time.process_time()
    timings["perception"], cpu["perception"] = t1 - t0, c1 - c0
    analysis = analyse(sample, perception, hale=models.optional("hale"),
                       mcintosh=models.optional("mcintosh"), history=history, config=config,
                       fallback=not status.models_forecast)
    t2, c2 = time.perf_counter(), time.process_time()
    timings["analysis"], cpu["analysis"] = t2 - t1, c2 - c1
    fc = forecast(models.optional("fpnet_full_disk"), models.optional("fpnet_ar"), [sample],
                  [analysis], config.max_regions, crop_batch)[0] \
        if status.models_forecast else fallback_forecast(analysis)
    t3, c3 = time.perf_counter(), time.process_time()
    timings["forecast"], cpu["forecast"] = t3 - t2, c3 - c2
    timings["total"], cpu["total"] = t3 - t0, c3 - c0
    warn = [f"model {r} not loaded: {e}" for r, e in models.errors().items()]
    return CycleResult(result_id or new_id(), sample, perception, analysis, fc, models.versions(),
                       timings, warn, cpu, status)


__all__ = ["CycleResult", "run_cycle", "stage_channels"]
