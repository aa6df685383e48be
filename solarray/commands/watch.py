"""``solarray watch``: forecast each new observation as it lands; score each past forecast.

Live: ``solarray watch --input DIR --goes SOURCE --every 12min --out STORE`` runs the watcher
(:mod:`solarray.live.watcher`) as a named Ray actor until Ctrl-C (``--detach``: it keeps running
after this command returns; ``--stop NAME`` ends it). Replay: ``solarray watch --replay SYNTH_DIR
--speed 3600 --out STORE`` feeds a synthetic Sun's files in time order through the same watcher
and exits when they are exhausted.
"""

from __future__ import annotations

import argparse
import os
import signal
from pathlib import Path

import ray

from solarray.core.errors import UsageError
from solarray.core.frame import DEFAULT_GRID
from solarray.core.ray_connect import connect
from solarray.data.sources import is_url
from solarray.data.synthetic import parse_cadence
from solarray.live.actor import start_actor, stop_actor
from solarray.live.replay import Replay, run_replay
from solarray.live.store import ForecastStore
from solarray.live.watcher import WatchConfig, Watcher

NAME = "watch"
HELP = ("live operations: forecast each new co-temporal AIA+HMI set as it lands (or replay a "
        "synthetic Sun), store every forecast and score it once GOES shows the flares")


def add_arguments(p: argparse.ArgumentParser) -> None:
    src = p.add_mutually_exclusive_group()
    src.add_argument("--input", help="directory (or URL) where level-1 FITS files land")
    src.add_argument("--replay", metavar="SYNTH_DIR",
                     help="a `solarray synth` output to deliver in time order as if live")
    src.add_argument("--stop", metavar="NAME", help="stop the detached watcher NAME and exit")
    p.add_argument("--out", help="the forecast store directory (Parquet, partitioned by day)")
    p.add_argument("--goes", default=None,
                   help="GOES XRS file or tables/ directory (xrs.parquet, events.parquet), "
                        "re-read every poll (default with --replay: the replayed GOES data)")
    p.add_argument("--every", default="12min", help="poll period (default 12min)")
    p.add_argument("--cadence", default=None,
                   help="observation grid (default: --every; with --replay the synthetic cadence)")
    p.add_argument("--speed", type=float, default=0.0,
                   help="--replay: Sun seconds per wall second (0: as fast as the cycle runs)")
    p.add_argument("--live-dir", default=None,
                   help="--replay: where files are delivered (default: STORE/../<store>_live)")
    p.add_argument("--size", type=int, default=DEFAULT_GRID,
                   help=f"sample grid in pixels (default {DEFAULT_GRID})")
    p.add_argument("--checkpoint-dir", default=None,
                   help="checkpoints per role (default: where `solarray demo` leaves them)")
    p.add_argument("--grace", default=None,
                   help="how long a set missing a channel is waited for before it is forecast "
                        "degraded from the channels present (default: one --cadence step; "
                        "--replay: 0, a replayed step's files land together)")
    p.add_argument("--settle", type=float, default=2.0,
                   help="seconds a file must be unchanged before it is read (default 2)")
    p.add_argument("--name", default="default", help="watcher name (one per input stream)")
    p.add_argument("--detach", action="store_true", help="leave the watcher running and return")
    p.add_argument("--local", action="store_true",
                   help="run the watcher in this process instead of a Ray actor (debugging)")


def _minutes(flag: str, text: str) -> float:
    try:
        value = parse_cadence(text)
    except ValueError as err:
        raise UsageError(f"{flag}: {err}") from None
    if value <= 0:
        raise UsageError(f"{flag}: must be a positive duration, got {text!r}")
    return value


def _config(args: argparse.Namespace, **over) -> WatchConfig:
    every = _minutes("--every", args.every)
    cadence = _minutes("--cadence", args.cadence) if args.cadence else every
    grace = _minutes("--grace", args.grace) * 60.0 if args.grace else None
    values = dict(input=args.input, store=args.out, goes=args.goes, every_s=every * 60.0,
                  cadence_minutes=cadence, tolerance_minutes=min(6.0, cadence / 2),
                  settle_s=args.settle, size=args.size, checkpoint_dir=args.checkpoint_dir,
                  grace_s=grace)
    values.update(over)
    try:
        return WatchConfig(**values)
    except ValueError as err:
        raise UsageError(str(err)) from None


def _check(args: argparse.Namespace) -> None:
    if not args.out:
        raise UsageError("--out: the forecast store directory is required")
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        raise UsageError(f"--out: {args.out} exists and is not a directory")
    ForecastStore(args.out)
    if args.speed < 0:
        raise UsageError(f"--speed must be ≥ 0, got {args.speed}")
    if args.goes and not os.path.exists(args.goes):
        raise UsageError(f"--goes: no such file or directory: {args.goes}")


def _replay(args: argparse.Namespace) -> int:
    try:
        replay = Replay(args.replay, args.live_dir or f"{args.out.rstrip('/')}_live")
    except (FileNotFoundError, OSError, ValueError) as err:
        raise UsageError(f"--replay: {err}") from None
    cadence = (replay.steps[1].t - replay.steps[0].t).total_seconds() / 60 \
        if len(replay.steps) > 1 else 60.0
    # A step's files are released together: a channel the replayed Sun lacks never comes, so it
    # is not waited for (forecast degraded at once) unless --grace says otherwise.
    cfg = _config(args, input=str(replay.input_dir), goes=args.goes or str(replay.goes_dir),
                  cadence_minutes=cadence, tolerance_minutes=min(6.0, cadence / 2), settle_s=0.0,
                  **({} if args.grace else {"grace_s": 0.0}))
    print(f"replaying {len(replay.steps)} time steps of {replay.synth} into {replay.live} "
          f"(speed {args.speed:g}; store {cfg.store})", flush=True)
    if args.local:
        poll = Watcher(cfg).poll_once
    else:
        connect()
        actor = start_actor(cfg, args.name)
        def poll() -> dict:
            return ray.get(actor.poll_once.remote())
    totals = run_replay(replay, poll, args.speed)
    if not args.local:
        stop_actor(args.name)
    print(f"replay done: {totals['forecasts']} forecast(s) issued, {totals['verified']} verified; "
          f"store {cfg.store}")
    return 0


def run(args: argparse.Namespace) -> int:
    if args.stop:
        connect()
        found = stop_actor(args.stop)
        print(f"watcher {args.stop!r} {'stopped' if found else 'was not running'}")
        return 0 if found else 2
    if not args.input and not args.replay:
        raise UsageError("give --input DIR (live), --replay SYNTH_DIR or --stop NAME")
    _check(args)
    if args.replay:
        return _replay(args)
    remote = is_url(args.input)
    if not remote and not os.path.isdir(args.input):
        raise UsageError(f"--input: no such directory: {args.input}")
    cfg = _config(args, input=args.input if remote else str(Path(args.input).resolve()),
                  store=str(Path(args.out).resolve()))
    if args.local:
        stop = {"now": False}
        signal.signal(signal.SIGTERM, lambda *_: stop.update(now=True))
        try:
            Watcher(cfg).run(lambda: stop["now"])
        except KeyboardInterrupt:
            pass
        return 0
    connect()
    actor = start_actor(cfg, args.name, detached=args.detach, loop=True)
    if args.detach:
        actor.run.remote()
        print(f"watcher {args.name!r} running (detached); stop it with "
              f"`solarray watch --stop {args.name}`")
        return 0
    try:
        while True:
            try:
                ray.get(actor.run.remote())
                break
            except ray.exceptions.RayActorError as err:
                # Ray restarts the actor (max_restarts) and the restarted actor resumes the loop
                # from the store; wait on it again.
                print(f"the watcher actor died ({str(err).splitlines()[0][:120]}); Ray restarts "
                      f"it and it resumes from the store", flush=True)
    except KeyboardInterrupt:
        ray.get(actor.stop.remote())
    finally:
        stop_actor(args.name)
    return 0
