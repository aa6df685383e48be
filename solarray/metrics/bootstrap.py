"""Bootstrap intervals over test samples, resampled in independent groups.

Forecasts of one region on successive observations (or of one day's observations) are not
independent, so the unit resampled is the group — a physical region for per-region scores, a day
for full-disk scores — drawn with replacement, every forecast of a drawn group kept (Efron &
Tibshirani 1993, the block bootstrap). :func:`interval` bounds one score; :func:`paired_interval`
bounds the difference of two forecasts' scores on the same resamples (the paired comparison:
"A beats B" when the whole interval lies above 0).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from solarray.metrics.verification.probabilistic import brier_skill_score, roc_auc

Score = Callable[[np.ndarray, np.ndarray], float | None]


def roca(y: np.ndarray, p: np.ndarray) -> float | None:
    """ROC area; None when ``y`` holds one class."""
    y = np.asarray(y)
    return None if len(np.unique(y)) < 2 else float(roc_auc(y, p))


def bss(y: np.ndarray, p: np.ndarray) -> float | None:
    """Brier skill score against the sample's own climatology; None when ``y`` holds one class."""
    y = np.asarray(y)
    return None if len(np.unique(y)) < 2 else float(brier_skill_score(y, p))


def tss(y: np.ndarray, p: np.ndarray) -> float | None:
    """True skill statistic (hit rate − false-alarm rate) of the yes/no forecasts ``p ≥ 0.5``;
    None when ``y`` holds one class."""
    y, yes = np.asarray(y).astype(bool), np.asarray(p, float) >= 0.5
    if y.all() or not y.any():
        return None
    return float(yes[y].mean() - yes[~y].mean())


#: Scores of probabilities (TSS, of yes/no forecasts, is apart: :func:`tss`).
SCORES: dict[str, Score] = {"roca": roca, "bss": bss}


def _draws(groups: Sequence, n_boot: int, seed: int) -> list[np.ndarray]:
    """Row indices of ``n_boot`` group resamples (groups drawn with replacement)."""
    codes, first = np.unique(np.asarray(groups, dtype=object).astype(str), return_inverse=True)
    members = [np.flatnonzero(first == k) for k in range(len(codes))]
    rng = np.random.default_rng(seed)
    return [np.concatenate([members[k] for k in rng.integers(0, len(codes), len(codes))])
            for _ in range(n_boot)]


def interval(score: Score, y: Sequence, p: Sequence, groups: Sequence, n_boot: int = 1000,
             seed: int = 0, level: float = 0.95) -> dict[str, float | None]:
    """``{"value", "lo", "hi", "n_groups"}``: ``score(y, p)`` and its percentile interval at
    ``level`` over group resamples (resamples where the score is undefined are skipped)."""
    y, p = np.asarray(y), np.asarray(p, float)
    vals = [score(y[i], p[i]) for i in _draws(groups, n_boot, seed)]
    vals = np.array([v for v in vals if v is not None], float)
    a = (1.0 - level) / 2.0
    lo, hi = (float(np.quantile(vals, a)), float(np.quantile(vals, 1 - a))) if len(vals) else \
        (None, None)
    return {"value": score(y, p), "lo": lo, "hi": hi, "n_groups": int(len(set(map(str, groups))))}


def _mean_score(score: Score, y: np.ndarray, p: np.ndarray) -> float | None:
    """``score(y, p)``, or its mean over the rows of a 2-D ``p`` (one forecast per seed)."""
    if p.ndim == 1:
        return score(y, p)
    vals = [score(y, row) for row in p]
    return None if any(v is None for v in vals) else float(np.mean(vals))


def paired_interval(score: Score, y: Sequence, p_a: Sequence, p_b: Sequence, groups: Sequence,
                    n_boot: int = 1000, seed: int = 0, level: float = 0.95) -> dict:
    """``score(y, p_a) − score(y, p_b)`` with its percentile interval over the same group
    resamples; ``beats`` when the interval lies above 0. A 2-D ``p_a``/``p_b`` (``[seeds, N]``)
    scores as the mean over its seeds."""
    y, pa, pb = np.asarray(y), np.asarray(p_a, float), np.asarray(p_b, float)
    diffs = []
    for i in _draws(groups, n_boot, seed):
        a, b = _mean_score(score, y[i], pa[..., i]), _mean_score(score, y[i], pb[..., i])
        if a is not None and b is not None:
            diffs.append(a - b)
    va, vb = _mean_score(score, y, pa), _mean_score(score, y, pb)
    a = (1.0 - level) / 2.0
    lo, hi = (float(np.quantile(diffs, a)), float(np.quantile(diffs, 1 - a))) if diffs else \
        (None, None)
    return {"difference": None if va is None or vb is None else va - vb, "lo": lo, "hi": hi,
            "beats": bool(lo is not None and lo > 0)}


__all__ = ["SCORES", "bss", "interval", "paired_interval", "roca", "tss"]
