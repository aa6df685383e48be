"""Live operations end to end: a 10-day synthetic Sun (daily cadence) replayed through the watcher, killed twice at
random points and restarted; the store holds every time step once, each verifiable one with its
outcome, and the running scores. Also the watcher as a Ray actor, and what it skips."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import ray

from solarray.data.synthetic import SynthConfig, generate
from solarray.live.actor import start_actor, stop_actor
from solarray.live.replay import Replay, run_replay
from solarray.live.store import ForecastStore
from solarray.live.watcher import WatchConfig, Watcher

CHANNELS = ("hmi_m", "aia193", "aia304")


@pytest.fixture(scope="module")
def ten_days(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("synth") / "sun"
    generate(SynthConfig(start="2024-01-01T00:00:00", hours=240, cadence_minutes=1440, size=64,
                         seed=5, channels=CHANNELS, preview=False), out)
    return out


def _watch(synth: Path, store: Path, empty_ckpt: Path) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "solarray.cli", "watch", "--replay", str(synth), "--out",
           str(store), "--size", "64", "--checkpoint-dir", str(empty_ckpt), "--local"]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


@pytest.mark.rehearsal
@pytest.mark.slow
def test_replay_killed_twice_resumes_without_duplicates_or_losses(ten_days, tmp_path):
    store_dir, ckpt = tmp_path / "store", tmp_path / "no_checkpoints"
    ckpt.mkdir()
    rng = np.random.default_rng()
    kills = 0
    for _ in range(2):
        proc = _watch(ten_days, store_dir, ckpt)
        # kill once it is inside the loop: after some forecasts, at a random moment
        deadline = time.monotonic() + 120
        target = len(ForecastStore(store_dir).forecasts()) + int(rng.integers(1, 5))
        while time.monotonic() < deadline and proc.poll() is None:
            if len(ForecastStore(store_dir).forecasts()) >= target:
                time.sleep(float(rng.uniform(0, 0.6)))
                break
            time.sleep(0.05)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait(30)
    assert kills == 2
    proc = _watch(ten_days, store_dir, ckpt)
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode == 0, out
    assert "replay done" in out

    store = ForecastStore(store_dir)
    steps = Replay(ten_days, tmp_path / "probe").steps
    fc = store.forecasts()
    assert len(steps) == 11  # 10 days, daily
    assert len(fc) == len(steps)  # nothing lost ...
    assert fc["observation_time"].is_unique  # ... nothing forecast twice
    assert not list(store_dir.rglob("*.tmp*"))
    xrs = pd.read_parquet(ten_days / "tables" / "xrs.parquet")
    xrs_end = pd.to_datetime(xrs["time"], utc=True).dt.tz_localize(None).max()
    verifiable = fc["observation_time"] + pd.Timedelta(hours=24) <= xrs_end
    oc = store.outcomes()
    assert len(oc) == int(verifiable.sum()) >= 9
    assert oc["observation_time"].is_unique
    scores = store.root / "scores.json"
    assert scores.exists()
    assert (fc["latency_s"] >= 0).all()


def test_watcher_actor_and_skipped_inputs(ray_session, ten_days, tmp_path):
    replay = Replay(ten_days, tmp_path / "live")
    replay.steps = replay.steps[:3]
    cfg = WatchConfig(input=str(replay.input_dir), store=str(tmp_path / "store"),
                      goes=str(replay.goes_dir), every_s=1.0, cadence_minutes=1440,
                      settle_s=0.0, size=64, checkpoint_dir=str(tmp_path / "none"))
    actor = start_actor(cfg, "test")
    totals = run_replay(replay, lambda: ray.get(actor.poll_once.remote()), 0.0, log=lambda s: None)
    assert stop_actor("test") and not stop_actor("test")
    assert totals["forecasts"] == 3
    assert len(ForecastStore(cfg.store).forecasts()) == 3

    # A corrupt file is recorded and skipped; an incomplete set is waited for one grace period,
    # then forecast degraded (never skipped, never waited for for ever).
    live_in = Path(cfg.input)
    (live_in / "hmi_m" / "broken.fits").write_bytes(b"SIMPLE  = T\n garbage")
    late = replay.steps[2].t + pd.Timedelta(days=1)  # the next, never released, step
    src = next(p for p in (ten_days / "fits" / "aia193").iterdir()
               if late.strftime("%Y-%m-%dT%H%M") in p.name)
    shutil.copy(src, live_in / "aia193" / src.name)
    watcher = Watcher(cfg, log=lambda s: None)
    now = time.time()
    first = watcher.poll_once(now)
    assert first["forecasts"] == 0
    store = ForecastStore(cfg.store)
    reasons = [s["reason"] for s in store.skipped()]
    assert any(r.startswith("corrupt file") for r in reasons)
    assert len(store.forecasts()) == 3  # still waited for
    assert watcher.poll_once(os.stat(live_in / "aia193" / src.name).st_mtime + cfg.grace
                             + 1)["forecasts"] == 1
    fc = store.forecasts()
    assert len(fc) == 4 and fc["degraded"].tolist() == [False, False, False, True]
    assert "hmi_m" in fc["missing"].iloc[-1] and fc["fallback"].iloc[-1]


def _wait_for(predicate, timeout: float = 90.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def test_watcher_actor_killed_is_restarted_and_resumes_its_loop(ray_session, ten_days, tmp_path):
    """The live watcher actor (``loop=True``) is SIGKILLed inside its loop: Ray restarts it, the
    restarted actor resumes watching by itself (Ray does not re-send the ``run`` call), forecasts
    the step released after the kill, and never forecasts a time twice."""
    replay = Replay(ten_days, tmp_path / "live")
    cfg = WatchConfig(input=str(replay.input_dir), store=str(tmp_path / "store"),
                      goes=str(replay.goes_dir), every_s=0.3, cadence_minutes=1440,
                      settle_s=0.0, size=64, checkpoint_dir=str(tmp_path / "none"))
    store = ForecastStore(cfg.store)
    for k in range(2):
        replay.release(k)
    actor = start_actor(cfg, "restart", loop=True)
    try:
        actor.run.remote()
        assert _wait_for(lambda: len(store.forecasts()) == 2), "the loop never forecast"
        pid = ray.get(actor.pid.remote())
        assert not ray.get(actor.was_resumed.remote())
        os.kill(pid, signal.SIGKILL)
        replay.release(2)
        assert _wait_for(lambda: len(store.forecasts()) == 3), "the restarted actor sat idle"
        assert ray.get(actor.pid.remote()) != pid and ray.get(actor.was_resumed.remote())
    finally:
        stop_actor("restart")
    fc = store.forecasts()
    assert fc["observation_time"].is_unique
    gaps = [abs((t - pd.Timestamp(s.t)).total_seconds())
            for t, s in zip(sorted(fc["observation_time"]), replay.steps[:3], strict=True)]
    assert max(gaps) < 600  # the three released steps, each once


def test_discovery_polls_a_url_through_fsspec(ten_days):
    """A remote input (here fsspec's in-memory filesystem standing in for HTTP/S3): files are
    listed, waited for until unchanged over one poll, grouped and read through fsspec."""
    import fsspec

    from solarray.live.discover import Discovery, read_bytes

    fs = fsspec.filesystem("memory")
    step = Replay(ten_days, ten_days.parent / "probe").steps[0]
    for f in step.files:
        fs.pipe(f"/incoming/{Path(f).parent.name}/{Path(f).name}", Path(f).read_bytes())
    disc = Discovery("memory://incoming", CHANNELS, 1440, settle_s=0.5)
    now = time.time()
    assert disc.poll(now)[0] == []  # first sighting: not yet known to be complete
    sets, rejects = disc.poll(now + 1)
    assert len(sets) == 1 and sets[0].complete and not rejects
    hmi = sets[0].files["hmi_m"]
    assert hmi.startswith("memory://") and read_bytes(hmi)[:6] == b"SIMPLE"
    fs.rm("/incoming", recursive=True)
