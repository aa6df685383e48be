"""The bookkeeping of a benchmark run under the seed protocol: the JSON record under
``docs/results/`` with the exact command line, the config, the seeds, the results, the time, the
git commit and the library versions (:func:`result_record`, :func:`write_result`), and the
Markdown tables of BENCHMARKS.md (:func:`markdown_table`, :func:`comparison_line`).

The figures themselves (mean ± std, the paired "beats" rule) are pure functions in
:mod:`solarray.metrics.protocol`; this module is the one that asks git and writes files.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import importlib.metadata
import math
import os
import platform
import shlex
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from solarray.core.atomic import write_json
from solarray.metrics.protocol import format_pm, summarise

#: Where benchmark records live, relative to the repository root.
RESULTS_DIR = Path("docs") / "results"


def _jsonable(obj: Any, where: str) -> Any:
    """Plain JSON types from numpy scalars/arrays, dataclasses, paths, tuples; NaN/inf → None
    (strict JSON has no NaN). Raises ``TypeError`` naming where an unknown object sits."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        obj = dataclasses.asdict(obj)
    if isinstance(obj, np.ndarray):
        obj = obj.tolist()
    elif isinstance(obj, np.generic):
        obj = obj.item()
    if obj is None or isinstance(obj, bool | int | str):
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, Mapping):
        return {str(k): _jsonable(v, f"{where}.{k}") for k, v in obj.items()}
    if isinstance(obj, list | tuple | set | frozenset):
        return [_jsonable(v, f"{where}[{i}]") for i, v in enumerate(obj)]
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    if isinstance(obj, dt.datetime | dt.date):
        return obj.isoformat()
    raise TypeError(f"result record: cannot store {type(obj).__name__} at {where} as JSON")


def _git(*args: str) -> str | None:
    """Output of a git command run in this package's directory, or None without git/repo."""
    try:
        out = subprocess.run(
            ["git", *args],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip()


def _version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def result_record(
    name: str,
    command: str | Sequence[str],
    config: Mapping[str, Any] | Any,
    results: Mapping[str, Any],
    seeds: Sequence[int],
) -> dict[str, Any]:
    """The JSON record of one benchmark run.

    ``command`` is the exact command line (a list of arguments is joined with shell quoting);
    ``config`` a dict (or dataclass) of the settings; ``results`` the figures, typically
    :func:`compare` / :func:`summarise` dicts; ``seeds`` the seeds in the order of every
    per-seed list. Adds ``created`` (UTC, ISO 8601), ``git_commit`` (None outside a git checkout),
    ``git_dirty`` (uncommitted changes, None if unknown) and the ``python``/``torch`` versions.
    Everything is converted to plain JSON types (numpy scalars/arrays included, NaN → None).
    """
    if not name or not isinstance(name, str):
        raise ValueError(f"result_record: name must be a non-empty string, got {name!r}")
    if not isinstance(command, str):
        command = shlex.join(str(a) for a in command)
    status = _git("status", "--porcelain", "--untracked-files=no")
    record = {
        "name": name,
        "command": command,
        "config": config,
        "seeds": list(seeds),
        "results": results,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "git_commit": _git("rev-parse", "HEAD") or None,
        "git_dirty": None if status is None else bool(status),
        "python": platform.python_version(),
        "torch": _version("torch"),
    }
    return _jsonable(record, "record")


def write_result(record: Mapping[str, Any], path: str | os.PathLike) -> Path:
    """Write ``record`` as indented, strict JSON to ``path`` atomically (parents created);
    benchmark scripts use ``RESULTS_DIR / f"{name}.json"``. Returns the path."""
    return write_json(
        path, _jsonable(record, "record"), indent=2, allow_nan=False, ensure_ascii=False
    )


def _cell(v: Any) -> str:
    # A pipe would end the cell and a newline the row.
    return "" if v is None else str(v).replace("|", "\\|").replace("\n", " ")


def markdown_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> str:
    """A Markdown table of already-formatted cells (one row per dict, ``columns`` in order; a
    missing key is an empty cell). Returns the lines joined by newlines, without a trailing one."""
    if not columns:
        raise ValueError("markdown_table: columns must name at least one column")
    lines = [
        "| " + " | ".join(_cell(c) for c in columns) + " |",
        "| " + " | ".join("---" for _ in columns) + " |",
    ]
    lines += ["| " + " | ".join(_cell(r.get(c)) for c in columns) + " |" for r in rows]
    return "\n".join(lines)


def comparison_line(model: str, baseline: str, by_metric: Mapping[str, Mapping[str, Any]]) -> str:
    """``- model vs baseline: roca beats (Δ 0.05 ± 0.01), ...`` from per-metric
    :func:`~solarray.metrics.protocol.compare` dicts."""
    return f"- {model} vs {baseline}: " + ", ".join(
        f"{k} {'beats' if c['beats'] else 'does not beat'} (Δ {format_pm(c['difference'])})"
        for k, c in by_metric.items())


def comparison_lines(comparisons: Mapping[str, Mapping[str, Mapping[str, Any]]]) -> list[str]:
    """:func:`comparison_line` for every ``{model: {baseline: {metric: compare dict}}}``."""
    return [comparison_line(m, b, by) for m, against in comparisons.items()
            for b, by in against.items()]


def pm_rows(per_seed: Mapping[str, Sequence[Mapping[str, Any]]], keys: Sequence[str],
            label: str = "arm", digits: int = 3) -> list[dict[str, Any]]:
    """One table row per arm: ``label`` = the arm, then mean ± std over seeds of each key
    (``per_seed``: arm → one dict of scores per seed)."""
    return [{label: arm, **{k: format_pm(summarise([s[k] for s in vals]), digits) for k in keys}}
            for arm, vals in per_seed.items()]


__all__ = ["RESULTS_DIR", "comparison_line", "comparison_lines", "markdown_table", "pm_rows",
           "result_record", "write_result"]
