"""What a sweep experiment runs: the command-line settings (:class:`TuneRun`), the sweep with
those settings applied (:class:`Resolved`), and the experiment directory's layout::

    storage_path/name/
        tuner.pkl, experiment_state-*.json, <trial dirs>   Tune's own files
        sweep.json                                         the sweep + settings (SWEEP_FILE)
        train/<trial_id>/checkpoint_*                      each trial's Ray Train run (TRAIN_DIR)
        results/                                           table, plot, best config (RESULTS_DIR)
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from solarray.tune.space import SCORES, Sweep

TRAIN_DIR = "train"
RESULTS_DIR = "results"
SWEEP_FILE = "sweep.json"


@dataclass
class TuneRun:
    """How to run a sweep (the command-line side; the sweep file says what to search)."""

    name: str | None = None  # experiment name; default the sweep's name
    storage_path: str = "ray_results"
    samples: int | None = None  # default: the sweep's samples
    steps: int | None = None  # default: the sweep's base steps (also ASHA's max_t)
    trial_workers: int | None = None
    cpus_per_worker: float | None = None
    use_gpu: bool | None = None
    max_concurrent: int = 1
    resume: bool = False
    score: str | None = None  # "metric" | "downstream"; default the sweep's
    verbose: int = 1

    def __post_init__(self) -> None:
        self.storage_path = os.path.abspath(os.path.expanduser(str(self.storage_path)))
        for name, low in (("samples", 1), ("steps", 1), ("trial_workers", 1),
                          ("max_concurrent", 1)):
            v = getattr(self, name)
            if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < low):
                raise ValueError(f"TuneRun.{name} must be an integer >= {low}, got {v!r}")
        if self.cpus_per_worker is not None and self.cpus_per_worker <= 0:
            raise ValueError(f"TuneRun.cpus_per_worker must be > 0, got {self.cpus_per_worker}")
        if self.score is not None and self.score not in SCORES:
            raise ValueError(f"TuneRun.score must be one of {', '.join(SCORES)}, got {self.score!r}")
        if self.name is not None and (not self.name or os.sep in self.name):
            raise ValueError(f"TuneRun.name must be a plain name, got {self.name!r}")


@dataclass
class Resolved:
    """A sweep with the command-line settings applied: what the experiment actually runs."""

    sweep: Sweep
    name: str
    experiment_dir: Path
    samples: int
    steps: int
    trial_workers: int
    cpus_per_worker: float
    use_gpu: bool
    max_concurrent: int
    score: str

    @property
    def train_root(self) -> Path:
        return self.experiment_dir / TRAIN_DIR

    @property
    def results_dir(self) -> Path:
        return self.experiment_dir / RESULTS_DIR

    def runner_overrides(self, channels: Sequence[str]) -> dict[str, Any]:
        """TrainConfig keys set by the runner for every trial (run name/storage come per trial)."""
        return {"steps": self.steps, "channels": tuple(channels),
                "num_workers": self.trial_workers, "cpus_per_worker": self.cpus_per_worker,
                "use_gpu": self.use_gpu}

    def signature(self) -> dict[str, Any]:
        """What must match for ``--resume`` to continue this experiment."""
        return {"sweep": self.sweep.to_dict(), "samples": self.samples, "steps": self.steps,
                "trial_workers": self.trial_workers, "cpus_per_worker": self.cpus_per_worker,
                "use_gpu": self.use_gpu}


def resolve(sweep: Sweep, run: TuneRun) -> Resolved:
    """``sweep`` with ``run``'s settings applied (each unset setting from the sweep file)."""
    res = sweep.resources
    name = run.name or sweep.name
    return Resolved(
        sweep=sweep, name=name, experiment_dir=Path(run.storage_path) / name,
        samples=run.samples or sweep.samples, steps=run.steps or sweep.steps,
        trial_workers=res.trial_workers if run.trial_workers is None else run.trial_workers,
        cpus_per_worker=run.cpus_per_worker or res.cpus_per_worker,
        use_gpu=res.use_gpu if run.use_gpu is None else bool(run.use_gpu),
        max_concurrent=run.max_concurrent, score=run.score or sweep.score,
    )


def expected_trials(sweep: Sweep, samples: int) -> int:
    """Trials a complete sweep has: ``samples`` × the product of the grid sizes."""
    n = samples
    for p in sweep.space:
        if p.kind == "grid":
            n *= len(p.args)
    return n


__all__ = ["RESULTS_DIR", "SWEEP_FILE", "TRAIN_DIR", "Resolved", "TuneRun", "expected_trials",
           "resolve"]
