"""Helpers for tests that run the forecaster's Serve app on 127.0.0.1: one synthetic time step,
a free port, per-deployment options sized for a 2-core machine, and headless Chromium."""

from __future__ import annotations

import shutil
import socket
import subprocess
from pathlib import Path

CHANNELS = ("aia193", "aia304", "hmi_m")
SIZE = 96
APP = "forecaster"


def make_time_step(out: Path, seed: int = 3) -> dict[str, Path]:
    """One time step of the synthetic Sun (:data:`CHANNELS`, 128², level-1 FITS and the GOES
    tables) under ``out``; channel → FITS path."""
    from solarray.data.synthetic import SynthConfig, generate

    generate(SynthConfig(start="2024-01-01T00:00", hours=0, size=128, seed=seed,
                         channels=CHANNELS, preview=False), out)
    return {ch: sorted((out / "fits" / ch).glob("*.fits"))[0] for ch in CHANNELS}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def options(tmp: Path, synth_dir: Path, cpus: float = 0.25, replicas: dict | None = None,
            **ingress) -> dict:
    """Per-deployment options: untrained tiny models explicitly allowed (health 200), the
    synthetic GOES history, ``cpus`` per replica, ``replicas`` (deployment → count)."""
    from solarray.serve.app import FPNET, IATOOLS, INGRESS, SPNET

    common = {"ray_actor_options": {"num_cpus": cpus}, "graceful_shutdown_wait_loop_s": 0.1,
              "graceful_shutdown_timeout_s": 1}
    empty = str(tmp / "no-checkpoints")
    Path(empty).mkdir(parents=True, exist_ok=True)
    models = {"checkpoint_dir": empty, "allow_untrained": True}
    out = {
        SPNET: {**common, "user_config": {**models, "max_batch_size": 4}},
        IATOOLS: {**common, "user_config": {**models, "goes": {"xrs": str(synth_dir)}}},
        FPNET: {**common, "user_config": {**models}},
        INGRESS: {**common, "user_config": {"size": SIZE, "max_request_mb": 3,
                                            "dataset_roots": [str(tmp)], **ingress}},
    }
    for name, n in (replicas or {}).items():
        out[name]["num_replicas"] = n
    return out


def chromium() -> str:
    """Path of Debian's ``chromium`` (``.ci/run`` installs it); a clear failure without it."""
    import pytest

    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        pytest.fail("headless browser test needs Debian's chromium: apt-get install -y chromium "
                    "(.ci/run installs it when missing)")
    return exe


def browse(url: str, profile: Path, *extra: str, budget_ms: int = 8000,
           timeout: float = 90.0) -> subprocess.CompletedProcess:
    """Headless Chromium on ``url`` (own profile directory, no sandbox: CI runs as root)."""
    cmd = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
           "--no-first-run", "--disable-extensions", f"--user-data-dir={profile}",
           f"--virtual-time-budget={budget_ms}", *extra, url]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
