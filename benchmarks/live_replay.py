"""Live operations under faults: unseen synthetic Suns replayed through `solarray watch`, the
watcher killed (SIGKILL) at random points and restarted, then checked: every time step forecast
exactly once, every verifiable forecast with its outcome, the running scores equal to
`solarray verify` on the same forecasts, the latency from a file landing to its stored forecast,
and the full-disk and per-region ROCA/BSS with 95 % bootstrap intervals (days resampled), pooled
over the Suns — beside the generator's oracle on the same rows (the best any forecast of those
Suns could score, :mod:`solarray.live.replay_scores`).

    python benchmarks/live_replay.py --days 10 --cadence 3h --size 128 --kills 2

The Suns span activity levels (``--activities``, one Sun each; 1 ≈ solar maximum), as the
benchmark Sun's test split does: one 10-day Sun at one level ranks days within a Sun, where even
the oracle scores near chance. Uses the demo's checkpoints when they exist (`solarray demo`; or
``--checkpoint-dir``, e.g. a serving set assembled from the automatic-chain benchmark), else the
untrained stand-ins (the report says which). Writes docs/results/live_replay.json.
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
from solarray.live.replay_scores import replay_pairs
from solarray.live.scores import verified_pairs
from solarray.live.store import ForecastStore
from solarray.metrics.bootstrap import SCORES, interval, paired_interval
from solarray.metrics.verification import verify

BENCH = Bench("live_replay", "benchmarks/live_replay.py", __doc__)


def _watch(synth: Path, store: Path, size: int, ckpt: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "solarray.cli", "watch", "--replay", str(synth), "--out",
         str(store), "--size", str(size), "--checkpoint-dir", str(ckpt), "--local"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


FLAGS = {"--days": 10.0, "--cadence": "3h", "--size": 128, "--kills": 2, "--seed": 11,
         "--activities": ("0.3,0.65,1.0,1.35", "one replayed Sun per activity level (1 ≈ solar "
                          "maximum), seeds --seed, --seed + 1, ..."),
         "--checkpoint-dir": (None, "checkpoints to serve (default: the demo's)"),
         "--channels": ("hmi_m,aia193,aia304", "channels of the replayed Sun (every one the "
                        "checkpoints read)"),
         "--work": (None, "working directory (default: a temp dir)")}


def _replay_sun(synth: Path, store_dir: Path, args, ckpt: Path, rng) -> dict | None:
    """Replay one Sun with ``args.kills`` SIGKILLs, then the run to the end; its checks."""
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
        return None
    wall_final = time.perf_counter() - t_final

    store = ForecastStore(store_dir)
    steps = Replay(synth, store_dir.parent / "probe").steps
    fc, oc = store.forecasts(), store.outcomes()
    xrs = pd.read_parquet(synth / "tables" / "xrs.parquet")
    xrs_end = pd.to_datetime(xrs["time"], utc=True).dt.tz_localize(None).max()
    scores = json.loads((store_dir / "scores.json").read_text())
    pairs = verified_pairs(store)["full_disk"]
    one_off = verify(pairs["observed"].to_numpy(), pairs["probability"].to_numpy()).scores()
    running = scores["full_disk"]["all"]["since_start"]
    equal = all((running[k] is None and one_off[k] is None)
                or abs(running[k] - one_off[k]) < 1e-12
                for k in ("tss", "hss", "bss", "roca"))
    return {"time_steps": len(steps), "forecasts": len(fc),
            "duplicated": int(len(fc) - fc["observation_time"].nunique()),
            "lost": len(steps) - int(fc["observation_time"].nunique()),
            "kills": len(kill_after), "stored_at_kill": kill_after,
            "verifiable": int((fc["observation_time"] + pd.Timedelta(hours=24) <= xrs_end).sum()),
            "outcomes": len(oc), "events": int(oc["observed"].sum()),
            "scores_equal_verify": bool(equal),
            "full_disk_since_start": {k: running.get(k) for k in ("n", "tss", "hss", "bss", "roca")},
            "latency_s": fc["latency_s"].to_numpy(float).tolist(),
            "final_run_wall_s": round(wall_final, 1), "skipped_inputs": len(store.skipped())}


def _pooled(pairs: list[dict[str, pd.DataFrame]]) -> dict:
    """Scores of the pooled verified forecasts with 95 % intervals (days resampled; the store
    keeps no region identity across observations, so per-region rows are resampled by day too),
    the oracle's on the same rows and the paired difference forecast − oracle."""
    out = {}
    for kind in ("full_disk", "regions"):
        df = pd.concat([p[kind] for p in pairs], ignore_index=True)
        if not len(df):
            out[kind] = {"n": 0}
            continue
        days = pd.to_datetime(df["observation_time"]).dt.strftime("%Y-%m-%d").to_numpy()
        y, p, o = (df[c].to_numpy(float) for c in ("observed", "probability", "oracle"))
        out[kind] = {"n": len(df), "events": int(y.sum()), **{
            name: interval(fn, y, p, days) for name, fn in SCORES.items()},
            "oracle": {name: interval(fn, y, o, days) for name, fn in SCORES.items()},
            "minus_oracle": {name: paired_interval(fn, y, p, o, days)
                             for name, fn in SCORES.items()}}
    return out


def main(argv: list[str] | None = None) -> int:
    args = BENCH.parse(argv, FLAGS)
    work = Path(args.work or tempfile.mkdtemp(prefix="live_replay_"))
    channels = tuple(c.strip() for c in args.channels.split(",") if c.strip())
    activities = [float(a) for a in args.activities.split(",") if a.strip()]
    ckpt = Path(args.checkpoint_dir).expanduser() if args.checkpoint_dir \
        else default_checkpoint_dir()
    trained = (ckpt / "spnet.pt").exists()
    if not trained:
        ckpt = work / "no_checkpoints"
        ckpt.mkdir(exist_ok=True)
    rng = np.random.default_rng(args.seed)
    suns, pairs = [], []
    for i, activity in enumerate(activities):
        # Each Sun starts after the previous one ends (days stay distinct for the bootstrap).
        start = pd.Timestamp("2024-01-01") + pd.Timedelta(days=i * (int(np.ceil(args.days)) + 2))
        synth = work / f"sun{i}" / "synth"
        if not (synth / "synth.json").exists():
            generate(SynthConfig(start=start.isoformat(), hours=24 * args.days,
                                 cadence_minutes=parse_cadence(args.cadence), size=args.size,
                                 seed=args.seed + i, activity=activity, channels=channels,
                                 preview=False), synth)
        print(f"Sun {i + 1}/{len(activities)}: activity {activity:g}, seed {args.seed + i}",
              flush=True)
        checks = _replay_sun(synth, work / f"sun{i}" / "store", args, ckpt, rng)
        if checks is None:
            return 1
        pairs.append(replay_pairs(ForecastStore(work / f"sun{i}" / "store"), synth))
        suns.append({"activity": activity, "seed": args.seed + i, "start": start.isoformat(),
                     **checks, "pooled": _pooled(pairs[-1:])})
    lat = np.concatenate([s.pop("latency_s") for s in suns])
    results = {
        "suns": suns,
        "time_steps": sum(s["time_steps"] for s in suns),
        "forecasts": sum(s["forecasts"] for s in suns),
        "duplicated": sum(s["duplicated"] for s in suns), "lost": sum(s["lost"] for s in suns),
        "kills": sum(s["kills"] for s in suns),
        "scores_equal_verify": all(s["scores_equal_verify"] for s in suns),
        "intervals_95": _pooled(pairs),
        "latency_s": {"p50": float(np.median(lat)), "p95": float(np.percentile(lat, 95))},
        "checkpoints": str(ckpt) if trained else "untrained"}
    print(json.dumps(results, indent=2, default=str))
    config = {"days": args.days, "cadence": args.cadence, "size": args.size,
              "channels": list(channels), "seed": args.seed, "activities": activities,
              "checkpoint_dir": str(ckpt)}
    BENCH.finish(config, results, [args.seed + i for i in range(len(activities))])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
