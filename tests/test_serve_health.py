"""What the service tells the truth about: values that could not be computed are null (and FPNet
reads them as missing) with a warning naming why, on a real GOES-15 XRS day; and `solarray serve`
names the deployments it could not place and stops on SIGTERM while it waits."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
import yaml

from solarray.core.frame_header import sample_frame_header
from solarray.pipeline.analysis_stage import analyse
from solarray.pipeline.perception import Perception
from solarray.pipeline.sample import Sample

N = 64


def _disc(n: int, cx: float, cy: float, r: float) -> np.ndarray:
    y, x = np.mgrid[:n, :n]
    return (x - cx) ** 2 + (y - cy) ** 2 <= r * r


def test_real_goes_day_gives_null_region_values_read_as_missing(one_torch_thread):
    """A real GOES-15 XRS day (no flare locations) and an observation without a magnetogram:
    each region's flare index, R value and classes are null, the response says why, and FPNet's
    input marks exactly those values missing (its "missing" embedding / category 0)."""
    import torch
    from sunpy.data.test import get_test_filepath

    from solarray.forecast.features import feature_tensors, region_features
    from solarray.models import build
    from solarray.pipeline.flare_history import FlareHistory
    from solarray.pipeline.forecast_stage import forecast
    from solarray.pipeline.response import build_response

    history = FlareHistory.load(xrs=get_test_filepath("go1520110607.fits"))
    assert history.configured and not history.located and len(history.events) > 0
    t_obs = datetime(2011, 6, 7, 23, 0)
    sample = Sample(np.zeros((1, N, N), np.float32), ("aia193",), t_obs,
                    sample_frame_header(N, t_obs), present=np.ones(1, bool), sample_id="goes")
    masks = np.zeros((3, N, N), np.uint8)
    masks[0] = _disc(N, 24, 30, 4) | _disc(N, 42, 36, 4)  # two active regions on the disk
    analysis = analyse(sample, Perception(masks.astype(np.float32), masks, (0.5, 0.5, 0.5)),
                       history=history)
    assert len(analysis.ars) == 2
    # The disk index is known from XRS alone (flares on that day); per-region values are not.
    assert analysis.disk["flare_index"] is not None
    for row in analysis.ars:
        assert row["flare_index"] is None and row["r"] is None
        assert row["hale"] is None and row["mcintosh"] is None

    torch.manual_seed(0)
    fp_ar = build("fpnet", preset="tiny", channels=("aia193",), mode="ar").eval()
    fc = forecast(None, fp_ar, [sample], [analysis], 8)[0]
    body = build_response("r1", sample, analysis, fc, {"fpnet_ar": "fpnet@x"}, {"total": 0.0})
    for row in body["regions"]:
        assert row["flare_index"] is None and row["r"] is None and row["hale"] is None
        assert 0.0 <= row["p_m24"] <= 1.0
    warn = "\n".join(body["warnings"])
    assert "flare index unknown (null) for 2 of 2 regions" in warn
    assert "flare history has no locations" in warn  # names why
    assert "R value unknown (null) for 2 of 2 regions" in warn and "no hmi_m magnetogram" in warn
    assert "Hale class unknown" in warn and "McIntosh class unknown" in warn

    feats = [region_features(r, analysis.disk) for r in analysis.ars]
    scalars, cats = feature_tensors(fp_ar, feats)
    _, missing = fp_ar.mapper.standardise(scalars)
    names = fp_ar.config.scalar_features
    for name in ("flare_index", "log_r"):
        assert missing[:, names.index(name)].all(), name
    assert not missing[:, names.index("area_msh")].any()  # known values stay known
    assert (cats == 0).all()  # Hale/McIntosh: the "unknown" category of each embedding


# ---------------------------------------------------------------------------------------------
# `solarray serve` as a process: placement timeout and SIGTERM
# ---------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def unplaceable_config(tmp_path_factory) -> Path:
    """A Serve config whose SPNet replica asks for a resource no node has: it can never start.
    The other deployments are placed (tiny untrained stand-ins, allowed)."""
    path = tmp_path_factory.mktemp("serve_cfg") / "config.yaml"
    fast = {"graceful_shutdown_wait_loop_s": 0.1, "graceful_shutdown_timeout_s": 1}
    deployments = [{"name": "SPNet", "ray_actor_options": {"num_cpus": 0.1,
                                                           "resources": {"no_such_node": 1}},
                    **fast}]
    deployments += [{"name": name, "ray_actor_options": {"num_cpus": 0.1}, **fast,
                     "user_config": {"allow_untrained": True}}
                    for name in ("IATools", "FPNet")]
    deployments.append({"name": "Forecaster", "ray_actor_options": {"num_cpus": 0.1}, **fast})
    path.write_text(yaml.safe_dump({"applications": [{
        "name": "forecaster", "route_prefix": "/", "import_path": "solarray.serve.entrypoint:app",
        "deployments": deployments}]}))
    return path


def _start(config: Path, tmp: Path, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "SOLARRAY_CHECKPOINT_DIR": str(tmp)}
    env.pop("RAY_ADDRESS", None)
    return subprocess.Popen(
        [sys.executable, "-m", "solarray.cli", "serve", "--config", str(config), "--num-cpus",
         "1", "--port", str(_free_port()), *extra],
        cwd=tmp, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _wait_for(proc: subprocess.Popen, words: str, timeout: float) -> str:
    seen, t_end = [], time.monotonic() + timeout
    while time.monotonic() < t_end:
        line = proc.stdout.readline()
        if not line and proc.poll() is not None:
            break
        seen.append(line)
        if words in line:
            return "".join(seen)
    raise AssertionError(f"{words!r} not printed within {timeout} s:\n{''.join(seen)[-3000:]}")


@pytest.mark.rehearsal
@pytest.mark.slow
def test_serve_names_unplaced_replicas_and_exits(unplaceable_config, tmp_path):
    proc = _start(unplaceable_config, tmp_path, "--placement-timeout", "4")
    try:
        out = _wait_for(proc, "shutting down", 90)
        out += proc.communicate(timeout=60)[0]
    finally:
        proc.kill()
    assert proc.returncode == 1, out[-2000:]
    assert "replicas not running after 4 s" in out and "SPNet" in out, out[-2000:]


@pytest.mark.rehearsal
@pytest.mark.slow
def test_sigterm_stops_serve_while_it_waits_for_placement(unplaceable_config, tmp_path):
    proc = _start(unplaceable_config, tmp_path, "--placement-timeout", "600")
    try:
        _wait_for(proc, "starting on http://", 90)
        time.sleep(2)  # now inside the wait for SPNet's replica
        t0 = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        out = proc.communicate(timeout=60)[0]
        stopped_in = time.monotonic() - t0
    finally:
        proc.kill()
    assert proc.returncode == 0 and "shutting down" in out, out[-2000:]
    assert stopped_in < 30
