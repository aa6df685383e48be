"""``solarray verify --store``: outcomes and running scores of a ``solarray watch`` forecast store."""

from __future__ import annotations

import argparse
import json
import os

from solarray.core.atomic import atomic_path
from solarray.core.errors import UsageError
from solarray.live.ccmc import ccmc_rows
from solarray.live.outcomes import verify_pending
from solarray.live.scores import update_scores
from solarray.live.store import ForecastStore, StoreError
from solarray.metrics.verification.report import format_table
from solarray.pipeline.flare_history import FlareHistory, FlareSourceError


def _rows(scores: dict) -> tuple[dict[str, dict], dict[str, str]]:
    """Table rows, and the short names (v1, v2, ...) of the model versions when there are
    several (one version: its rows equal the ``all`` rows and are left out)."""
    rows, names = {}, {}
    for target in ("full_disk", "regions"):
        per = scores.get(target, {})
        several = len(per) > 2
        for version, windows in per.items():
            if version != "all" and not several:
                continue
            short = "" if version == "all" else names.setdefault(version, f"v{len(names) + 1}")
            for window, sc in windows.items():
                if sc.get("n"):
                    rows[f"{target} {window} n={sc['n']}" + (f" [{short}]" if short else "")] = sc
    return rows, names


def run_store(args: argparse.Namespace, threshold: float) -> int:
    if not os.path.isdir(args.store):
        raise UsageError(f"--store: no such directory: {args.store}")
    if any(d <= 0 for d in args.last_days):
        raise UsageError(f"--last-days must be positive, got {args.last_days}")
    store = ForecastStore(args.store)
    try:
        if args.goes:
            try:
                history = FlareHistory.load(xrs=args.goes)
            except (FlareSourceError, OSError, ValueError) as err:
                raise UsageError(f"--goes: {err}") from None
            verify_pending(store, history)
        scores = update_scores(store, last_days=tuple(args.last_days), threshold=threshold)
        forecasts = store.forecasts()
    except StoreError as err:
        raise UsageError(f"--store: {err}") from None
    if not len(forecasts):
        raise UsageError(f"--store: {args.store} holds no forecasts (run `solarray watch`)")
    if args.ccmc:
        with atomic_path(args.ccmc) as tmp:
            ccmc_rows(forecasts).to_csv(tmp, index=False)
    if args.json:
        print(json.dumps(scores, allow_nan=False, default=str))
        return 0
    n_out = len(store.outcomes())
    print(f"{args.store}: {len(forecasts)} forecasts, {n_out} with outcomes, "
          f"{len(forecasts) - n_out} pending; threshold {threshold:g}")
    rows, names = _rows(scores)
    print(format_table(rows) if rows else "no verified forecasts yet")
    for version, short in names.items():
        print(f"{short}: {version}")
    if args.ccmc:
        print(f"wrote {args.ccmc}")
    return 0
