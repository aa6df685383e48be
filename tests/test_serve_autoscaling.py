"""Serve autoscaling under a burst (issue: autoscaling and node failures on one machine): with
the autoscaling_config of serve/config.yaml (delays shortened), a burst scales the busiest model
stage out to ≥ 2 replicas and every deployment back to its min_replicas afterwards. Runs the
benchmark script in a subprocess (its own local Ray; the session's Ray is not touched)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from solarray.ops.serve_autoscaling import arm_deployments, configured_autoscaling
from solarray.serve.app import DEPLOYMENTS, IATOOLS

ROOT = Path(__file__).resolve().parents[1]


def test_arms_come_from_the_serve_config():
    auto = configured_autoscaling(yaml.safe_load((ROOT / "serve" / "config.yaml").read_text()))
    assert set(auto) == set(DEPLOYMENTS) and auto[IATOOLS]["max_replicas"] >= 2
    a = arm_deployments(auto, "auto", {"upscale_delay_s": 1.0})
    assert a[IATOOLS]["autoscaling_config"] == {**auto[IATOOLS], "upscale_delay_s": 1.0}
    f = arm_deployments(auto, "fixed")
    assert f[IATOOLS] == {"num_replicas": auto[IATOOLS]["min_replicas"]}
    with pytest.raises(ValueError, match="arm"):
        arm_deployments(auto, "sometimes")
    with pytest.raises(ValueError, match="autoscaling_config"):
        configured_autoscaling({"applications": [{"deployments": [{"name": "SPNet"}]}]})


@pytest.mark.rehearsal
def test_a_burst_scales_the_busiest_stage_out_and_back_to_the_minimum(tmp_path):
    out = tmp_path / "serve_autoscaling.json"
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "serve_autoscaling.py"), "--repeats", "1",
         "--arms", "auto", "--per-client", "8", "--out", str(out), "--work",
         str(tmp_path / "work")],
        cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    r = json.loads(out.read_text())["results"]
    run = r["runs"][0]
    assert run["finished"] and run["failed"] == 0
    assert run["peak_replicas"][r["busiest_stage"]] >= 2  # scaled out under the burst
    assert run["back_to_min_after_burst_s"] is not None  # and back to min_replicas
    assert run["timeline"][-1][1] == run["min_replicas"] and not run["timeline"][-1][2]
