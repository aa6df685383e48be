"""Node failures survived (issue: autoscaling and node failures on one machine): on a multi-node
cluster on this machine (head 0 CPUs, two worker nodes), the node doing the work is SIGKILLed at
a random point. Each case runs the benchmark script in a subprocess (its own cluster on a random
port; the session's Ray is not touched), bounded in time; each fails when the property breaks
(e.g. the training case with ``--max-failures 0``: the run is lost)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from solarray.train.config import MULTI_NODE_MAX_FAILURES, TrainConfig

ROOT = Path(__file__).resolve().parents[1]


def _case(name: str, tmp_path: Path, *extra: str) -> dict:
    out = tmp_path / "node_failures.json"
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "node_failures.py"), "--case", name,
         "--out", str(out), "--work", str(tmp_path / "work"), *extra],
        cwd=ROOT, capture_output=True, text=True, timeout=150)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return json.loads(out.read_text())["results"][name]


def test_default_failure_budget_is_zero_on_one_node_and_nonzero_on_several():
    assert TrainConfig().failure_budget(1) == 0  # a bug or bad data fails at once locally
    assert TrainConfig().failure_budget(3) == MULTI_NODE_MAX_FAILURES > 0
    assert TrainConfig(max_failures=0).failure_budget(3) == 0  # an explicit value wins
    with pytest.raises(ValueError, match="max_failures"):
        TrainConfig(max_failures=-1)


def test_ingest_survives_losing_the_node_of_an_ingest_actor(tmp_path):
    r = _case("ingest", tmp_path)
    assert r["shard_before_kill"] and r["killed_node_held_the_actor"]
    assert not r["first_run"]["hung"]
    assert r["files_with_fate"] == r["input_files"] > 0  # every input's fate in the manifest
    assert r["distinct_in_shards"] == r["samples_used_in_manifest"] == 12 + 1  # none lost
    assert r["duplicated_in_shards"] == 0


def test_pretraining_resumes_on_the_surviving_node(tmp_path):
    r = _case("training", tmp_path)
    assert r["max_failures"] == MULTI_NODE_MAX_FAILURES  # the multi-node default
    assert r["checkpoint_before_kill"] and r["killed_node_held_the_worker"]
    assert r["finished"], r["error"]
    assert r["final_step"] == r["steps"] and r["resumed_from_step"] > 0


def test_watcher_restarts_on_another_node_and_skips_nothing(tmp_path):
    r = _case("watcher", tmp_path)
    assert r["killed_node_held_the_actor"] and r["restarted_on_other_node"] and r["resumed"]
    assert r["all_forecast"] and r["lost"] == 0 and r["duplicated"] == 0
