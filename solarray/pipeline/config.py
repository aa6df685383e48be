"""Settings of one perception → analysis → forecast cycle (everything that is not a model)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from solarray.analysis.regions import RegionConfig


@dataclass
class CycleConfig:
    """Settings of one cycle; the Serve app reads them from the ingress ``user_config["cycle"]``."""

    threshold: float = 0.5  # SPNet probability → mask
    region: dict[str, Any] = field(default_factory=dict)  # RegionConfig overrides
    classify: bool = True  # run the Hale/McIntosh classifiers
    fi_window_hours: float = 24.0
    assign_deg: float = 5.0  # flare → region tolerance beyond the region's radius, deg
    max_regions: int = 64  # per-AR forecasts for at most this many regions (largest first)

    def region_config(self) -> RegionConfig:
        return RegionConfig(**self.region)


__all__ = ["CycleConfig"]
