"""SA-AI 2025 Table 4 on the benchmark Sun: every column at both operating points, FPNet* and the
automatic chain as separate rows, the seed's SVM baseline beside logistic regression and
climatology.

Rows (per region and full disk), all on the benchmark Sun's test Suns:

* ``fpnet_truth`` — **FPNet\\*** (the seed's name): FPNet trained and tested on the synthetic
  truth's features (true regions, true Hale/McIntosh, true flare index): a truth-input row, as
  the seed's FPNet* reads SWPC's human region reports;
* ``automatic_chain`` — **the SA-AI forecaster**: FPNet on the tables the served chain builds
  (SPNet → IATools → the Hale/McIntosh CNNs, flare index from the located XRS history), no truth
  in any input;
* baselines fitted in the same run on each row set: ``svm`` (the seed's baseline: an SVM on
  McIntosh class + F10.7, :func:`~solarray.forecast.baselines.svm_baseline`), ``logistic_mf``
  (logistic regression on the same two inputs), ``logistic`` (logistic regression on every
  physics input: F10.7, flare index, log R, area, McIntosh, Hale), ``climatology``; suffix
  ``_truth`` on the truth rows, ``_chain`` on the chain's.

Every forecaster is Platt-calibrated on the validation Suns; each is scored by
:func:`~solarray.metrics.calibration.operating_points` at probability 0.5 (``th_0.5``, the
seed's binary forecast) and at the validation-TSS-optimal threshold (``th_val``, the seed's
"Th=" rows). FPNet rows: every seed (mean ± std over seeds in the table). Paired 95 % bootstrap
intervals (true regions / days resampled) of FPNet* and of the chain against the baselines on
their own row set: ROCA, BSS, F1 and TSS at 0.5.

The FPNet runs are the automatic-chain benchmark's (:mod:`solarray.benchmarks.automatic_chain`,
same run names and directory): a finished run is read back, a missing one is trained.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from solarray.benchmarks.automatic_chain import (
    ChainBenchmarkConfig,
    _examples,
    _fpnet,
    _paired,
    chain_tables,
    train_chain,
)
from solarray.benchmarks.fpnet import with_raw
from solarray.forecast.baselines import (
    climatology,
    logistic_baseline,
    svm_baseline,
    with_features,
)
from solarray.forecast.features import full_disk_table, load_feature_table
from solarray.forecast.frames import load_frames, select_channels
from solarray.metrics.bootstrap import SCORES
from solarray.metrics.calibration import operating_points, threshold_score

#: The seed's SVM inputs (SA-AI 2025 §3.3.1: "McIntosh classification, 10 cm radio flux").
SVM_SCALARS, SVM_CATEGORIES = ("f107",), ("mcintosh",)
#: Every physics input FPNet reads (the logistic regression of ``benchmarks/fpnet.py``).
PHYSICS_SCALARS = {"ar": ("f107", "flare_index", "log_r", "area_msh"),
                   "full_disk": ("f107", "flare_index", "area_msh", "n_ar")}
PHYSICS_CATEGORIES = ("mcintosh", "hale")
LOG_SCALARS = ("flare_index", "area_msh")
FPNET_ROWS = {"fpnet_truth": "truth", "automatic_chain": "chain"}
PAIRED_SCORES = {**SCORES, "f1": threshold_score("f1", 0.5), "tss": threshold_score("tss", 0.5)}


@dataclass
class Table4Config(ChainBenchmarkConfig):
    runs_dir: str = ".cache/benchmark_runs/automatic_chain"  # the chain benchmark's runs


def table4_scores(val: pd.DataFrame, test: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """:func:`operating_points` of one forecaster's validation and test tables (``observed``,
    ``probability_raw``; unknown labels dropped) plus the test set's size and events."""
    v, t = with_raw(val), with_raw(test)
    v, t = v[v["observed"] >= 0], t[t["observed"] >= 0]
    out = operating_points(v["observed"].to_numpy(), v["probability_raw"].to_numpy(),
                           t["observed"].to_numpy(), t["probability_raw"].to_numpy())
    return {**out, "n": int(len(t)), "events": int(t["observed"].sum())}


def baselines(splits, mode: str) -> dict[str, tuple[pd.DataFrame, pd.DataFrame]]:
    """SVM and logistic regression on McIntosh + F10.7, logistic regression on every physics
    input, climatology: ``{arm: (val table, test table)}`` fitted on ``splits["train"]``."""
    mf = with_features(splits, SVM_SCALARS, SVM_CATEGORIES)
    phys = with_features(splits, PHYSICS_SCALARS[mode], PHYSICS_CATEGORIES)
    out = {}
    for name, fit, ex, scal, cats in (
            ("svm", svm_baseline, mf, SVM_SCALARS, SVM_CATEGORIES),
            ("logistic_mf", logistic_baseline, mf, SVM_SCALARS, SVM_CATEGORIES),
            ("logistic", logistic_baseline, phys, PHYSICS_SCALARS[mode], PHYSICS_CATEGORIES)):
        logs = [c for c in LOG_SCALARS if c in scal]
        fc = fit(ex, list(scal), logs, list(cats))
        out[name] = (fc["val"], fc["test"])
    out["climatology"] = (climatology(splits["train"], splits["val"]),
                          climatology(splits["train"], splits["test"]))
    return out


def run(cfg: Table4Config, log: Callable[[str], None] = print) -> dict:
    """``{mode: {"rows": {arm: [table4_scores per seed] | table4_scores}, "paired": {fpnet arm:
    {baseline arm: paired intervals}}, "info": {source: split sizes}}}`` for ``ar`` and
    ``full_disk``."""
    ckpt = train_chain(cfg, log)
    tables = chain_tables(cfg, ckpt, log)
    frames = select_channels(load_frames(f"{cfg.root}/shards"), cfg.channels)
    truth = load_feature_table(synthetic=cfg.root)
    inputs = {"truth": {"ar": truth, "full_disk": full_disk_table(truth)},
              "chain": {"ar": tables["ar"], "full_disk": tables["disk"]}}
    out: dict[str, Any] = {}
    for mode in ("ar", "full_disk"):
        rows: dict[str, Any] = {}
        paired: dict[str, Any] = {}
        info: dict[str, Any] = {}
        for arm, source in FPNET_ROWS.items():
            table = inputs[source][mode]
            fcs = [_fpnet(cfg, mode, frames, table, seed, arm, log) for seed in cfg.seeds]
            rows[arm] = [table4_scores(f["val"], f["test"]) for f in fcs]
            splits = _examples(cfg, mode, frames, table)
            info[source] = {k: int(len(v)) for k, v in splits.items()}
            pairs = [(f["val"], f["test"]) for f in fcs]
            paired[arm] = {}
            for name, fc in baselines(splits, mode).items():
                rows[f"{name}_{source}"] = table4_scores(*fc)
                paired[arm][f"{name}_{source}"] = _paired(cfg, pairs, fc, PAIRED_SCORES)
            log(f"[table4] {mode} {arm}: F1@0.5 "
                f"{np.mean([r['th_0.5']['f1'] or 0.0 for r in rows[arm]]):.3f}, svm F1@0.5 "
                f"{rows[f'svm_{source}']['th_0.5']['f1'] or 0.0:.3f}")
        out[mode] = {"rows": rows, "paired": paired, "info": info}
    return out


LABELS = {"fpnet_truth": "FPNet* (truth inputs)",
          "automatic_chain": "SA-AI forecaster (automatic chain)",
          "svm": "SVM McIntosh + F10.7", "logistic_mf": "logistic McIntosh + F10.7",
          "logistic": "logistic, all physics inputs", "climatology": "climatology"}
COLUMNS = ("f1", "tss", "hss", "precision", "recall", "far", "accuracy", "csi", "tp", "tn",
           "fp", "fn", "bs", "bss", "roca")
HEADINGS = ("F1", "TSS", "HSS", "Precision", "Recall", "FAR", "Accuracy", "CSI", "TP", "TN",
            "FP", "FN", "BS", "BSS", "ROCA")


def label(arm: str) -> str:
    """The Table 4 row name of ``arm`` (``svm_truth`` → "SVM McIntosh + F10.7 (truth
    inputs)")."""
    if arm in LABELS:
        return LABELS[arm]
    base, _, source = arm.rpartition("_")
    return f"{LABELS.get(base, base)} ({'truth' if source == 'truth' else 'chain'} inputs)"


def _cell(values: list, key: str) -> str:
    """Mean ± sample std (ddof 1, as :func:`~solarray.metrics.protocol.summarise`) of the
    defined values; "undef." when none is."""
    vals = [v for v in values if v is not None]
    if not vals:
        return "undef."
    digits = 0 if key in ("tp", "tn", "fp", "fn") else 3
    sd = f" ± {np.std(vals, ddof=1):.{digits}f}" if len(vals) > 1 else ""
    return f"{np.mean(vals):.{digits}f}{sd}"


def markdown(rows: dict[str, Any], order: list[str] | None = None) -> str:
    """SA-AI 2025 Table 4 layout: per arm one line at probability 0.5 and one at the validation
    threshold (``Th=``: mean over seeds); FPNet cells mean ± std over seeds."""
    head = "| Models | " + " | ".join(HEADINGS) + " |"
    lines = [head, "|" + "---|" * (len(HEADINGS) + 1)]
    for arm in order or list(rows):
        runs = rows[arm] if isinstance(rows[arm], list) else [rows[arm]]
        for op in ("th_0.5", "th_val"):
            th = np.mean([r[op]["threshold"] for r in runs])
            cells = [_cell([r[op][k] for r in runs], k) for k in COLUMNS]
            lines.append(f"| {label(arm)} (Th={th:.2f}) | " + " | ".join(cells) + " |")
    return "\n".join(lines)


__all__ = ["COLUMNS", "FPNET_ROWS", "LABELS", "label", "markdown", "PAIRED_SCORES", "SVM_CATEGORIES", "SVM_SCALARS", "Table4Config",
           "baselines", "run", "table4_scores"]
