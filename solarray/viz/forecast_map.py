"""The situational-awareness map of one forecast: its data (:class:`MapInputs`, kept by the service
for ``map.png``), its panels and the PNG, drawn by the one renderer
:mod:`solarray.viz.situational_map`. The pipeline fills :class:`MapInputs` from a cycle
(:func:`solarray.pipeline.map_view.map_inputs`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from solarray.viz.situational_map import DEFAULT_PANELS, situational_map_png

#: Background of a one-panel map when the sample has none of the default panels' channels.
_FALLBACK_ORDER = ("hmi_m", "aia193", "aia171", "aia304")


@dataclass
class MapInputs:
    """The map's data: the panels' scaled planes and the cycle's masks, regions and probability."""

    image: np.ndarray  # [P, H, W] scaled [-1, 1], the planes of ``channels``
    channels: tuple[str, ...]
    present: np.ndarray  # bool [P]
    panels: tuple[tuple[str, str], ...]  # (channel, title) per panel
    header: dict[str, Any]  # the sample's frame header (WCS, observer, FRAME)
    masks: np.ndarray  # uint8 [3, H, W]
    ars: list[dict[str, Any]]  # region rows with ``p_m24``
    t_obs: datetime
    full_disk: float | None
    untrained: bool
    degraded: str = ""  # what a degraded forecast lacks (a title line), "" when complete


def map_panels(channels: Sequence[str], present: Sequence[bool]) -> tuple[tuple[str, str], ...]:
    """SA-AI 2025's panels (HMI, 193 Å, 304 Å; missing ones drawn blank) when the sample has any of
    their channels, else one panel of its first present channel (HMI, 193, 171, 304 first)."""
    have = [c for c, p in zip(channels, present, strict=True) if p]
    if any(c in have for c, _ in DEFAULT_PANELS):
        return DEFAULT_PANELS
    ch = next(c for c in [*_FALLBACK_ORDER, *channels] if c in have)
    return ((ch, ch),)


def map_png(m: MapInputs, *, dpi: int = 100) -> bytes:
    """PNG bytes of the situational-awareness map of one forecast."""
    title = f"{m.t_obs:%Y-%m-%d %H:%M} UTC"
    if m.full_disk is not None:
        title += f"   P(≥M, 24 h) full disk: {100 * m.full_disk:.0f}%"
    if m.untrained:
        title += "\nUNTRAINED MODELS — not a forecast"
    if m.degraded:
        title += f"\n{m.degraded}"
    return situational_map_png(m.image, m.channels, m.masks, m.header, present=m.present,
                               regions=m.ars, title=title,
                               title_colour="red" if m.untrained or m.degraded else "black",
                               panels=m.panels, dpi=dpi)


__all__ = ["MapInputs", "map_panels", "map_png"]
