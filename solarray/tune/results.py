"""Sweep results: ranked trial table (printed, CSV, Parquet), metric-vs-parameter plot, best config.

Files in ``<experiment>/results/``:

* ``trials.csv`` / ``trials.parquet``: one row per trial, best first (see :func:`rank`) — ``rank, trial_id, status,
  <parameters>, <metric>, steps, time_s, stopped_early`` (+ ``probe_tss`` with downstream scoring,
  ``checkpoint``: the trial's latest Train checkpoint);
* ``metric_vs_params.png``: the ranking score against each searched parameter (stopped trials
  hollow);
* ``best_config.yaml`` / ``best_config.json``: the best trial's :class:`TrainConfig` keys, accepted
  by ``solarray pretrain --config FILE`` (channels come from the data there; ``run_name`` is
  ``<sweep>-best``, ``storage_path`` left to the command).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from solarray.core.atomic import atomic_path, write_json, write_text
from solarray.train.checkpoints import latest_checkpoint
from solarray.train.config import TrainConfig
from solarray.tune.space import SweepError
from solarray.tune.trials import train_values

#: TrainConfig keys the best-config file leaves to ``solarray pretrain`` (data, flags, defaults).
NOT_EXPORTED = ("channels", "storage_path", "fail_at_step")


def short_name(path: str) -> str:
    """``objective_config.temperature`` → ``temperature``; ``...fg_weights.0`` → ``fg_weights.0``."""
    parts = path.split(".")
    return ".".join(parts[-2:]) if parts[-1].isdigit() and len(parts) > 1 else parts[-1]


def _param_columns(resolved) -> list[str]:
    return resolved.sweep.param_paths


def score_column(resolved) -> tuple[str, str]:
    """The column and mode the table is ranked by."""
    if resolved.score == "downstream":
        return "probe_tss", "max"
    return resolved.sweep.metric, resolved.sweep.mode


def trial_table(grid, resolved):
    """One row per trial of a Tune ``ResultGrid``, in trial order (not yet ranked)."""
    import pandas as pd

    metric = resolved.sweep.metric
    rows = []
    for result in grid:
        metrics = dict(result.metrics or {})
        config = dict(result.config or {})
        trial_id = metrics.get("trial_id") or Path(result.path).name.split("_")[1]
        steps = int(metrics.get("step", 0) or 0)
        failed = result.error is not None
        latest = latest_checkpoint(resolved.train_root / str(trial_id))
        row: dict[str, Any] = {"trial_id": str(trial_id),
                               "status": "ERROR" if failed else "TERMINATED"}
        for p in _param_columns(resolved):
            row[p] = config.get(p)
        row[metric] = float(metrics[metric]) if metric in metrics else math.nan
        row["steps"] = steps
        row["time_s"] = float(metrics.get("time_total_s", math.nan) or math.nan)
        row["stopped_early"] = bool(not failed and steps < resolved.steps)
        row["checkpoint"] = str(latest[1]) if latest else ""
        if failed:
            row["error"] = str(result.error).splitlines()[0][:200]
        rows.append(row)
    table = pd.DataFrame(rows)
    if "error" not in table:
        table["error"] = ""
    table["error"] = table["error"].fillna("")
    return table


def rank(table, resolved):
    """Sort best first and number the rows ``rank`` 1, 2, ...

    Trials are compared at equal training: first by ``steps`` reached (a trial ASHA stopped at a
    rung ranks below every trial that went further, as ASHA judged it worse there), then by the
    score column (NaN last). Ranking a trial's early metric against others' final ones would
    reward stopping early on noisy validation values.
    """
    column, mode = score_column(resolved)
    key = table[column].astype(float).to_numpy()
    score = np.where(np.isnan(key), np.inf, -key if mode == "max" else key)
    order = np.lexsort((score, -table["steps"].to_numpy()))
    out = table.iloc[order].reset_index(drop=True)
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    return out


def trial_steps(table, resolved) -> dict[str, int]:
    """Optimiser steps run vs the steps of running every trial to completion."""
    run = int(table["steps"].sum())
    full = int(len(table) * resolved.steps)
    return {"trial_steps_run": run, "trial_steps_full": full, "trial_steps_saved": full - run,
            "stopped_early": int(table["stopped_early"].sum())}


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, np.generic):
        return value.item()
    return value


def best_config(table, resolved, channels) -> dict[str, Any]:
    """TrainConfig keys of the best-ranked trial, for ``solarray pretrain --config``."""
    if table.empty or not np.isfinite(float(table[score_column(resolved)[0]].iloc[0])):
        errors = sorted({e for e in table.get("error", []) if e})
        why = (f"; {int((table['status'] == 'ERROR').sum())} of {len(table)} trial(s) failed: "
               + " | ".join(errors[:3])) if errors else ""
        raise SweepError(f"sweep {resolved.name!r}: no trial reported "
                         f"{score_column(resolved)[0]!r}, nothing to rank{why}")
    row = table.iloc[0]
    params = {p: _plain(row[p]) for p in _param_columns(resolved)}
    values = train_values(resolved.sweep, params, **resolved.runner_overrides(channels),
                          run_name=f"{resolved.name}-best")
    cfg = TrainConfig.from_dict(values, source=f"best trial {row['trial_id']}")
    out = {k: _plain(v) for k, v in cfg.to_dict().items() if k not in NOT_EXPORTED}
    return out


def format_table(table, resolved, max_rows: int = 50) -> str:
    """The ranked table as fixed-width text (parameters to 4 significant digits)."""
    column, _ = score_column(resolved)
    cols = ["rank", "trial_id", *_param_columns(resolved)]
    if column != resolved.sweep.metric:
        cols.append(column)
    cols += [resolved.sweep.metric, "steps", "status"]
    short = {p: short_name(p) for p in _param_columns(resolved)}

    def fmt(v: Any) -> str:
        if isinstance(v, (float, np.floating)):
            return "nan" if not np.isfinite(v) else f"{v:.4g}"
        return str(v)

    rows = [[short.get(c, c) for c in cols]]
    for _, r in table.head(max_rows).iterrows():
        status = "stopped" if r["stopped_early"] else ("error" if r["status"] == "ERROR" else "done")
        rows.append([fmt(r[c]) if c != "status" else status for c in cols])
    widths = [max(len(row[i]) for row in rows) for i in range(len(cols))]
    lines = ["  ".join(cell.rjust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join(lines)


def _write_atomic(path: Path, writer) -> Path:
    """``writer(temporary path)``, then rename it to ``path`` (see :mod:`solarray.core.atomic`)."""
    with atomic_path(path) as tmp:
        writer(tmp)
    return path


def plot_metric_vs_params(table, resolved, path: Path) -> Path:
    """One panel per searched parameter: the ranking score against its value."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    column, mode = score_column(resolved)
    params = _param_columns(resolved)
    fig, axes = plt.subplots(1, len(params), figsize=(3.2 * len(params), 3.0), squeeze=False)
    y = table[column].astype(float).to_numpy()
    stopped = table["stopped_early"].to_numpy(bool)
    for ax, p in zip(axes[0], params, strict=True):
        spec = next(s for s in resolved.sweep.space if s.path == p)
        raw = table[p].tolist()
        if spec.values is not None and not all(isinstance(v, (int, float)) for v in spec.values):
            labels = [str(v) for v in spec.values]
            x = np.array([labels.index(str(v)) if str(v) in labels else -1 for v in raw], float)
            ax.set_xticks(range(len(labels)), labels, rotation=30)
        else:
            x = np.array(raw, float)
            if spec.kind == "loguniform":
                from matplotlib.ticker import NullFormatter

                ax.set_xscale("log")
                ax.xaxis.set_minor_formatter(NullFormatter())  # minor labels overlap
        ax.scatter(x[~stopped], y[~stopped], c="C0", label="ran to the end")
        ax.scatter(x[stopped], y[stopped], facecolors="none", edgecolors="C1",
                   label="stopped by ASHA")
        ax.set_xlabel(short_name(p))
        ax.set_ylabel(f"{column} ({mode})")
    axes[0][0].legend(fontsize=7)
    fig.suptitle(f"sweep {resolved.name}", fontsize=9)
    fig.tight_layout()
    _write_atomic(path, lambda t: fig.savefig(t, dpi=90, format="png"))
    plt.close(fig)
    return path


def write_results(table, resolved, best: dict[str, Any]) -> dict[str, Path]:
    """Write the table, plot and best config into ``resolved.results_dir``; returns the paths."""
    out = resolved.results_dir
    out.mkdir(parents=True, exist_ok=True)
    files = {
        "csv": _write_atomic(out / "trials.csv", lambda t: table.to_csv(t, index=False)),
        "parquet": _write_atomic(out / "trials.parquet",
                                 lambda t: table.to_parquet(t, index=False)),
        "plot": plot_metric_vs_params(table, resolved, out / "metric_vs_params.png"),
        "best_yaml": write_text(
            out / "best_config.yaml",
            f"# best trial of sweep {resolved.name} ({resolved.sweep.source}); use with\n"
            f"#   solarray pretrain --config {out / 'best_config.yaml'} --data DIR\n"
            + yaml.safe_dump(best, sort_keys=False)),
        "best_json": write_json(out / "best_config.json", best, indent=1),
    }
    summary = {"sweep": resolved.name, "metric": resolved.sweep.metric,
               "mode": resolved.sweep.mode, "score": score_column(resolved)[0],
               "trials": len(table), **trial_steps(table, resolved),
               "best_trial": str(table["trial_id"].iloc[0])}
    files["summary"] = write_json(out / "summary.json", summary, indent=1)
    return files
