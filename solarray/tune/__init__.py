"""Ray Tune sweeps over the generic training loop: sweep files (space), one trial's config and the
checks before any trial runs (trials), the experiment's settings and layout (experiment), the Tuner
(runner, callbacks), ranked results and best config (results), downstream-aware scoring
(downstream). Importing the package or :mod:`solarray.tune.space` needs neither Ray nor torch."""

from solarray.tune.space import (
    Sweep,
    SweepError,
    SweepUnavailable,
    load_sweep,
    parse_sweep,
    shipped_sweeps,
)

__all__ = ["Sweep", "SweepError", "SweepUnavailable", "load_sweep", "parse_sweep", "shipped_sweeps"]
