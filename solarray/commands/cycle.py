"""``solarray cycle``: the forecast cycle (SPNet → IATools → FPNet) over an ingested shard dir."""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path

from solarray.core.checkpoints import ROLE_FILES, default_checkpoint_dir
from solarray.core.errors import UsageError
from solarray.core.paths import require_dir, require_out_dir
from solarray.data.dataset import require_shards
from solarray.pipeline.batch import forecast_shards, write_results
from solarray.pipeline.flare_history import FlareHistory, FlareSourceError
from solarray.pipeline.inputs import InputError
from solarray.pipeline.model_set import load_models

NAME = "cycle"
HELP = ("batch forecasting: the perception → analysis → forecast cycle on every sample of a shard "
        "directory (regions, classes, P(≥M in 24 h))")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", required=True, help="directory of ingest's Parquet shards")
    p.add_argument("--out", required=True,
                   help="output directory: forecasts.jsonl, regions.csv, disk.csv")
    p.add_argument("--checkpoint-dir", default=None,
                   help="checkpoints per role (spnet.pt, fpnet_ar.pt, ...; default: where "
                        "`solarray demo` leaves them)")
    p.add_argument("--history", default=None,
                   help="flare history: a synthetic-Sun output or tables/ dir, or a GOES XRS file")
    p.add_argument("--events", default=None, help="located flare events table (with --history XRS)")
    p.add_argument("--indices", default=None, help="daily F10.7 table (date, f107)")
    p.add_argument("--last", type=int, default=None, help="only the newest N samples")


def run(args: argparse.Namespace) -> int:
    if args.last is not None and args.last <= 0:
        raise UsageError(f"--last must be a positive number of samples, got {args.last}")
    require_shards("--data", args.data)
    require_out_dir("--out", args.out)
    if args.checkpoint_dir:
        require_dir("--checkpoint-dir", os.path.expanduser(args.checkpoint_dir))
    try:
        history = FlareHistory.load(xrs=args.history, events=args.events, indices=args.indices)
    except (FlareSourceError, OSError, ValueError) as err:
        raise UsageError(f"--history: {err}") from None
    ckpt = Path(args.checkpoint_dir).expanduser() if args.checkpoint_dir \
        else default_checkpoint_dir()
    # The loader logs each fallback; this command reports them itself (one line or a WARNING).
    loader_log = logging.getLogger("solarray.serve")
    level = loader_log.level
    loader_log.setLevel(logging.CRITICAL)
    try:
        models = load_models(checkpoint_dir=ckpt)
    finally:
        loader_log.setLevel(level)
    for role, loaded in models.roles.items():  # a checkpoint that is there must be used
        path = ckpt / ROLE_FILES.get(role, f"{role}.pt")
        if path.is_file() and not loaded.trained:
            why = " ".join(str(loaded.fallback or loaded.error or "not loaded").split())[:200]
            raise UsageError(f"--checkpoint-dir: {path} is unreadable or not a {role} checkpoint "
                             f"({why}); replace it (e.g. re-run `solarray demo`) or remove it")
    for role in models.untrained:
        print(f"solarray cycle: WARNING model {role} is UNTRAINED (no checkpoint in {ckpt})")

    def progress(i: int, n: int, result) -> None:
        fc = result.forecast
        p = "n/a" if fc.full_disk is None else f"{fc.full_disk:.2f}"
        print(f"[{i}/{n}] {result.sample.sample_id}: {len(result.analysis.ars)} regions, "
              f"P(≥M, 24 h, disk) = {p}", flush=True)

    results = forecast_shards(args.data, models, history=history, last=args.last,
                              progress=progress)
    try:
        paths = write_results(results, args.out)
    except InputError as err:  # a sample the forecaster cannot use (e.g. no hmi_m)
        raise UsageError(f"--data: {err}") from None
    for name, path in paths.items():
        print(f"{name}: {path}")
    return 0
