"""Pure helpers of the issue-18 ratio benchmarks: CPU of a process tree, steady-state timing,
and the bounded concurrent load (no Ray)."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest

from solarray.benchmarks.serve_load import closed_loop, load_summary
from solarray.benchmarks.train_overhead import (
    TreeCpuMeter,
    seconds_per_sample,
    tree_cpu_seconds,
)

BURN = "import time\nt = time.process_time()\nwhile time.process_time() - t < {s}: pass\n"


def test_tree_cpu_counts_children_that_ran_and_exited():
    before = tree_cpu_seconds()
    # A grandchild (child of a child shell) that burns 0.4 s of CPU and exits before we look.
    subprocess.run([sys.executable, "-c",
                    f"import subprocess, sys; subprocess.run([sys.executable, '-c', "
                    f"{BURN.format(s=0.4)!r}])"], check=True)
    spent = tree_cpu_seconds() - before
    assert 0.35 <= spent < 5.0
    # Idle time is not CPU time.
    before = tree_cpu_seconds()
    time.sleep(0.3)
    assert tree_cpu_seconds() - before < 0.15


def test_meter_counts_children_of_a_parent_that_ignores_sigchld():
    # Like Ray's raylet: the parent ignores SIGCHLD, so the ended grandchild's CPU reaches no
    # parent's counters; only sampling while it runs sees it.
    parent = ("import signal, subprocess, sys, time\n"
              "signal.signal(signal.SIGCHLD, signal.SIG_IGN)\n"
              f"subprocess.Popen([sys.executable, '-c', {BURN.format(s=0.6)!r}])\n"
              "time.sleep(2.0)\n")
    before = tree_cpu_seconds()
    with TreeCpuMeter(period=0.05) as meter:
        subprocess.run([sys.executable, "-c", parent], check=True)
    assert meter.seconds >= 0.5
    assert tree_cpu_seconds() - before < meter.seconds


def test_seconds_per_sample_uses_first_and_last_report():
    assert seconds_per_sample([(10, 1.0), (20, 2.0), (30, 5.0)], 4) == pytest.approx(4 / 80)
    with pytest.raises(ValueError):
        seconds_per_sample([(10, 1.0)], 4)


def test_closed_loop_bounds_concurrency_and_summarises():
    lock, state = threading.Lock(), {"now": 0, "peak": 0, "i": 0}

    def call():
        with lock:
            state["now"] += 1
            state["peak"] = max(state["peak"], state["now"])
            state["i"] += 1
            i = state["i"]
        time.sleep(0.02)
        with lock:
            state["now"] -= 1
        if i == 3:
            raise RuntimeError("boom")
        return True, {"batch": 2, "perception": 0.01}

    calls, wall = closed_loop(call, 12, 3)
    assert state["peak"] == 3 and len(calls) == 12
    s = load_summary(calls, wall, stage_keys=("perception",))
    assert s["errors"] == 1 and s["n"] == 12
    assert s["rps"] == pytest.approx(11 / wall)
    assert s["mean_batch"] == 2 and s["stage_p50"]["perception"] == pytest.approx(0.01)
    assert 0.015 < s["p50"] <= s["p95"] < 1.0
    with pytest.raises(ValueError):
        closed_loop(call, 0, 1)
