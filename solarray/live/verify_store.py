"""``solarray verify --store``: a ``solarray watch`` forecast store's outcomes verified against
GOES, its running scores updated, optionally its forecasts exported for the CCMC scoreboard."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

from solarray.core.atomic import atomic_path
from solarray.core.errors import UsageError
from solarray.live.ccmc import ccmc_rows
from solarray.live.outcomes import verify_pending
from solarray.live.scores import update_scores
from solarray.live.store import ForecastStore, StoreError
from solarray.pipeline.flare_history import FlareHistory, FlareSourceError


@dataclass
class StoreVerification:
    """What :func:`verify_store` found: the running scores (``{target: {version: {window:
    scores}}}``) and the store's counts."""

    scores: dict
    n_forecasts: int
    n_outcomes: int


def verify_store(store_dir: str, threshold: float, last_days: Sequence[float] = (7.0, 30.0),
                 goes: str | None = None, ccmc: str | None = None) -> StoreVerification:
    """Verify the pending forecasts of the store in ``store_dir`` against the GOES XRS history
    ``goes`` (if given), update its running scores (since start and over ``last_days``) at
    ``threshold``, and write the forecasts in the CCMC scoreboard's fields to ``ccmc`` (if
    given). A missing or empty store, bad windows or an unreadable history are UsageErrors."""
    if not os.path.isdir(store_dir):
        raise UsageError(f"--store: no such directory: {store_dir}")
    if any(d <= 0 for d in last_days):
        raise UsageError(f"--last-days must be positive, got {list(last_days)}")
    store = ForecastStore(store_dir)
    try:
        if goes:
            try:
                history = FlareHistory.load(xrs=goes)
            except (FlareSourceError, OSError, ValueError) as err:
                raise UsageError(f"--goes: {err}") from None
            verify_pending(store, history)
        scores = update_scores(store, last_days=tuple(last_days), threshold=threshold)
        forecasts = store.forecasts()
    except StoreError as err:
        raise UsageError(f"--store: {err}") from None
    if not len(forecasts):
        raise UsageError(f"--store: {store_dir} holds no forecasts (run `solarray watch`)")
    if ccmc:
        with atomic_path(ccmc) as tmp:
            ccmc_rows(forecasts).to_csv(tmp, index=False)
    return StoreVerification(scores, len(forecasts), len(store.outcomes()))


def score_rows(scores: dict) -> tuple[dict[str, dict], dict[str, str]]:
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


__all__ = ["StoreVerification", "score_rows", "verify_store"]
