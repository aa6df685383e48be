"""Shared plumbing for the ``python -m jobs.<name>`` entry points.

- ``job_parser(name, description)``: an ArgumentParser whose ``--help`` names the job module.
- ``output_dir(text)``: an output directory that survives the job (relative paths are refused
  inside a Ray job: its working directory is a temporary copy of the checkout that Ray deletes).
- ``report(job, **fields)``: one machine-readable ``solarray-job-result: {json}`` line.
- ``refuse_relative_outputs(args)``: the one output-path check of every job (``main`` runs it).
- ``main(parser, run, argv)``: parse, check outputs, run, and turn ``UsageError`` into one
  line + exit 2.
- ``command_parser(name, description, *adders)`` / ``command_job(name, description, command)``:
  the parser (and ``run``) of a job that is a ``solarray`` command.

The commands join Ray themselves (:func:`solarray.core.ray_connect.connect`: inside a job, the
cluster that runs it; outside, a local Ray).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from solarray.core.errors import UsageError
from solarray.core.ray_connect import in_ray_job, submission_id

RESULT_PREFIX = "solarray-job-result: "


def job_parser(name: str, description: str | None) -> argparse.ArgumentParser:
    """Parser for ``jobs.<name>``; the description is the module docstring."""
    return argparse.ArgumentParser(prog=f"python -m jobs.{name}", description=description,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)


def output_dir(text: str, flag: str = "--out") -> Path:
    """An absolute output directory; ``UsageError`` for a relative path inside a Ray job."""
    path = Path(text).expanduser()
    if not path.is_absolute():
        if in_ray_job():
            raise UsageError(
                f"{flag} {text!r} is relative: a Ray job runs in a temporary copy of your checkout "
                "that Ray deletes; give an absolute path on storage the cluster's nodes share")
        path = path.resolve()
    return path


#: Arguments that name something a job writes (a string value is a path or a URI).
OUTPUT_ARGS = ("out", "storage", "json", "map", "ccmc")


def refuse_relative_outputs(args: argparse.Namespace) -> None:
    """The one check every job runs: each output argument (:data:`OUTPUT_ARGS`) that is a local
    path goes through :func:`output_dir` — made absolute, refused when relative inside a Ray
    job. URIs (``s3://``, ``gs://``) pass untouched."""
    for dest in OUTPUT_ARGS:
        value = getattr(args, dest, None)
        if isinstance(value, str) and value and "://" not in value:
            setattr(args, dest, str(output_dir(value, f"--{dest}")))


def report(job: str, **fields: Any) -> dict:
    """Print the job's result as one ``solarray-job-result: {json}`` line and return it."""
    record = {"job": job, "submission_id": submission_id(), **fields}
    print(RESULT_PREFIX + json.dumps(record, default=str), flush=True)
    return record


def parse_result(log: str) -> dict | None:
    """The last ``solarray-job-result`` record in a job's log text (``ray job logs``), or None."""
    found = None
    for line in log.splitlines():
        if line.startswith(RESULT_PREFIX):
            found = json.loads(line[len(RESULT_PREFIX):])
    return found


def main(parser: argparse.ArgumentParser, run: Callable[[argparse.Namespace], int | None],
         argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` and run; a ``UsageError`` prints ``<prog>: error: <message>`` and exits 2."""
    args = parser.parse_args(argv)
    try:
        refuse_relative_outputs(args)
        return int(run(args) or 0)
    except UsageError as err:
        print(f"{parser.prog}: error: {err}", file=sys.stderr)
        return 2


def command_parser(name: str, description: str | None,
                   *adders: Callable[[argparse.ArgumentParser], None]) -> argparse.ArgumentParser:
    """:func:`job_parser` with a command's arguments (each of ``adders`` adds some)."""
    parser = job_parser(name, description)
    for add in adders:
        add(parser)
    return parser


def command_job(name: str, description: str | None, command: ModuleType
                ) -> tuple[Callable[[], argparse.ArgumentParser], Callable[[argparse.Namespace], int]]:
    """``(build_parser, run)`` of job ``jobs.<name>`` that is ``solarray <command>`` (a
    :mod:`solarray.commands` module): the command's own arguments and run, with ``--help`` and
    errors naming ``python -m jobs.<name>``."""
    return (lambda: command_parser(name, description, command.add_arguments)), command.run
