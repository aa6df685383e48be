"""What every benchmark script in ``benchmarks/`` does around its own work: record the command
line, prepare torch and Ray, build (or reuse) the benchmark Sun, and write the JSON record."""

from __future__ import annotations

import shlex
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from solarray.benchmarks.sun import make_benchmark_sun
from solarray.core.ray_connect import connect
from solarray.metrics.protocol import result_record, write_result


def command_line(script: str, argv: Sequence[str] | None) -> str:
    """The exact command that ran ``script`` (``argv`` None: this process's arguments)."""
    args = sys.argv[1:] if argv is None else argv
    return " ".join(["python", script, *map(shlex.quote, args)])


def start(root: str, torch_threads: int = 2, num_cpus: int = 2) -> float:
    """Torch threads, a local Ray, the benchmark Sun at ``root``; returns the start time."""
    import torch

    torch.set_num_threads(torch_threads)
    connect(num_cpus=num_cpus)
    t0 = time.perf_counter()
    make_benchmark_sun(root)
    return t0


def finish(name: str, command: str, config: Any, results: dict, seeds: Sequence[int],
           out: str, t0: float) -> Path:
    """Stamp ``results["seconds"]``, write the protocol record to ``out`` and say where."""
    results["seconds"] = round(time.perf_counter() - t0, 1)
    path = write_result(result_record(name, command, config, results, list(seeds)), out)
    print(f"\n{results['seconds']:.0f} s; results in {out}")
    return path


__all__ = ["command_line", "finish", "start"]
