"""``solarray synth``: render the synthetic Sun as level-1 FITS with ground truth and a preview."""

from __future__ import annotations

import argparse

from solarray.core.errors import UsageError
from solarray.core.paths import require_out_dir
from solarray.data.synthetic import SynthConfig, generate, parse_cadence

NAME = "synth"
HELP = "render a synthetic Sun: co-temporal AIA/HMI level-1 FITS, masks, flares, XRS, F10.7"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--start", default="2024-01-01T00:00", help="first time step, UTC (ISO)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--hours", type=float, default=None, help="duration in hours (default 6)")
    g.add_argument("--end", default=None, help="last time step, UTC (ISO), instead of --hours")
    p.add_argument("--cadence", default="12min", help="time between steps: 12min, 720s, 1h")
    p.add_argument("--size", type=int, default=256, help="image size N (N×N pixels), 16–8192")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--channels", default=None,
                   help="comma-separated channel names (default: all AIA + hmi_m)")
    p.add_argument("--vector", action="store_true", help="also render HMI Bx, By, Bz")
    p.add_argument("--bad-frames", type=float, default=0.0,
                   help="probability of an off-pointed or missing frame per channel and time")
    p.add_argument("--activity", type=float, default=1.0, help="1 ≈ solar maximum")
    p.add_argument("--compress", action="store_true", help="write RICE-compressed FITS")
    p.add_argument("--no-preview", action="store_true")


def run(args: argparse.Namespace) -> int:
    import time
    from pathlib import Path

    from astropy.time import Time
    from tqdm import tqdm

    try:
        cadence = parse_cadence(args.cadence)
        hours = args.hours if args.hours is not None else 6.0
        if args.end is not None:
            try:
                end, start = Time(args.end, scale="utc"), Time(args.start, scale="utc")
            except ValueError:
                raise ValueError(f"--start/--end: expected ISO times, got {args.start!r}, {args.end!r}") from None
            hours = float((end - start).to_value("hour"))
            if hours <= 0:
                raise ValueError(f"--end {args.end} is not after --start {args.start}")
        cfg = SynthConfig(start=args.start, hours=hours, cadence_minutes=cadence, size=args.size,
                          seed=args.seed, channels=args.channels, vector=args.vector,
                          bad_frame_rate=args.bad_frames, activity=args.activity,
                          compress=args.compress, preview=not args.no_preview)
    except (ValueError, KeyError) as err:
        raise UsageError(str(err).strip("'\"")) from None
    out = Path(require_out_dir("--out", args.out))
    t_start = time.perf_counter()
    # disable=None: no bar when stderr is not a terminal (logs, jobs), where it is only noise
    bar = tqdm(total=cfg.n_steps, unit="step", desc="synth", disable=None)

    def progress(done: int, total: int) -> None:
        bar.update(done - bar.n)

    try:
        result = generate(cfg, out, progress=progress)
    except PermissionError as err:
        raise UsageError(str(err)) from None
    finally:
        bar.close()
    dt = time.perf_counter() - t_start
    print(f"wrote {result.n_files} FITS files ({cfg.n_steps} steps × {len(cfg.channels)} channels, "
          f"{len(result.bad_frames)} bad frames), {result.n_flares} flares in the event table, "
          f"to {out} in {dt:.1f} s")
    if result.preview:
        print(f"preview: {result.preview}")
    return 0
