"""Arms of one benchmark compared on the same test rows, as the protocol asks: per metric, the
per-seed paired difference (:func:`~solarray.metrics.protocol.compare`: mean ± std over seeds)
beside a paired bootstrap 95 % interval over test samples
(:func:`~solarray.metrics.bootstrap.paired_interval`: groups of test rows resampled, each arm
scored as the mean of its seeds' scores on the resample, "beats" when the interval lies above 0).

The forecasts are the ones the scores come from (:func:`solarray.benchmarks.fpnet.scores`):
Platt-calibrated on the validation month, ROCA and BSS of the reliable probabilities, TSS of the
yes/no forecasts at the validation TSS threshold. They are kept in memory, one array per seed;
only the intervals go to the record. :func:`examples_fitter` trains FPNet over its examples in
this process (:func:`~solarray.benchmarks.frames_fit.fit_frames`, no Ray) for such benchmarks.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np

from solarray.benchmarks.frames_fit import fit_frames
from solarray.forecast.examples import Examples
from solarray.metrics.bootstrap import bss, paired_interval, roca, tss
from solarray.metrics.protocol import compare
from solarray.train.config import TrainConfig

#: metric → (score over the resampled rows, which kept forecast it reads)
SCORE_FNS = {"roca": (roca, "p"), "bss": (bss, "p"), "tss": (tss, "yes")}


def paired_comparisons(per_seed: Mapping[str, Sequence[Mapping]],
                       kept: Mapping[str, Sequence[Mapping[str, np.ndarray]]],
                       y: np.ndarray, groups: np.ndarray, pairs: Sequence[tuple[str, str]],
                       metrics: Sequence[str] = ("roca", "bss", "tss"), n_boot: int = 1000,
                       seed: int = 0) -> dict[str, dict]:
    """``{"a − b": {metric: {"seeds": compare, "bootstrap": paired_interval}}}`` for each
    ``(a, b)`` in ``pairs``. ``per_seed[arm]``: score dicts, one per seed; ``kept[arm]``: the
    seeds' kept forecasts (``{"p", "yes"}``: :func:`solarray.benchmarks.fpnet.kept_forecasts`)
    on the test rows ``y`` (0/1), resampled by ``groups``."""
    out: dict[str, dict] = {}
    for a, b in pairs:
        res = {}
        for k in metrics:
            fn, which = SCORE_FNS[k]
            pa = np.stack([f[which] for f in kept[a]])
            pb = np.stack([f[which] for f in kept[b]])
            res[k] = {"seeds": compare([s[k] for s in per_seed[a]], [s[k] for s in per_seed[b]]),
                      "bootstrap": paired_interval(fn, y, pa, pb, groups, n_boot=n_boot,
                                                   seed=seed)}
        out[f"{a} − {b}"] = res
    return out


def examples_fitter() -> Callable[[TrainConfig, Examples], Path]:
    """A ``fitter`` for :func:`~solarray.forecast.training.train_fpnet`: the training config run
    in this process over the examples with a known label, into the config's run directory."""
    def fit(tcfg: TrainConfig, ex: Examples) -> Path:
        keep = ex.label >= 0
        columns = {"image": ex.image[keep], "scalars": ex.scalars[keep].astype(np.float32),
                   "categories": ex.categories[keep].astype(np.int64),
                   "label": ex.label[keep].astype(np.float32)}
        return fit_frames(columns, tcfg, tcfg.run_dir)
    return fit


def interval_lines(comparisons: Mapping[str, Mapping]) -> list[str]:
    """One line per comparison and metric: per-seed Δ mean ± std, then the bootstrap interval."""
    lines = []
    for name, metrics in comparisons.items():
        for k, r in metrics.items():
            d, bt = r["seeds"]["difference"], r["bootstrap"]
            lo, hi = bt["lo"], bt["hi"]
            iv = "n/a" if lo is None else f"[{lo:+.3f}, {hi:+.3f}]"
            diff = "n/a" if bt["difference"] is None else f"{bt['difference']:+.3f}"
            lines.append(f"{name} {k}: per seed {d['mean']:+.3f} ± {d['std']:.3f}; "
                         f"bootstrap {diff} {iv}"
                         + (" (beats)" if bt["beats"] else ""))
    return lines


__all__ = ["SCORE_FNS", "examples_fitter", "interval_lines", "paired_comparisons"]
