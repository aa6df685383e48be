"""The benchmark protocol every learned model's benchmark follows.

* Every figure is mean ± std over ≥ 3 seeds (:func:`summarise`, :func:`format_pm`).
* The baseline is measured in the same run, seed for seed, and a model **beats** it only if
  mean − std of the per-seed difference is > 0 (:func:`compare`).
* Every run leaves a JSON record under ``docs/results/`` (the bookkeeping — git state, the
  record, Markdown tables — is :mod:`solarray.benchmarks.record`).

Pure functions over plain numbers: no git, no files.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

#: The protocol asks for at least this many seeds; fewer are reported with a note.
MIN_SEEDS = 3


def _value(v: Any) -> float | None:
    """One seed's value as a float, or None when missing (None, NaN, ±inf)."""
    if v is None:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"summarise: expected numbers or None, got {v!r}") from exc
    return f if math.isfinite(f) else None


def summarise(values: Sequence[float | None] | np.ndarray) -> dict[str, Any]:
    """Mean and sample std (ddof=1; 0.0 for one value) of per-seed values, skipping missing ones.

    Returns ``{"mean", "std", "n", "values"}``: ``n`` counts the finite values; ``values`` keeps
    every input in order as a float, None where missing, so ``values[i]`` stays with seed ``i``.
    Raises ``ValueError`` when there is no finite value.
    """
    vals = [_value(v) for v in np.asarray(values, dtype=object).ravel()]
    if not vals:
        raise ValueError("summarise: got an empty list of values (need at least one seed)")
    finite = np.array([v for v in vals if v is not None], dtype=np.float64)
    if finite.size == 0:
        raise ValueError(f"summarise: all {len(vals)} values are missing (None/NaN)")
    std = float(finite.std(ddof=1)) if finite.size > 1 else 0.0
    return {"mean": float(finite.mean()), "std": std, "n": int(finite.size), "values": vals}


def compare(
    model_values: Sequence[float | None] | np.ndarray,
    baseline_values: Sequence[float | None] | np.ndarray,
    higher_is_better: bool = True,
) -> dict[str, Any]:
    """Model against its baseline, paired seed by seed (``model_values[i]`` and
    ``baseline_values[i]`` come from the same seed in the same run).

    The per-seed difference is ``d = model − baseline`` (``baseline − model`` when lower is better,
    so d > 0 always means the model is better). ``beats`` is ``mean(d) − std(d) > 0``; a seed
    missing either value is left out of ``d``. With fewer than 2 paired seeds ``beats`` is False
    and ``note`` says why; with 2 the verdict stands but ``note`` recalls the protocol's ≥ 3.
    Returns ``{"model", "baseline", "difference", "beats", "higher_is_better"[, "note"]}`` with
    :func:`summarise` dicts.
    """
    m = [_value(v) for v in np.asarray(model_values, dtype=object).ravel()]
    b = [_value(v) for v in np.asarray(baseline_values, dtype=object).ravel()]
    if len(m) != len(b):
        raise ValueError(
            "compare: model and baseline must be paired by seed, got "
            f"{len(m)} model values and {len(b)} baseline values"
        )
    sign = 1.0 if higher_is_better else -1.0
    d = [None if x is None or y is None else sign * (x - y) for x, y in zip(m, b, strict=True)]
    if all(v is None for v in d):
        raise ValueError(
            f"compare: no seed has both a model and a baseline value ({len(d)} seeds given)"
        )
    out: dict[str, Any] = {
        "model": summarise(m),
        "baseline": summarise(b),
        "difference": summarise(d),
        "higher_is_better": bool(higher_is_better),
    }
    diff = out["difference"]
    if diff["n"] < 2:
        out["beats"] = False
        out["note"] = (
            f"only {diff['n']} paired seed: at least 2 are needed to judge "
            f"(the protocol asks for ≥ {MIN_SEEDS})"
        )
    else:
        out["beats"] = bool(diff["mean"] - diff["std"] > 0)
        if diff["n"] < MIN_SEEDS:
            out["note"] = f"only {diff['n']} paired seeds; the protocol asks for ≥ {MIN_SEEDS}"
    return out


def format_pm(summary: Mapping[str, Any], digits: int = 3) -> str:
    """``"0.812 ± 0.021"`` from a :func:`summarise` dict (``digits`` decimals). A single seed has
    no spread to show: ``"0.812 (n=1)"``."""
    mean = float(summary["mean"])
    if int(summary.get("n", 2)) < 2:
        return f"{mean:.{digits}f} (n=1)"
    return f"{mean:.{digits}f} ± {float(summary['std']):.{digits}f}"


__all__ = ["MIN_SEEDS", "compare", "format_pm", "summarise"]
