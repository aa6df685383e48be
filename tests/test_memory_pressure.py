"""Ingest under memory pressure (issue: autoscaling and node failures): more preprocessed data
than the object store holds completes, every sample written once; Ray's spill statistics are
parsed from its own summary text."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from solarray.ops.memory_pressure import spill_stats

ROOT = Path(__file__).resolve().parents[1]


def test_spill_stats_read_rays_memory_summary():
    text = ("--- Aggregate object store stats across all nodes ---\n"
            "Plasma memory usage 12 MiB, 3 objects, 15.0% full, 0.0% needed\n"
            "Spilled 210 MiB, 70 objects, avg write throughput 300 MiB/s\n"
            "Restored 30 MiB, 10 objects, avg read throughput 900 MiB/s\n")
    assert spill_stats(text) == {"spilled_mib": 210, "spilled_objects": 70,
                                 "restored_mib": 30, "restored_objects": 10}
    assert spill_stats("Plasma memory usage 0 MiB, 0 objects")["spilled_mib"] == 0


@pytest.mark.rehearsal
def test_ingest_of_more_than_the_object_store_completes(tmp_path):
    out = tmp_path / "memory_pressure.json"
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "memory_pressure.py"), "--quick", "--size",
         "512", "--object-store-mb", "80", "--out", str(out), "--work", str(tmp_path / "w")],
        cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    r = json.loads(out.read_text())["results"]
    assert r["data_over_store"] > 0.9  # the data hardly fit the store at once
    assert r["written"] == r["samples"] == r["distinct_in_shards"] == 25
    assert r["duplicated_in_shards"] == 0
