"""Park 2019's evaluation table: CC, RE and PPE10 per generated passband and their average, on
inverse-scaled images (physical units: DN/s, G) and on-disk pixels only.

Each metric is computed per image (:mod:`solarray.metrics.translation`) and averaged over the
images; the ``average`` row is the mean over passbands.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from solarray.core import channels as channel_catalogue
from solarray.core.frame import FRAME_RSUN, disk_mask
from solarray.metrics import translation as tm

METRICS = ("cc", "re", "ppe10")


def unscale(stack: np.ndarray, names: Sequence[str]) -> np.ndarray:
    """Scaled ``[N, C, H, W]`` → physical units per channel (float64)."""
    if stack.shape[1] != len(names):
        raise ValueError(f"{stack.shape[1]} channel(s) in the array, {len(names)} names")
    return np.stack([channel_catalogue.get(c).unscale(stack[:, i])
                     for i, c in enumerate(names)], axis=1)


def score_channels(pred: np.ndarray, target: np.ndarray, names: Sequence[str],
                   frame: float = FRAME_RSUN) -> dict[str, dict[str, float]]:
    """Scaled generated/target stacks ``[N, C, H, W]`` → ``{channel: {cc, re, ppe10}}`` plus
    ``average`` (mean over channels), each the mean over images, in physical units on disk."""
    if pred.shape != target.shape:
        raise ValueError(f"generated {pred.shape} and target {target.shape} differ in shape")
    p, t = unscale(pred, names), unscale(target, names)
    mask = disk_mask(pred.shape[-1], frame)
    out: dict[str, dict[str, float]] = {}
    for i, c in enumerate(names):
        per = [tm.scores(p[n, i], t[n, i], mask) for n in range(len(p))]
        out[c] = {k: float(np.nanmean([s[k] for s in per])) for k in METRICS}
    out["average"] = {k: float(np.nanmean([out[c][k] for c in names])) for k in METRICS}
    return out


def table_rows(model: str, scores: Mapping[str, Mapping[str, float]]) -> list[dict[str, Any]]:
    return [{"model": model, "passband": c, **{k: v[k] for k in METRICS}}
            for c, v in scores.items()]


def format_table(rows: Sequence[Mapping[str, Any]]) -> str:
    """Fixed-width text: model, passband, CC, RE, PPE10 (%)."""
    lines = [f"{'model':<24} {'passband':<9} {'CC':>7} {'RE':>8} {'PPE10':>7}"]
    for r in rows:
        lines.append(f"{str(r['model'])[:24]:<24} {r['passband']:<9} {r['cc']:7.3f} "
                     f"{r['re']:8.3f} {100 * r['ppe10']:6.1f}%")
    return "\n".join(lines)


__all__ = ["METRICS", "format_table", "score_channels", "table_rows", "unscale"]
