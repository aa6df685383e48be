"""The situational-awareness map's data from one cycle (kept by the service for ``map.png``); the
map itself is drawn by :func:`solarray.viz.forecast_map.map_png`."""

from __future__ import annotations

from solarray.pipeline.analysis_stage import Analysis
from solarray.pipeline.degraded import InputStatus
from solarray.pipeline.forecast_stage import Forecast
from solarray.pipeline.perception import Perception
from solarray.pipeline.sample import Sample
from solarray.viz.forecast_map import MapInputs, map_panels


def map_inputs(sample: Sample, perception: Perception, analysis: Analysis, fc: Forecast,
               untrained: bool, inputs: InputStatus | None = None) -> MapInputs:
    """The map's data from one cycle (only the panels' planes are kept); a degraded
    observation (``inputs``) names what is missing in the title."""
    panels = map_panels(sample.channels, sample.present)
    keep = [i for i, c in enumerate(sample.channels) if c in {c for c, _ in panels}]
    ars = [dict(r, p_m24=fc.regions.get(r["number"])) for r in analysis.ars]
    return MapInputs(sample.image[keep].copy(), tuple(sample.channels[i] for i in keep),
                     sample.present[keep].copy(), panels, dict(sample.header), perception.masks,
                     ars, sample.t_obs, fc.full_disk, untrained, _degraded_title(inputs, analysis))


def _degraded_title(inputs: InputStatus | None, analysis: Analysis) -> str:
    if inputs is None or not inputs.degraded:
        return ""
    text = f"DEGRADED: no {', '.join(inputs.missing)}"
    if analysis.fallback is not None:
        text += f"; full disk from the {analysis.fallback.method}, no region forecasts"
    return text


__all__ = ["map_inputs"]
