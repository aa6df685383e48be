"""Channel selection for translation as parallel Ray Tune trials (Lim 2021).

One trial per input combination — a grid over ``model_config.inputs`` run by
:func:`solarray.tune.runner.run_sweep` (parallel trials, each a Ray Train run of the generic loop;
``--resume`` continues an interrupted selection) — trains a Pix2Pix (Model A by default) from the
combination to every other candidate channel (``objective_config.pool``). Tune watches
``val_cc_mean`` (Pearson r in scaled units on validation batches; ASHA off unless ``asha``).
The ranking (:func:`solarray.translate.selection.rank_selection`) re-scores every checkpoint in
physical units on the disk.

:func:`run_greedy` is Lim 2021's greedy search: one sweep per round (round k's candidate sets
as parallel trials), the best set of a round carried into the next.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from solarray.core.atomic import write_json
from solarray.translate.selection import (
    PARAM,
    best_inputs,
    best_per_target,
    combinations_of,
    greedy_candidates,
    greedy_table,
    rank_selection,
)
from solarray.tune.experiment import TuneRun
from solarray.tune.runner import run_sweep
from solarray.tune.space import Sweep, parse_sweep


@dataclass
class SelectionSettings:
    """What every trial trains (tiny presets for CPU)."""

    candidates: tuple[str, ...]
    inputs_max: int = 3
    model: str = "pix2pix"
    preset: str = "tiny"
    model_config: dict = field(default_factory=dict)
    gan_weight: float = 0.0
    steps: int = 300
    batch_size: int = 8
    lr: float = 1e-3
    report_every: int = 50
    val_batches: int = 4
    asha: bool = False
    trial_workers: int = 1
    cpus_per_worker: float = 1.0
    name: str = "translate_select"
    combos: tuple[tuple[str, ...], ...] = ()  # the input sets to try; () → every combination

    def sweep(self) -> Sweep:
        combos = ([list(c) for c in self.combos] if self.combos
                  else combinations_of(self.candidates, self.inputs_max))
        base = {"model_config": {"preset": self.preset, **self.model_config},
                "objective_config": {"gan_weight": self.gan_weight,
                                     "pool": list(self.candidates)},
                "steps": self.steps, "batch_size": self.batch_size, "lr": self.lr,
                "betas": [0.5, 0.999], "weight_decay": 0.0, "warmup_steps": 0,
                "min_lr_ratio": 1.0, "grad_clip": 0.0, "report_every": self.report_every,
                "checkpoint_every": self.steps, "num_to_keep": 1,
                "val_batches": self.val_batches, "torch_threads": 1}
        return parse_sweep({
            "name": self.name, "model": self.model, "objective": "pix2pix",
            "description": "translation channel selection (Lim 2021)",
            "metric": "val_cc_mean", "mode": "max", "samples": 1,
            "space": {PARAM: {"grid": combos}}, "base": base,
            "asha": {"grace_period": max(1, self.steps // 4) if self.asha else self.steps,
                     "reduction_factor": 2},
            "resources": {"trial_workers": self.trial_workers,
                          "cpus_per_worker": self.cpus_per_worker, "use_gpu": False},
        }, source=f"translate select ({', '.join(self.candidates)})")


def run_selection(settings: SelectionSettings, run: TuneRun, train_ds, val_ds,
                  channels: Sequence[str], images: np.ndarray,
                  log: Callable[[str], None] = print, tune_callbacks: Sequence[Any] = ()):
    """Run (or resume) the selection sweep and rank it; writes ``selection.csv``/``.json`` next
    to the sweep's results. → ``(ranking DataFrame, SweepOutcome)``."""
    missing = [c for c in settings.candidates if c not in channels]
    if missing:
        raise ValueError(f"the data lacks candidate channel(s) {missing} (it holds "
                         f"{list(channels)})")
    outcome = run_sweep(settings.sweep(), run, train_ds, val_ds, channels, log=log,
                        tune_callbacks=tune_callbacks)
    table = rank_selection(outcome.table, outcome.resolved.sweep.metric, images, channels)
    out: Path = outcome.resolved.results_dir
    table.to_csv(out / "selection.csv", index=False)
    write_json(out / "selection.json", {"candidates": list(settings.candidates),
                                        "ranking": table.to_dict(orient="records")}, indent=1)
    return table, outcome


def run_greedy(settings: SelectionSettings, run: TuneRun, train_ds, val_ds,
               channels: Sequence[str], images: np.ndarray, rounds: int = 3,
               log: Callable[[str], None] = print, tune_callbacks: Sequence[Any] = ()):
    """Lim 2021's greedy selection: round 1 ranks every single candidate, round k every
    candidate added to round k − 1's best set, each round one sweep ``<name>_r<k>`` of parallel
    trials (resumable like any sweep). Writes ``greedy.json`` (the path, the best set per
    target, every round's ranking) under the storage path. → the ranked round tables."""
    if rounds < 1:
        raise ValueError(f"greedy rounds must be >= 1, got {rounds}")
    # the last round must leave a channel to predict: check before any trial runs
    greedy_candidates(settings.candidates, settings.candidates[:rounds - 1])
    chosen: list[str] = []
    tables = []
    for k in range(1, rounds + 1):
        combos = tuple(tuple(c) for c in greedy_candidates(settings.candidates, chosen))
        name = f"{run.name or settings.name}_r{k}"
        log(f"Greedy round {k}: {len(combos)} input set(s) "
            f"{'+'.join(chosen) + ' + one more' if chosen else '(single inputs)'}")
        table, _ = run_selection(replace(settings, combos=combos, name=name),
                                 replace(run, name=name), train_ds, val_ds, channels, images,
                                 log=log, tune_callbacks=tune_callbacks)
        tables.append(table)
        chosen = best_inputs(table)
        log(f"Greedy round {k}: best {'+'.join(chosen)} (avg CC "
            f"{table['cc_mean'].max():.3f})")
    write_json(Path(run.storage_path) / f"{run.name or settings.name}_greedy.json",
               {"candidates": list(settings.candidates), "path": greedy_table(tables),
                "best_per_target": best_per_target(tables),
                "rounds": [t.to_dict(orient="records") for t in tables]}, indent=1)
    return tables


__all__ = ["SelectionSettings", "run_greedy", "run_selection"]
