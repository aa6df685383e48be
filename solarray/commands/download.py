"""``solarray download``: fetch real AIA/HMI level-1 FITS files (sunpy Fido: VSO, or JSOC).

A network fault (no network, a refused mirror, a timeout, a file cut off mid-transfer) ends in one
line naming the source and what to do; complete files stay on disk and a re-run fetches only
what is missing (:func:`solarray.data.dl.download`)."""

from __future__ import annotations

import re

from solarray.core import channels as chans
from solarray.core.errors import UsageError
from solarray.core.paths import require_out_dir
from solarray.data import download as dl

NAME = "download"
HELP = "download AIA/HMI level-1 FITS files for a time range (sunpy Fido; needs the network)"


def parse_minutes(text: str) -> float:
    """'12min', '12m', '45s', '1h', '12' (minutes) → minutes."""
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*(s|sec|m|min|h|hr|hour)?\s*", str(text))
    if not m:
        raise ValueError(f"cannot read a cadence from {text!r} (examples: 12min, 45s, 1h)")
    value, unit = float(m.group(1)), (m.group(2) or "min")
    minutes = value / 60 if unit in ("s", "sec") else value * 60 if unit.startswith("h") else value
    if not minutes > 0:
        raise ValueError(f"cadence must be > 0, got {text!r}")
    return minutes


def add_arguments(p) -> None:
    p.add_argument("--start", required=True, help="UTC start, e.g. 2024-01-01T00:00")
    p.add_argument("--end", required=True, help="UTC end")
    p.add_argument("--cadence", default="12min", help="time between kept frames (default 12min)")
    p.add_argument("--channels", default=None, help="comma-separated (default: all AIA + hmi_m)")
    p.add_argument("--out", default="data/raw", help="directory; files go to OUT/<channel>/")
    p.add_argument("--jsoc-email", default=None,
                   help="registered JSOC export e-mail: use JSOC (drms) instead of the VSO")
    p.add_argument("--provider", default=None,
                   help="one VSO data provider (e.g. JSOC, SDAC; default: any); not with --jsoc-email")
    p.add_argument("--max-conn", type=int, default=4, help="parallel downloads (default 4)")


def run(args, fido=None) -> int:
    try:
        cadence = parse_minutes(args.cadence)
    except ValueError as err:
        raise UsageError(f"--cadence: {err}") from None
    try:
        channels = chans.resolve(args.channels)
    except (KeyError, ValueError) as err:
        raise UsageError(f"--channels: {err.args[0]}") from None
    try:
        dl.time_range(args.start, args.end)
    except ValueError as err:
        raise UsageError(f"--start/--end: {err}") from None
    provider = getattr(args, "provider", None)
    if provider and args.jsoc_email:
        raise UsageError("--provider picks a VSO data provider; with --jsoc-email files come from "
                         "JSOC itself: give one or the other")
    require_out_dir("--out", args.out)
    cfg = dl.DownloadConfig(start=args.start, end=args.end, channels=channels,
                                 cadence_minutes=cadence, out_dir=args.out,
                                 jsoc_email=args.jsoc_email, max_conn=args.max_conn,
                                 provider=provider)
    try:
        got = dl.download(cfg, fido=fido)
    except dl.DownloadError as err:
        # the network's state, not a bug: one line (the traceback stays with SOLARRAY_DEBUG=1)
        raise UsageError(str(err)) from err
    except ValueError as err:
        raise UsageError(str(err)) from None
    total = sum(len(v) for v in got.values())
    print(f"[download] {total} files in {args.out}: " + ", ".join(f"{k} {len(v)}" for k, v in got.items()))
    return 0
