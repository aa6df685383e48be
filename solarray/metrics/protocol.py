"""The benchmark protocol every learned model's benchmark follows (issue 14).

* Every figure is mean ± std over ≥ 3 seeds (:func:`summarise`, :func:`format_pm`).
* The baseline is measured in the same run, seed for seed, and a model **beats** it only if
  mean − std of the per-seed difference is > 0 (:func:`compare`).
* Every run leaves a JSON record under ``docs/results/`` with the exact command line, the config,
  the seeds, the results, the time, the git commit and the library versions
  (:func:`result_record`, :func:`write_result`).

Pure functions over plain numbers; the only I/O is :func:`write_result` (atomic) and the
``git rev-parse HEAD`` in :func:`result_record`.
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

#: Where benchmark records live, relative to the repository root.
RESULTS_DIR = Path("docs") / "results"
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


__all__ = [
    "MIN_SEEDS",
    "RESULTS_DIR",
    "compare",
    "format_pm",
    "markdown_table",
    "result_record",
    "summarise",
    "write_result",
]
