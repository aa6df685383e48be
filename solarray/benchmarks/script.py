"""The one shape of a benchmark script in ``benchmarks/``: a thin ``main`` over :class:`Bench`.

:class:`Bench` is the shared preamble every script used to repeat: the argument parser with the
common flags (``--root``/``--runs-dir`` of the benchmark Sun, ``--seeds``, ``--out``, plus the
script's own flags given as data), the command line that ran it, torch + Ray + the benchmark Sun,
and the protocol record written at the end (:mod:`solarray.benchmarks.record`: config, results,
seeds, time, git state)::

    BENCH = Bench("fpnet", "benchmarks/fpnet.py", __doc__)

    def main(argv=None):
        args = BENCH.sun(argv, {"--steps": 400, "--lr": 1e-3}, runs="fpnet")  # parse; torch,
        cfg = FPNetBenchmarkConfig(**BENCH.common(args), steps=args.steps)    # Ray, the Sun
        res = run(cfg)                             # the scoring lives in solarray.benchmarks.*
        BENCH.finish(asdict(cfg), res, cfg.seeds)  # docs/results/fpnet.json

Scripts that do not use the benchmark Sun call :meth:`Bench.parse` (and :meth:`Bench.start`
for a local Ray) themselves.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from solarray.benchmarks.record import RESULTS_DIR, result_record, write_result
from solarray.benchmarks.sun import make_benchmark_sun
from solarray.core.ray_connect import connect

#: Where the benchmark Sun is built (and reused), and where benchmarks keep their runs.
SUN_ROOT = ".cache/benchmark_sun"
RUNS_ROOT = ".cache/benchmark_runs"


def command_line(script: str, argv: Sequence[str] | None) -> str:
    """The exact command that ran ``script`` (``argv`` None: this process's arguments)."""
    args = sys.argv[1:] if argv is None else argv
    return " ".join(["python", script, *map(shlex.quote, args)])


def parse_seeds(text: str) -> tuple[int, ...]:
    """``"0,1,2"`` → ``(0, 1, 2)``."""
    return tuple(int(s) for s in text.split(","))


def add_flags(parser: argparse.ArgumentParser, flags: Mapping[str, Any]) -> None:
    """Add flags given as data: ``{"--steps": 600}`` (the type is the default's; ``False`` is a
    switch), ``{"--encoder": ("", "help text")}``, or ``{"--x": {...add_argument kwargs}}``."""
    for flag, spec in flags.items():
        if isinstance(spec, Mapping):
            parser.add_argument(flag, **spec)
            continue
        default, help_ = spec if isinstance(spec, tuple) else (spec, None)
        if default is False:
            parser.add_argument(flag, action="store_true", help=help_)
        elif isinstance(default, int | float):
            parser.add_argument(flag, type=type(default), default=default, help=help_)
        else:
            parser.add_argument(flag, default=default, help=help_)


@dataclass
class Bench:
    """One benchmark script: ``name`` of its record (``docs/results/<name>.json``), the
    ``script`` path that reproduces it, and its docstring (the parser's description)."""

    name: str
    script: str
    doc: str | None
    command: str = ""
    out: str = ""
    t0: float = field(default_factory=time.perf_counter)

    def parser(self, flags: Mapping[str, Any] | None = None, *, sun: bool = False,
               runs: str | None = None, seeds: str | None = None,
               out: str | None = None) -> argparse.ArgumentParser:
        """The shared parser: ``--root`` (``sun``: the benchmark Sun), ``--runs-dir``
        (``runs``: under :data:`RUNS_ROOT`), ``--seeds`` (parsed to a tuple of ints), the
        script's ``flags`` (:func:`add_flags`) and ``--out`` (default
        ``docs/results/<name>.json``)."""
        p = argparse.ArgumentParser(description=(self.doc or self.name).splitlines()[0])
        if sun:
            p.add_argument("--root", default=SUN_ROOT, help="the benchmark Sun (built if missing)")
        if runs:
            p.add_argument("--runs-dir", default=f"{RUNS_ROOT}/{runs}")
        if seeds is not None:
            p.add_argument("--seeds", type=parse_seeds, default=parse_seeds(seeds),
                           help=f"comma-separated seeds (default {seeds})")
        add_flags(p, flags or {})
        p.add_argument("--out", default=out or str(RESULTS_DIR / f"{self.name}.json"),
                       help="where the JSON record goes")
        return p

    def parse(self, argv: Sequence[str] | None = None,
              flags: Mapping[str, Any] | argparse.ArgumentParser | None = None,
              **parser_kw: Any) -> argparse.Namespace:
        """Parse ``argv`` with :meth:`parser` (or a parser built from it); remember the command
        line and start the clock."""
        p = flags if isinstance(flags, argparse.ArgumentParser) else self.parser(flags, **parser_kw)
        args = p.parse_args(argv)
        self.command = command_line(self.script, argv)
        self.out = getattr(args, "out", None) or str(RESULTS_DIR / f"{self.name}.json")
        self.t0 = time.perf_counter()
        return args

    def sun(self, argv: Sequence[str] | None, flags: Mapping[str, Any] | None = None,
            runs: str | None = None, torch_threads: int = 2) -> argparse.Namespace:
        """A seed-protocol benchmark on the benchmark Sun: :meth:`parse` with ``--root``,
        ``--runs-dir`` (``runs``), ``--seeds`` (default 0,1,2) and ``flags``, then
        :meth:`start` on ``--root``."""
        args = self.parse(argv, flags, sun=True, runs=runs, seeds="0,1,2")
        self.start(args.root, torch_threads=torch_threads)
        return args

    @staticmethod
    def common(args: argparse.Namespace) -> dict[str, Any]:
        """The shared flags a benchmark config takes: ``root``, ``runs_dir``, ``seeds`` (those
        parsed)."""
        return {k: getattr(args, k) for k in ("root", "runs_dir", "seeds") if hasattr(args, k)}

    def start(self, root: str | None = None, torch_threads: int | None = 2, num_cpus: int = 2,
              restart_clock: bool = True, **connect_kw: Any) -> None:
        """Torch threads (None: left alone), a local Ray, and (``root``) the benchmark Sun built
        or reused there; the clock restarts after Ray is up unless ``restart_clock`` is False."""
        if torch_threads is not None:
            torch.set_num_threads(torch_threads)
        connect(num_cpus=num_cpus, **connect_kw)
        if restart_clock:
            self.t0 = time.perf_counter()
        if root is not None:
            make_benchmark_sun(root)

    def elapsed(self) -> float:
        """Seconds since the clock (re)started."""
        return time.perf_counter() - self.t0

    def finish(self, config: Any, results: dict, seeds: Sequence[int] = (),
               out: str | None = None) -> Path:
        """Stamp ``results["seconds"]``, write the protocol record to ``out`` (default: the
        parsed ``--out``) and say where. Returns the record's path."""
        results["seconds"] = round(self.elapsed(), 1)
        out = out or self.out or str(RESULTS_DIR / f"{self.name}.json")
        path = write_result(result_record(self.name, self.command, config, results, list(seeds)),
                            out)
        print(f"\n{results['seconds']:.0f} s; results in {out}")
        return path


__all__ = ["RUNS_ROOT", "SUN_ROOT", "Bench", "add_flags", "command_line", "parse_seeds"]
