"""Autoscaling for real (issue: autoscaling and node failures on one machine): `solarray ingest`
on a local autoscaling cluster derived from cluster.yaml launches worker nodes for its demand,
writes every time step exactly once, and the idle nodes are removed. Runs the benchmark script
in a subprocess (its own cluster on a free port and private temp dir; the session's Ray is not
touched), bounded in time."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from solarray.ops.local_cluster import autoscaler_config, local_node_types

ROOT = Path(__file__).resolve().parents[1]


def test_node_types_come_from_cluster_yaml_scaled_to_the_cores():
    cluster = yaml.safe_load((ROOT / "cluster.yaml").read_text())
    types = local_node_types(cluster, cores=2)
    assert set(types) == {"cpu_ingest"}  # the GPU type and the head are not local worker types
    t = types["cpu_ingest"]
    assert t["resources"]["CPU"] == 1 and t["min_workers"] == 0 and t["max_workers"] == 2
    assert t["scaled_from"] == {"CPU": 16.0, "max_workers": 8}
    cfg = autoscaler_config(types, {"CPU": 0}, "127.0.0.1:1234")
    assert cfg["provider"]["type"] == "fake_multinode"
    assert cfg["provider"]["gcs_address"] == "127.0.0.1:1234"
    assert cfg["available_node_types"]["ray.head.default"] == {
        "resources": {"CPU": 0}, "node_config": {}, "max_workers": 0}
    assert "scaled_from" not in cfg["available_node_types"]["cpu_ingest"]
    assert cfg["max_workers"] == 2


def test_ingest_actor_pool_bounds_are_checked():
    import pytest

    from solarray.data.ingest import IngestConfig

    assert IngestConfig(input="x", out_dir="y", num_workers=2, min_workers=2).min_workers == 2
    with pytest.raises(ValueError, match="min_workers"):
        IngestConfig(input="x", out_dir="y", num_workers=2, min_workers=3)


@pytest.mark.rehearsal
def test_ingest_scales_out_and_back_in(tmp_path):
    out = tmp_path / "autoscaling.json"
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "autoscaling.py"), "--quick", "--out",
         str(out), "--work", str(tmp_path / "work")],
        cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    r = json.loads(out.read_text())["results"]
    workers = [row["workers"] for row in r["timeline"]]
    assert workers[0] == 0  # the head alone at the start (0 CPUs: every actor is demand)
    # worker nodes launched for the ingest actors: both the node type allows
    assert r["max_workers_seen"] == r["node_types"]["cpu_ingest"]["max_workers"] == 2
    assert r["workers_at_end"] == 0 and r["events"]["scaled_down_s"] is not None  # idle: removed
    assert r["samples"] == r["written"] == r["distinct_in_shards"] == r["manifest_used_samples"]
    assert r["duplicated_in_shards"] == 0 and r["files_without_fate"] == 0
    assert r["leftover_processes"] == 0
