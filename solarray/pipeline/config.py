"""Settings of one perception → analysis → forecast cycle (everything that is not a model)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from solarray.analysis.flare_index import FI_MIN_CLASS, FI_WEIGHTINGS
from solarray.analysis.regions import RegionConfig
from solarray.core.goes import parse_class


@dataclass
class CycleConfig:
    """Settings of one cycle; the Serve app reads them from the ingress ``user_config["cycle"]``."""

    threshold: float | None = None  # SPNet probability → mask; None: the model's tuned thresholds
    #: RegionConfig overrides. SPNet's AR masks are plage-filled blobs (each bipole already one
    #: component), so the cycle clusters with a smaller DBSCAN radius than the 80 Mm chosen on
    #: the truth's separate spot masks: 25 Mm, chosen on five independent 512² Suns (seeds
    #: 6000–6004; BENCHMARKS.md "What the service returns").
    region: dict[str, Any] = field(default_factory=lambda: {"ar_eps": "25 Mm"})
    classify: bool = True  # run the Hale/McIntosh classifiers
    fi_window_hours: float = 24.0
    fi_min_class: str = FI_MIN_CLASS  # flares ≥ this GOES class enter the flare index
    fi_weighting: str = "count"  # 'count' (SA-AI 2025: 100·N_X + 10·N_M + N_C) | 'magnitude'
    assign_deg: float = 5.0  # flare → region tolerance beyond the region's radius, deg
    max_regions: int = 64  # per-AR forecasts for at most this many regions (largest first)
    #: Without a magnetogram (:mod:`solarray.pipeline.degraded`): the full-disk probability from
    #: the ≥C1 flares of the flare history over this many past hours, when at least
    #: ``fallback_min_hours`` are covered; else ``climatology_p_m24`` (None: unknown).
    fallback_lookback_hours: float = 72.0
    fallback_min_hours: float = 24.0
    climatology_p_m24: float | None = None

    def __post_init__(self) -> None:
        if self.fi_weighting not in FI_WEIGHTINGS:
            raise ValueError(f"CycleConfig.fi_weighting must be one of {FI_WEIGHTINGS}, "
                             f"got {self.fi_weighting!r}")
        try:
            parse_class(self.fi_min_class)
        except ValueError as err:
            raise ValueError(f"CycleConfig.fi_min_class must be a GOES class such as 'C5.0', "
                             f"got {self.fi_min_class!r}") from err
        if not self.fi_window_hours > 0:
            raise ValueError(f"CycleConfig.fi_window_hours must be > 0, got {self.fi_window_hours}")
        if not 0 < self.fallback_min_hours <= self.fallback_lookback_hours:
            raise ValueError("CycleConfig: need 0 < fallback_min_hours ≤ fallback_lookback_hours, "
                             f"got {self.fallback_min_hours} and {self.fallback_lookback_hours}")
        if self.climatology_p_m24 is not None and not 0 <= self.climatology_p_m24 <= 1:
            raise ValueError("CycleConfig.climatology_p_m24 must be a probability in [0, 1], "
                             f"got {self.climatology_p_m24}")

    def region_config(self) -> RegionConfig:
        return RegionConfig(**self.region)


__all__ = ["CycleConfig"]
