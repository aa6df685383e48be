"""Channel selection (Lim 2021): the input combinations and the ranking of their trials.

The sweep itself (one Ray Tune trial per combination) is
:mod:`solarray.tune.channel_selection`; this module enumerates the combinations and re-scores
each trial's checkpoint on held-out images in physical units on the disk, ranking by the average
CC over the predicted channels (Lim 2021's criterion) with the minimum CC alongside.

Lim's greedy search (:func:`greedy_candidates`, :func:`best_inputs`, :func:`greedy_table`,
:func:`best_per_target`): round 1 tries every single input, round k adds each remaining channel
to the best set of round k − 1; each candidate set predicts every candidate it does not see.
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


def greedy_candidates(candidates: Sequence[str], chosen: Sequence[str]) -> list[list[str]]:
    """The input sets of the next greedy round: ``chosen`` plus each candidate not in it, in
    candidate order; ValueError when no candidate would be left to predict."""
    candidates, chosen = list(candidates), list(chosen)
    if len(set(candidates)) != len(candidates):
        raise ValueError(f"duplicate channels in {candidates}")
    unknown = [c for c in chosen if c not in candidates]
    if unknown:
        raise ValueError(f"chosen input(s) {unknown} are not candidates ({candidates})")
    if len(chosen) + 2 > len(candidates):
        raise ValueError(f"a greedy round with {len(chosen) + 1} input(s) needs more than "
                         f"{len(chosen) + 1} candidate channels (got {len(candidates)}); "
                         "lower --inputs-max")
    return [[*chosen, c] for c in candidates if c not in chosen]


def best_inputs(table) -> list[str]:
    """The input set of a ranked round's best finite average CC (ValueError when none)."""
    ok = table[np.isfinite(table["cc_mean"].to_numpy(dtype=float))]
    if ok.empty:
        raise ValueError("no trial of the round has a finite average CC")
    return str(ok.sort_values("cc_mean", ascending=False, kind="stable").iloc[0]["inputs"]
               ).split("+")


def _targets(tables) -> list[str]:
    cols: list[str] = []
    for t in tables:
        cols += [c[3:] for c in t.columns if c.startswith("cc_") and c[3:] not in
                 ("mean", "min") and c[3:] not in cols]
    return cols


def greedy_table(tables) -> list[dict[str, Any]]:
    """Lim 2021's table from the ranked rounds (round 1 first): per round, the best input set,
    its average and minimum CC and its CC for every target passband (NaN for its own inputs)."""
    rows = []
    for k, t in enumerate(tables, 1):
        best = "+".join(best_inputs(t))
        r = t[t["inputs"] == best].iloc[0]
        rows.append({"round": k, "inputs": best, "n_trials": int(len(t)),
                     "cc_mean": float(r["cc_mean"]), "cc_min": float(r["cc_min"]),
                     **{f"cc_{c}": float(r.get(f"cc_{c}", np.nan)) for c in _targets(tables)}})
    return rows


def best_per_target(tables) -> list[dict[str, Any]]:
    """Per target passband and round: the candidate input set with the highest CC for it."""
    rows = []
    for c in _targets(tables):
        row: dict[str, Any] = {"target": c}
        for k, t in enumerate(tables, 1):
            col = t.get(f"cc_{c}")
            if col is None or not np.isfinite(col.to_numpy(dtype=float)).any():
                row[f"best_{k}"], row[f"cc_{k}"] = "", float("nan")
                continue
            i = int(np.nanargmax(col.to_numpy(dtype=float)))
            row[f"best_{k}"], row[f"cc_{k}"] = str(t.iloc[i]["inputs"]), float(col.iloc[i])
        rows.append(row)
    return rows


def format_greedy(tables) -> str:
    """The greedy path (Lim's table) and, per target, the best input set of each round."""
    path = greedy_table(tables)
    targets = _targets(tables)
    lines = [f"{'round':>5} {'inputs':<28} {'avg CC':>7} {'min CC':>7}  "
             + " ".join(f"{c:>8}" for c in targets)]
    for r in path:
        per = " ".join(f"{r[f'cc_{c}']:8.3f}" if np.isfinite(r[f"cc_{c}"]) else f"{'·':>8}"
                       for c in targets)
        lines.append(f"{r['round']:>5} {r['inputs']:<28} {r['cc_mean']:7.3f} "
                     f"{r['cc_min']:7.3f}  {per}")
    lines.append("best input set per target passband and round (CC):")
    for r in best_per_target(tables):
        lines.append(f"  {r['target']:<9} " + "; ".join(
            f"{k}: {r[f'best_{k}']} ({r[f'cc_{k}']:.3f})" for k in range(1, len(tables) + 1)))
    return "\n".join(lines)


__all__ = ["PARAM", "best_inputs", "best_per_target", "combinations_of", "format_greedy",
           "format_selection", "greedy_candidates", "greedy_table", "rank_selection"]
