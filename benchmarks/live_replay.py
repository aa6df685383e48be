"""Live operations under faults: a synthetic Sun replayed through `solarray watch`, the watcher
killed (SIGKILL) at random points and restarted, then checked: every time step forecast exactly
once, every verifiable forecast with its outcome, the running scores equal to `solarray verify`
on the same forecasts, the latency from a file landing to its stored forecast, and the full-disk
and per-region ROCA/BSS with 95 % bootstrap intervals (days resampled).

    python benchmarks/live_replay.py --days 10 --cadence 3h --size 128 --kills 2

Uses the demo's checkpoints when they exist (`solarray demo`; or ``--checkpoint-dir``, e.g. a
serving set assembled from the automatic-chain benchmark), else the untrained stand-ins (the
report says which). ``--activity`` sets the replayed Sun's activity (1 ≈ solar maximum). Writes
docs/results/live_replay.json.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from solarray.benchmarks.script import Bench
from solarray.core.checkpoints import default_checkpoint_dir
from solarray.data.synthetic import SynthConfig, generate, parse_cadence
from solarray.live.replay import Replay
from solarray.live.scores import verified_pairs
from solarray.live.store import ForecastStore
from solarray.metrics.bootstrap import SCORES, interval
from solarray.metrics.verification import verify

BENCH = Bench("live_replay", "benchmarks/live_replay.py", __doc__)


def _watch(synth: Path, store: Path, size: int, ckpt: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "solarray.cli", "watch", "--replay", str(synth), "--out",
         str(store), "--size", str(size), "--checkpoint-dir", str(ckpt), "--local"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


FLAGS = {"--days": 10.0, "--cadence": "3h", "--size": 128, "--kills": 2, "--seed": 11,
         "--activity": (1.0, "the replayed Sun's activity (1 ≈ solar maximum)"),
         "--checkpoint-dir": (None, "checkpoints to serve (default: the demo's)"),
         "--channels": ("hmi_m,aia193,aia304", "channels of the replayed Sun (every one the "
                        "checkpoints read)"),
         "--work": (None, "working directory (default: a temp dir)")}


def main(argv: list[str] | None = None) -> int:
    args = BENCH.parse(argv, FLAGS)
    work = Path(args.work or tempfile.mkdtemp(prefix="live_replay_"))
    synth, store_dir = work / "synth", work / "store"
    channels = tuple(c.strip() for c in args.channels.split(",") if c.strip())
    if not (synth / "synth.json").exists():
        generate(SynthConfig(start="2024-01-01T00:00:00", hours=24 * args.days,
                             cadence_minutes=parse_cadence(args.cadence), size=args.size,
                             seed=args.seed, activity=args.activity,
                             channels=channels,
                             preview=False), synth)
    ckpt = Path(args.checkpoint_dir).expanduser() if args.checkpoint_dir \
        else default_checkpoint_dir()
    trained = (ckpt / "spnet.pt").exists()
    if not trained:
        ckpt = work / "no_checkpoints"
        ckpt.mkdir(exist_ok=True)
    rng = np.random.default_rng(args.seed)
    kill_after = []
    for _ in range(args.kills):
        proc = _watch(synth, store_dir, args.size, ckpt)
        target = len(ForecastStore(store_dir).forecasts()) + int(rng.integers(3, 15))
        while proc.poll() is None and len(ForecastStore(store_dir).forecasts()) < target:
            time.sleep(0.05)
        time.sleep(float(rng.uniform(0, 1.0)))  # somewhere inside the next cycle
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kill_after.append(len(ForecastStore(store_dir).forecasts()))
        proc.wait(60)
        print(f"killed after {kill_after[-1] if kill_after else '?'} stored forecasts", flush=True)
    t_final = time.perf_counter()
    proc = _watch(synth, store_dir, args.size, ckpt)
    out, _ = proc.communicate()
    if proc.returncode != 0:
        print(out[-3000:])
        return 1
    wall_final = time.perf_counter() - t_final

    store = ForecastStore(store_dir)
    steps = Replay(synth, work / "probe").steps
    fc, oc = store.forecasts(), store.outcomes()
    xrs = pd.read_parquet(synth / "tables" / "xrs.parquet")
    xrs_end = pd.to_datetime(xrs["time"], utc=True).dt.tz_localize(None).max()
    verifiable = int((fc["observation_time"] + pd.Timedelta(hours=24) <= xrs_end).sum())
    scores = json.loads((store_dir / "scores.json").read_text())
    pairs = verified_pairs(store)["full_disk"]
    one_off = verify(pairs["observed"].to_numpy(), pairs["probability"].to_numpy()).scores()
    running = scores["full_disk"]["all"]["since_start"]
    equal = all((running[k] is None and one_off[k] is None)
                or abs(running[k] - one_off[k]) < 1e-12
                for k in ("tss", "hss", "bss", "roca"))
    lat = fc["latency_s"].to_numpy(float)
    # 95 % bootstrap intervals resampling days (the store keeps no region identity across
    # observations, so per-region forecasts are resampled by day too)
    intervals = {}
    for kind, df in verified_pairs(store).items():
        days = pd.to_datetime(df["observation_time"]).dt.strftime("%Y-%m-%d").to_numpy()
        intervals[kind] = {"n": len(df), "events": int(df["observed"].sum()), **{
            name: interval(fn, df["observed"].to_numpy(), df["probability"].to_numpy(), days)
            for name, fn in SCORES.items()}} if len(df) else {"n": 0}
    results = {
        "time_steps": len(steps), "forecasts": len(fc),
        "duplicated": int(len(fc) - fc["observation_time"].nunique()),
        "lost": len(steps) - int(fc["observation_time"].nunique()),
        "kills": len(kill_after), "stored_at_kill": kill_after,
        "verifiable": verifiable, "outcomes": len(oc), "events": int(oc["observed"].sum()),
        "scores_equal_verify": bool(equal),
        "full_disk_since_start": {k: running.get(k) for k in ("n", "tss", "hss", "bss", "roca")},
        "intervals_95": intervals,
        "latency_s": {"p50": float(np.median(lat)), "p95": float(np.percentile(lat, 95))},
        "final_run_wall_s": round(wall_final, 1), "checkpoints": str(ckpt) if trained else "untrained",
        "skipped_inputs": len(store.skipped())}
    print(json.dumps(results, indent=2))
    config = {"days": args.days, "cadence": args.cadence, "size": args.size,
              "channels": list(channels), "seed": args.seed,
              "activity": args.activity, "checkpoint_dir": str(ckpt)}
    BENCH.finish(config, results, [args.seed])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
