"""What every seed-protocol benchmark's runs share: the start of its config
(:class:`ProtocolConfig`: the benchmark Sun, the runs directory, the seeds) and one pretraining
run the way every benchmark makes it (:func:`pretrain_run`: the generic loop in-process on the
benchmark Sun's shards, time split, one checkpoint at the end)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from solarray.train.config import TrainConfig
from solarray.train.loop import pretrain


@dataclass
class ProtocolConfig:
    """The fields every benchmark config starts with; a benchmark redeclares ``runs_dir`` with
    its own default (``.cache/benchmark_runs/<benchmark>``)."""

    root: str = ".cache/benchmark_sun"
    runs_dir: str = ".cache/benchmark_runs"
    seeds: tuple[int, ...] = (0, 1, 2)


def pretrain_run(root: str, runs_dir: str, run_name: str, *, model: str, objective: str,
                 channels: tuple[str, ...], model_config: Mapping[str, Any], steps: int,
                 batch_size: int, lr: float, seed: int, warmup: int, reports: int,
                 objective_config: Mapping[str, Any] | None = None) -> tuple[Any, float]:
    """Train ``model`` with ``objective`` for ``steps`` (warm-up ``min(warmup, steps − 1)``,
    ``reports`` metric reports, one checkpoint) on ``root``'s shards; returns the loop's result
    and the wall seconds (the loop logs nothing: benchmarks log their own line).
    ``objective_config`` overrides the objective's fields (e.g. a SolarCHIP λ set to 0)."""
    tcfg = TrainConfig(
        model=model, objective=objective, channels=channels, model_config=dict(model_config),
        objective_config=dict(objective_config or {}),
        steps=steps, batch_size=batch_size, lr=lr, warmup_steps=min(warmup, steps - 1), seed=seed,
        checkpoint_every=steps, num_to_keep=1, report_every=max(1, steps // reports),
        num_workers=0, storage_path=str(Path(runs_dir).resolve()), run_name=run_name)
    t = time.perf_counter()
    res = pretrain(tcfg, Path(root) / "shards", split=True, log=lambda s: None)
    return res, time.perf_counter() - t


__all__ = ["ProtocolConfig", "pretrain_run"]
