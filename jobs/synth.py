"""Render the synthetic Sun (level-1 AIA/HMI FITS, masks, flare/XRS/F10.7 tables) as a Ray job.

    ray job submit --address http://127.0.0.1:8265 --working-dir . \\
        --runtime-env jobs/runtime_env.yaml -- \\
        python -m jobs.synth --out /shared/synth --hours 24 --size 256

The arguments are those of ``solarray synth``. Inside a Ray job ``--out`` must be absolute (on a
cluster: storage every node can read, for the ingest job that follows). Prints the usual summary
and one ``solarray-job-result: {json}`` line with the output directory and file counts.
"""

from __future__ import annotations

import argparse
import sys
import time

from jobs import _common
from solarray.commands import synth as synth_command
from solarray.core.errors import UsageError
from solarray.data.synthetic import SynthConfig, generate, parse_cadence


def build_parser() -> argparse.ArgumentParser:
    return _common.command_parser("synth", __doc__, synth_command.add_arguments)


def _config(args: argparse.Namespace):
    from astropy.time import Time

    hours = args.hours if args.hours is not None else 6.0
    if args.end is not None:
        try:
            hours = float((Time(args.end, scale="utc") - Time(args.start, scale="utc")).to_value("hour"))
        except ValueError:
            raise ValueError(f"--start/--end: expected ISO times, got {args.start!r}, {args.end!r}") from None
        if hours <= 0:
            raise ValueError(f"--end {args.end} is not after --start {args.start}")
    return SynthConfig(start=args.start, hours=hours, cadence_minutes=parse_cadence(args.cadence),
                       size=args.size, seed=args.seed, channels=args.channels, vector=args.vector,
                       bad_frame_rate=args.bad_frames, activity=args.activity,
                       compress=args.compress, preview=not args.no_preview)


def run(args: argparse.Namespace) -> int:
    out = _common.output_dir(args.out)
    try:
        cfg = _config(args)
    except (ValueError, KeyError) as err:
        raise UsageError(str(err).strip("'\"")) from None
    t0 = time.perf_counter()
    try:
        result = generate(cfg, out)
    except PermissionError as err:
        raise UsageError(str(err)) from None
    seconds = time.perf_counter() - t0
    print(f"wrote {result.n_files} FITS files ({cfg.n_steps} steps × {len(cfg.channels)} channels), "
          f"{result.n_flares} flares, to {out} in {seconds:.1f} s")
    _common.report("synth", out=str(out), manifest=str(out / "synth.json"),
                   n_files=result.n_files, n_steps=cfg.n_steps, channels=list(cfg.channels),
                   n_flares=result.n_flares, preview=result.preview, seconds=round(seconds, 2))
    return 0


if __name__ == "__main__":
    sys.exit(_common.main(build_parser(), run))
