"""Batch forecasting: the perception → analysis → forecast cycle over an ingested shard directory.

::

    results = forecast_shards("data/shards", load_models(), history=FlareHistory.load(xrs=...),
                              last=24)
    paths = write_results(results, "out/cycle")   # forecasts.jsonl, regions.csv, disk.csv

Each sample goes through exactly what the service runs for ``POST /v1/forecast`` with a dataset
sample (:func:`~solarray.pipeline.inputs.sample_from_row` → :func:`~solarray.pipeline.cycle.
run_cycle`), one at a time, oldest first, each shard read once in small row batches, so a batch
can be as long as the archive.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

import pandas as pd

from solarray.core.atomic import atomic_path
from solarray.data.shard_reader import iter_rows
from solarray.data.shard_reader import sample_ids as shard_ids
from solarray.pipeline.config import CycleConfig
from solarray.pipeline.cycle import CycleResult, run_cycle
from solarray.pipeline.flare_history import FlareHistory
from solarray.pipeline.inputs import InputConfig, sample_from_row
from solarray.pipeline.model_set import ModelSet


def forecast_shards(shards: str | os.PathLike, models: ModelSet, *,
                    history: FlareHistory | None = None, config: CycleConfig | None = None,
                    sample_ids: Sequence[str] | None = None, last: int | None = None,
                    progress: Callable[[int, int, CycleResult], None] | None = None
                    ) -> Iterator[CycleResult]:
    """Run the cycle on ``sample_ids`` (default: every sample; ``last``: only the newest ``last``)
    of ``shards``, yielding one :class:`CycleResult` per sample, oldest first, on the shards' own
    grid. ``progress(i, n, result)`` is called after each sample.
    """
    shards = Path(shards).expanduser().resolve()
    stored = shard_ids(shards)
    ids = stored if sample_ids is None else sorted(sample_ids)
    missing = sorted(set(ids) - set(stored))
    if missing:
        raise KeyError(f"{shards}: no sample(s) {', '.join(missing[:5])}")
    if last is not None:
        if last <= 0:
            raise ValueError(f"last must be a positive number of samples, got {last}")
        ids = ids[-last:]
    inputs = InputConfig(dataset_roots=(str(shards),))
    for i, row in enumerate(iter_rows(shards, ids)):
        result = run_cycle(sample_from_row(row, inputs, shards), models, config, history=history)
        if progress is not None:
            progress(i + 1, len(ids), result)
        yield result


def region_rows(response: dict) -> list[dict]:
    """One row per region of a forecast response, with the observation's time and sample id."""
    return [{"sample_id": response["sample_id"], "observation_time": response["observation_time"],
             **{k: v for k, v in r.items() if not isinstance(v, list | dict)}}
            for r in response["regions"]]


def disk_row(response: dict) -> dict:
    """The full-disk row of a forecast response (probabilities, flare index, counts)."""
    return {"sample_id": response["sample_id"], "observation_time": response["observation_time"],
            "n_regions": len(response["regions"]), **response["full_disk"]}


def write_results(results: Iterable[CycleResult], out_dir: str | os.PathLike) -> dict[str, Path]:
    """Write ``forecasts.jsonl`` (one API response per line), ``regions.csv`` and ``disk.csv``
    into ``out_dir``, each atomically once the batch is done; returns the paths."""
    out = Path(out_dir)
    responses = [r.to_json() for r in results]
    paths = {"forecasts": out / "forecasts.jsonl", "regions": out / "regions.csv",
             "disk": out / "disk.csv"}
    with atomic_path(paths["forecasts"]) as tmp:
        tmp.write_text("".join(json.dumps(r, default=str) + "\n" for r in responses))
    regions = pd.DataFrame([row for r in responses for row in region_rows(r)])
    with atomic_path(paths["regions"]) as tmp:
        regions.to_csv(tmp, index=False)
    with atomic_path(paths["disk"]) as tmp:
        pd.DataFrame([disk_row(r) for r in responses]).to_csv(tmp, index=False)
    return paths


__all__ = ["disk_row", "forecast_shards", "region_rows", "write_results"]
