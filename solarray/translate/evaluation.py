"""Park 2019's evaluation table: CC, RE and PPE10 per generated passband and their average, on
inverse-scaled images (physical units: DN/s, G) and on-disk pixels only, plus the fine-scale
power ratio that measures realism.

Each metric is computed per image (:mod:`solarray.metrics.translation`) and averaged over the
images: ``re_abs`` is the mean |RE| over images (ours), ``re_signed`` the mean signed RE
(errors of opposite sign cancel). ``hf_ratio`` is the generated image's power at or above half
the Nyquist frequency over the target's, on the scaled (log-intensity) full frame. The
``average`` row is the mean over passbands, with ``re_park`` = the mean over passbands of
|re_signed| (the arithmetic of Park's Average row, whose passband rows are signed).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from solarray.core import channels as channel_catalogue
from solarray.core.frame import FRAME_RSUN, disk_mask
from solarray.metrics import translation as tm

METRICS = ("cc", "re_abs", "re_signed", "ppe10", "hf_ratio")


def unscale(stack: np.ndarray, names: Sequence[str]) -> np.ndarray:
    """Scaled ``[N, C, H, W]`` → physical units per channel (float64)."""
    if stack.shape[1] != len(names):
        raise ValueError(f"{stack.shape[1]} channel(s) in the array, {len(names)} names")
    return np.stack([channel_catalogue.get(c).unscale(stack[:, i])
                     for i, c in enumerate(names)], axis=1)


def score_channels(pred: np.ndarray, target: np.ndarray, names: Sequence[str],
                   frame: float = FRAME_RSUN) -> dict[str, dict[str, float]]:
    """Scaled generated/target stacks ``[N, C, H, W]`` → ``{channel: {cc, re_abs, re_signed,
    ppe10, hf_ratio}}`` plus ``average`` (mean over channels, and ``re_park``), each the mean
    over images, in physical units on disk (``hf_ratio``: scaled units, full frame)."""
    if pred.shape != target.shape:
        raise ValueError(f"generated {pred.shape} and target {target.shape} differ in shape")
    p, t = unscale(pred, names), unscale(target, names)
    mask = disk_mask(pred.shape[-1], frame)
    out: dict[str, dict[str, float]] = {}
    for i, c in enumerate(names):
        per = [tm.scores(p[n, i], t[n, i], mask) for n in range(len(p))]
        re = tm.average_re([s["re"] for s in per])
        out[c] = {"cc": float(np.nanmean([s["cc"] for s in per])), "re_abs": re["abs"],
                  "re_signed": re["signed"],
                  "ppe10": float(np.nanmean([s["ppe10"] for s in per])),
                  "hf_ratio": tm.high_frequency_ratio(pred[:, i], target[:, i])}
    out["average"] = {k: float(np.nanmean([out[c][k] for c in names])) for k in METRICS}
    out["average"]["re_park"] = tm.average_re([out[c]["re_signed"] for c in names])["abs"]
    return out


def per_image(pred: np.ndarray, target: np.ndarray, names: Sequence[str],
              frame: float = FRAME_RSUN) -> dict[str, np.ndarray]:
    """Per image ``[N]``, the mean over channels of ``cc``, ``re_abs`` (|RE|) and ``hf_ratio``
    (as :func:`score_channels`): what paired bootstrap intervals over test images resample."""
    if pred.shape != target.shape:
        raise ValueError(f"generated {pred.shape} and target {target.shape} differ in shape")
    p, t = unscale(pred, names), unscale(target, names)
    mask = disk_mask(pred.shape[-1], frame)
    out = {k: np.zeros(len(p)) for k in ("cc", "re_abs", "hf_ratio")}
    for n in range(len(p)):
        per = [tm.scores(p[n, i], t[n, i], mask) for i in range(len(names))]
        out["cc"][n] = np.nanmean([s["cc"] for s in per])
        out["re_abs"][n] = tm.average_re([s["re"] for s in per])["abs"]
        out["hf_ratio"][n] = np.nanmean([tm.high_frequency_ratio(pred[n, i], target[n, i])
                                         for i in range(len(names))])
    return out


def table_rows(model: str, scores: Mapping[str, Mapping[str, float]]) -> list[dict[str, Any]]:
    """One row per passband (and ``average``): model, passband and every score it has."""
    return [{"model": model, "passband": c, **v} for c, v in scores.items()]


def format_table(rows: Sequence[Mapping[str, Any]]) -> str:
    """Fixed-width text: model, passband, CC, mean |RE|, mean signed RE, PPE10 (%), fine-scale
    power ratio; a footnote gives Park's Average-row RE (mean over passbands of |signed RE|)."""
    lines = [f"{'model':<24} {'passband':<9} {'CC':>7} {'|RE|':>7} {'RE±':>8} {'PPE10':>7} "
             f"{'HF':>6}"]
    for r in rows:
        lines.append(f"{str(r['model'])[:24]:<24} {r['passband']:<9} {r['cc']:7.3f} "
                     f"{r['re_abs']:7.3f} {r['re_signed']:8.3f} {100 * r['ppe10']:6.1f}% "
                     f"{r['hf_ratio']:6.2f}")
    lines.append("|RE| = mean over images of |RE|; RE± = mean signed RE (Park 2019's passband rows); "
                 "HF = generated / target power above half Nyquist (1 = as sharp as the target)")
    park = [f"{r['model']}: {r['re_park']:.3f}" for r in rows if "re_park" in r]
    if park:
        lines.append("Average RE as Park's table computes it (mean over passbands of |RE±|): "
                     + "; ".join(park))
    return "\n".join(lines)


__all__ = ["METRICS", "format_table", "per_image", "score_channels", "table_rows", "unscale"]
