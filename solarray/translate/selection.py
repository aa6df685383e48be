"""Channel selection (Lim 2021): the input combinations and the ranking of their trials.

The sweep itself (one Ray Tune trial per combination) is
:mod:`solarray.tune.channel_selection`; this module enumerates the combinations and re-scores
each trial's checkpoint on held-out images in physical units on the disk, ranking by the average
CC over the predicted channels (Lim 2021's criterion) with the minimum CC alongside.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np

from solarray.core.frame import FRAME_RSUN
from solarray.models import load_model
from solarray.translate.evaluation import score_channels
from solarray.translate.predict import generate

PARAM = "model_config.inputs"


def combinations_of(channels: Sequence[str], inputs_max: int, inputs_min: int = 1
                    ) -> list[list[str]]:
    """Every ``inputs_min``…``inputs_max``-subset of ``channels`` that leaves one to predict."""
    channels = list(channels)
    if len(set(channels)) != len(channels):
        raise ValueError(f"duplicate channels in {channels}")
    if inputs_max < inputs_min or inputs_min < 1:
        raise ValueError(f"inputs-max must be >= {inputs_min}, got {inputs_max}")
    if inputs_max >= len(channels):
        raise ValueError(f"combinations of up to {inputs_max} input channel(s) need more than "
                         f"{inputs_max} channels to choose from (got {len(channels)}: "
                         f"{', '.join(channels)}); lower --inputs-max")
    return [list(c) for k in range(inputs_min, inputs_max + 1)
            for c in itertools.combinations(channels, k)]


def rank_selection(trials, metric: str, images: np.ndarray, channels: Sequence[str],
                   frame: float = FRAME_RSUN):
    """``trials``: the sweep's trial table (columns ``model_config.inputs``, ``trial_id``,
    ``metric``, ``status``, ``checkpoint``). Score each trial's checkpoint on ``images`` ``[N, C, H, W]`` (scaled, ``channels``
    order) in physical units on disk; → DataFrame best first by average CC."""
    import pandas as pd

    channels = list(channels)
    rows = []
    for _, trial in trials.iterrows():
        row: dict[str, Any] = {"inputs": "+".join(trial[PARAM]),
                               "n_inputs": len(trial[PARAM]), "trial_id": trial["trial_id"],
                               "val_cc_mean": trial[metric],
                               "status": trial["status"], "checkpoint": trial["checkpoint"]}
        if trial["checkpoint"]:
            model = load_model(trial["checkpoint"])
            ins, outs = list(model.config.inputs), list(model.config.outputs)
            x = images[:, [channels.index(c) for c in ins]]
            y = images[:, [channels.index(c) for c in outs]]
            scores = score_channels(generate(model, x), y, outs, frame)
            ccs = [scores[c]["cc"] for c in outs]
            row.update(cc_mean=float(np.mean(ccs)), cc_min=float(np.min(ccs)),
                       **{f"cc_{c}": scores[c]["cc"] for c in outs})
        else:
            row.update(cc_mean=float("nan"), cc_min=float("nan"))
        rows.append(row)
    table = pd.DataFrame(rows)
    key = table["cc_mean"].fillna(-np.inf)
    table = table.iloc[np.argsort(-key.to_numpy(), kind="stable")].reset_index(drop=True)
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    return table


def format_selection(table) -> str:
    """Best combination per number of inputs, then every combination."""
    cols = [c for c in table.columns if c.startswith("cc_") and c not in ("cc_mean", "cc_min")]
    lines = [f"{'rank':>4} {'inputs':<28} {'avg CC':>7} {'min CC':>7}  "
             + " ".join(f"{c[3:]:>8}" for c in cols)]
    for _, r in table.iterrows():
        per = " ".join(f"{r[c]:8.3f}" if np.isfinite(r.get(c, np.nan)) else f"{'·':>8}"
                       for c in cols)
        lines.append(f"{r['rank']:>4} {r['inputs']:<28} {r['cc_mean']:7.3f} {r['cc_min']:7.3f}  "
                     + per)
    for k in sorted(table["n_inputs"].unique()):
        best = table[table["n_inputs"] == k].iloc[0]
        lines.append(f"best {k}-input: {best['inputs']} (avg CC {best['cc_mean']:.3f}, "
                     f"min {best['cc_min']:.3f})")
    return "\n".join(lines)


__all__ = ["PARAM", "combinations_of", "format_selection", "rank_selection"]
