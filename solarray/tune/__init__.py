"""Ray Tune sweeps over the generic training loop: sweep files (space), the Tuner (runner),
ranked results and best config (results), downstream-aware scoring (downstream)."""

from solarray.tune.space import (
    Sweep,
    SweepError,
    SweepUnavailable,
    check_available,
    load_sweep,
    parse_sweep,
    shipped_sweeps,
)

__all__ = ["Sweep", "SweepError", "SweepUnavailable", "check_available", "load_sweep",
           "parse_sweep", "shipped_sweeps"]
