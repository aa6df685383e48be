"""A small synthetic flare-forecasting set: several synthetic-Sun runs ingested into one shard dir.

Each run is an independent synthetic Sun (its own seed) of a few days at a given start time, so
runs placed in different calendar months give genuinely held-out months for
:func:`solarray.data.dataset.split_by_time` (default: January = test, March = validation)::

    root/synth/<run>/...      the generator's output (FITS, masks, tables) per run
    root/shards/              one ingest shard directory for all runs (images, masks, labels)
    root/runs.json            the run list (written last: the set is complete)

The per-AR feature table is then built from ``root/synth/*/tables`` by
:func:`solarray.forecast.features.synthetic_ar_table`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from solarray.core.atomic import write_text
from solarray.data import ingest as ing
from solarray.data import preprocess as pp
from solarray.data.synthetic.generator import SynthConfig, generate

RUNS_FILE = "runs.json"


@dataclass(frozen=True)
class SynthRun:
    """One synthetic-Sun run: ``start`` (UTC ISO), ``days`` long, ``seed``, ``activity`` (number
    of regions and emergence rate; 1 ≈ solar maximum)."""

    start: str
    days: float
    seed: int
    activity: float = 1.0


def default_runs(days: float = 4.0) -> list[SynthRun]:
    """Two runs each in Jan (test), Mar (validation), Feb/Apr/May (training), mid-month so the
    24-h gap of the time split drops nothing."""
    runs = []
    for k, month in enumerate((1, 1, 2, 2, 3, 3, 4, 4, 5, 5)):
        day = 4 if k % 2 == 0 else 17
        runs.append(SynthRun(f"2024-{month:02d}-{day:02d}T00:00", days, 100 + k))
    return runs


def run_dirs(root: str | os.PathLike) -> list[Path]:
    """The per-run generator output directories of a complete set, in run order."""
    root = Path(root)
    spec = json.loads((root / RUNS_FILE).read_text())
    return [root / "synth" / r["name"] for r in spec["runs"]]


def is_complete(root: str | os.PathLike) -> bool:
    return (Path(root) / RUNS_FILE).exists()


def make_synthetic_set(
    root: str | os.PathLike,
    runs: Sequence[SynthRun] | None = None,
    *,
    size: int = 128,
    cadence_minutes: float = 120.0,
    channels: Sequence[str] = ("aia304", "hmi_m"),
    ingest_workers: int = 1,
    log: Callable[[str], None] = print,
) -> Path:
    """Generate and ingest ``runs`` under ``root`` (skips when ``root/runs.json`` records the
    same set; a set made with other runs, size, cadence or channels raises ``ValueError``; a
    half-finished run is regenerated, ingest resumes). Needs Ray (ingest uses Ray Data).

    Shards: images ``size``² of ``channels`` (SA-AI 2025: HMI magnetogram + AIA 304 Å), the truth
    masks, ``flare_class_24h`` from the run's events and daily F10.7/F30.
    """
    root = Path(root)
    runs = list(runs or default_runs())
    names = [f"run{k:02d}_{run.start[:10]}_s{run.seed}" for k, run in enumerate(runs)]
    spec = {"size": size, "cadence_minutes": cadence_minutes, "channels": list(channels),
            "runs": [dict(asdict(r), name=n) for r, n in zip(runs, names, strict=True)]}
    if is_complete(root):
        made = json.loads((root / RUNS_FILE).read_text())
        if made != spec:
            differ = sorted(k for k in spec if made.get(k) != spec[k])
            raise ValueError(f"{root / RUNS_FILE}: this set was made with other "
                             f"{', '.join(differ)} than asked for; remove {root} to rebuild it, "
                             f"or choose another directory")
        return root
    shards = root / "shards"
    for run, name in zip(runs, names, strict=True):
        out = root / "synth" / name
        if not (out / "synth.json").exists():
            log(f"[synthset] generating {name} ({run.days:g} days, {cadence_minutes:g} min)")
            generate(SynthConfig(start=run.start, hours=24.0 * run.days,
                                 cadence_minutes=cadence_minutes, size=size, seed=run.seed,
                                 channels=tuple(channels), activity=run.activity,
                                 preview=False), out)
        cfg = ing.IngestConfig(
            input=str(out / "fits"), out_dir=str(shards), channels=tuple(channels),
            preprocess=pp.PreprocessConfig(size=size), cadence_minutes=cadence_minutes,
            masks_dir=str(out / "masks"), tables_dir=str(out / "tables"),
            num_workers=ingest_workers, shard_size=64,
        )
        log(f"[synthset] ingesting {name}")
        ing.run_ingest(cfg, log=lambda s: None)
    write_text(root / RUNS_FILE, json.dumps(spec, indent=2))
    return root
