"""The job entry points, submitted for real: ``ray start --head`` + ``ray job submit``.

One module-scoped local cluster (its own ``--temp-dir`` and ports, token authentication as Ray
2.60 clusters should run) hosts every submission; the pytest session's Ray (``ray_session``) is
not used and not touched. The cluster is stopped by signalling the ``ray start --block`` process
this module started — never with ``ray stop``, which kills every Ray process on the machine,
including the session's.

Adding a job = adding one entry to ``RUNS`` (jobs whose real runs are tested elsewhere are
submitted with ``--help``).
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import re
import runpy
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
import warnings
import zipfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from jobs import _common

REPO = Path(__file__).resolve().parents[1]
_SUNPY_AIA = str(Path(__import__("sunpy").__file__).parent / "data" / "test" / "aia_171_level1.fits")
RUNTIME_ENV = REPO / "jobs" / "runtime_env.yaml"


def job_modules() -> list[str]:
    """Every ``jobs/<name>.py`` entry point (modules starting with ``_`` are helpers)."""
    return sorted(p.stem for p in (REPO / "jobs").glob("*.py") if not p.stem.startswith("_"))


# --------------------------------------------------------------------------------------------
# The cases
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class JobCase:
    """``python -m jobs.<module> <args>`` as a Ray job; ``{tmp}`` in args → a fresh directory."""

    module: str
    args: tuple[str, ...]
    status: str = "SUCCEEDED"
    log_contains: tuple[str, ...] = ()
    check: Callable[[dict, Path], None] | None = field(default=None, compare=False)

    @property
    def id(self) -> str:
        return f"{self.module} {' '.join(self.args)}".strip()


def _check_synth(result: dict, tmp: Path) -> None:
    out = Path(result["out"])
    assert out == tmp / "synth"
    manifest = json.loads((out / "synth.json").read_text())
    fits = sorted(out.glob("fits/*/*.fits"))
    assert result["n_steps"] == 6 and result["channels"] == ["aia171", "hmi_m"]
    assert result["n_files"] == manifest["n_files"] == len(fits) == 12
    assert {p.parent.name for p in fits} == {"aia171", "hmi_m"}
    assert len(list(out.glob("masks/masks_*.fits"))) == 6
    for table in ("ar", "events", "xrs", "indices"):
        assert (out / "tables" / f"{table}.parquet").stat().st_size > 0


def _check_pretrain(result: dict, tmp: Path) -> None:
    run_dir = Path(result["run_dir"])
    assert run_dir == tmp / "runs" / "smoke"
    assert result["final_step"] == 2 and result["start_step"] == 0
    assert (Path(result["checkpoint"]) / "model.pt").exists()
    assert (run_dir / "metrics.jsonl").read_text().count("\n") == 2


# One real, tiny run per job. Adding a job = adding its entry here.
RUNS = [
    JobCase("synth", ("--out", "{tmp}/synth", "--size", "32", "--hours", "1",
                      "--channels", "aia171,hmi_m", "--no-preview"), check=_check_synth),
    JobCase("pretrain", ("--toy", "16", "--steps", "2", "--workers", "1", "--batch-size", "4",
                         "--cpus-per-worker", "0.5", "--report-every", "1", "--run-name", "smoke",
                         "--storage", "{tmp}/runs"), check=_check_pretrain),
]
RUNS += [
    JobCase("ingest", ("--input", _SUNPY_AIA, "--out", "{tmp}/shards", "--size", "32",
                       "--channels", "aia171", "--num-cpus", "1"),
            log_contains=("samples: 1", "shards written: 1")),
    JobCase("evaluate", ("forecasts", "--forecasts", str(REPO / "tests" / "data" /
                                                         "forecasts_small.csv"),
                         "--json", "--out", "{tmp}/verify"), log_contains=('"tss"',)),
]
# Jobs whose real runs need trained models or a sweep are exercised in-process by their own
# tests (tests/test_forecast_cli.py, tests/test_tune_run.py); here they are submitted with --help.
REAL_RUNS_ELSEWHERE = {"forecast", "tune", "translate_select"}
# Failures must surface as failed jobs (Ray does not retry them): a relative --out would write
# into the job's temporary working-directory copy, so the job refuses it.
FAILURES = [
    JobCase("synth", ("--out", "relative/synth", "--size", "32", "--hours", "1"),
            status="FAILED", log_contains=("is relative",)),
]
# A real run already submits the others; these reach their argument parser on the cluster.
HELP = [JobCase(m, ("--help",), log_contains=(f"usage: python -m jobs.{m}",))
        for m in job_modules() if m in REAL_RUNS_ELSEWHERE]
CASES = HELP + RUNS + FAILURES


# --------------------------------------------------------------------------------------------
# Fast checks (no cluster)
# --------------------------------------------------------------------------------------------


def test_every_job_has_a_real_run():
    assert job_modules(), "no jobs/*.py entry points found"
    missing = sorted(set(job_modules()) - {c.module for c in RUNS} - REAL_RUNS_ELSEWHERE)
    assert not missing, f"add a tiny RUNS entry for jobs {missing} in tests/test_jobs_submit.py"


def test_every_job_has_the_one_shape():
    """jobs/__init__.py: ``build_parser()``, ``run(args)``, and the same last line."""
    for name in job_modules():
        # Loaded under another name: runpy (the relative-output test) warns about jobs.<name>
        # modules already in sys.modules.
        spec = importlib.util.spec_from_file_location(f"_shape_{name}", REPO / "jobs" / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        parser = module.build_parser()
        assert parser.prog == f"python -m jobs.{name}", name
        assert callable(module.run), name
        last = (REPO / "jobs" / f"{name}.py").read_text().rstrip().splitlines()[-2:]
        assert last == ['if __name__ == "__main__":',
                        "    sys.exit(_common.main(build_parser(), run))"], name


def test_runtime_env_excludes_data_and_checkpoints(tmp_path):
    """Package a fake checkout exactly as ``ray job submit`` does and look inside the zip."""
    from ray._private.runtime_env.packaging import create_package

    env = yaml.safe_load(RUNTIME_ENV.read_text())
    assert env["working_dir"] == "."
    assert env["env_vars"]["RAY_USAGE_STATS_ENABLED"] == "0"
    assert all(isinstance(v, str) for v in env["env_vars"].values()), "env_vars must be strings"
    tree = tmp_path / "checkout"
    keep = ["jobs/synth.py", "solarray/ops/kuberay.py", "solarray/data/synthetic.py", "README.md",
            "k8s/raycluster.yaml", "tests/data/aia/data.py", "serve/config.yaml"]
    drop = ["data/sdo/aia171.fits", "checkpoints/run/model.pt", "out/synth/fits/x.fits",
            "ray_results/exp/result.json", ".venv/bin/python", ".git/HEAD",
            "shards/2024.parquet", "scratch/img.fits", "solarray/__pycache__/x.pyc"]
    for rel in keep + drop:
        (tree / rel).parent.mkdir(parents=True, exist_ok=True)
        (tree / rel).write_text("x")
    target = tmp_path / "pkg.zip"
    create_package(str(tree), target, include_gitignore=False, excludes=env["excludes"])
    names = {n.rstrip("/") for n in zipfile.ZipFile(target).namelist()}
    assert set(keep) <= names
    assert not names & set(drop), f"uploaded despite excludes: {sorted(names & set(drop))}"


def test_relative_out_is_refused_only_inside_a_ray_job(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RAY_JOB_CONFIG_JSON_ENV_VAR", raising=False)
    assert _common.output_dir("rel") == tmp_path / "rel"
    monkeypatch.setenv("RAY_JOB_CONFIG_JSON_ENV_VAR",
                       json.dumps({"metadata": {"job_submission_id": "abc"}}))
    assert _common.submission_id() == "abc"
    with pytest.raises(_common.UsageError, match="relative"):
        _common.output_dir("rel")
    assert _common.output_dir(str(tmp_path / "abs")) == tmp_path / "abs"


# --------------------------------------------------------------------------------------------
# The local cluster
# --------------------------------------------------------------------------------------------


def _free_ports(n: int) -> list[int]:
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def _ray_cli() -> list[str]:
    script = Path(sys.executable).with_name("ray")
    return [str(script)] if script.exists() else [sys.executable, "-m", "ray.scripts.scripts"]


@dataclass
class LocalCluster:
    address: str  # the dashboard, what `ray job submit --address` takes
    env: dict[str, str]  # RAY_AUTH_MODE=token + RAY_AUTH_TOKEN, PATH with this interpreter first
    token: str
    timings: dict[str, float] = field(default_factory=dict)

    def get(self, path: str, *, auth: bool = True) -> tuple[int, str]:
        req = urllib.request.Request(self.address + path)
        if auth:
            req.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return resp.status, resp.read().decode()
        except urllib.error.HTTPError as err:
            return err.code, err.read().decode(errors="replace")


def _session_members(sid: int) -> list[int]:
    """PIDs in session ``sid`` (the ``ray start`` we launched with start_new_session=True)."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != os.getpid():
            try:
                if os.getsid(int(entry)) == sid:
                    pids.append(int(entry))
            except OSError:
                pass
    return pids


def _stop(proc: subprocess.Popen) -> None:
    """SIGTERM our `ray start --block` (it shuts its node down), then mop up its session."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
    leftovers = _session_members(proc.pid) if Path("/proc").is_dir() else []
    for pid in leftovers:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    if leftovers:
        warnings.warn(f"killed {len(leftovers)} Ray processes that outlived `ray start --block`",
                      stacklevel=1)


@pytest.fixture(scope="module")
def local_cluster():
    # A short root: Ray's Unix socket paths under <temp-dir>/session_*/sockets must stay < 108 B.
    root = Path(tempfile.mkdtemp(prefix="srj"))
    port, dash, client, agent_http, agent_grpc, env_agent, metrics = _free_ports(7)
    token = secrets.token_hex(32)
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    # No drain on SIGTERM: nothing to drain here, and it would hold the shutdown for 30 s.
    env.update(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=token, RAY_USAGE_STATS_ENABLED="0",
               RAY_GRACEFUL_SHUTDOWN_DRAIN_TIMEOUT_S="0",
               PATH=os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")]))
    cmd = [*_ray_cli(), "start", "--head", "--block", "--disable-usage-stats",
           "--port", str(port), "--dashboard-port", str(dash), "--include-dashboard=true",
           "--dashboard-host", "127.0.0.1", "--ray-client-server-port", str(client),
           "--dashboard-agent-listen-port", str(agent_http),
           "--dashboard-agent-grpc-port", str(agent_grpc),
           "--runtime-env-agent-port", str(env_agent), "--metrics-export-port", str(metrics),
           "--num-cpus", "2", "--object-store-memory", str(256 * 1024**2),
           "--temp-dir", str(root)]
    log = open(root / "ray_start.log", "w")  # noqa: SIM115 - closed in the finalizer
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    cluster = LocalCluster(f"http://127.0.0.1:{dash}", env, token)
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                pytest.fail(f"ray start exited with {proc.returncode}:\n"
                            + (root / "ray_start.log").read_text()[-3000:])
            try:
                if cluster.get("/api/jobs/")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("local Ray cluster not ready after 90 s:\n"
                            + (root / "ray_start.log").read_text()[-3000:])
            time.sleep(0.5)
        cluster.timings["ray start --head"] = time.perf_counter() - t0
        yield cluster
    finally:
        t0 = time.perf_counter()
        _stop(proc)
        log.close()
        cluster.timings["stop"] = time.perf_counter() - t0
        print("\njob round trip timings (s): "
              + ", ".join(f"{k}: {v:.1f}" for k, v in cluster.timings.items()))
        shutil.rmtree(root, ignore_errors=True)


@pytest.mark.rehearsal
@pytest.mark.slow
def test_cluster_requires_the_token(local_cluster):
    status, body = local_cluster.get("/api/jobs/", auth=False)
    assert status == 401, (status, body[:200])
    assert local_cluster.get("/api/jobs/")[0] == 200


@dataclass
class Submission:
    sid: str
    tmp: Path
    proc: subprocess.CompletedProcess | None = None
    seconds: float = 0.0


def _submit(cluster: LocalCluster, case: JobCase, sub: Submission) -> Submission:
    args = [a.replace("{tmp}", str(sub.tmp)) for a in case.args]
    cmd = [*_ray_cli(), "job", "submit", "--address", cluster.address,
           "--submission-id", sub.sid, "--working-dir", ".",
           "--runtime-env", str(RUNTIME_ENV.relative_to(REPO)),
           "--", "python", "-m", f"jobs.{case.module}", *args]
    t0 = time.perf_counter()
    sub.proc = subprocess.run(cmd, cwd=REPO, env=cluster.env, capture_output=True, text=True,
                              timeout=150)
    sub.seconds = time.perf_counter() - t0
    return sub


@pytest.fixture(scope="module")
def submissions(local_cluster, tmp_path_factory):
    """Every case submitted up front, three `ray job submit`s at a time (the CLI and the job
    drivers mostly wait on I/O; sequential submission costs ~10 s per case on 2 cores)."""
    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=3) as pool:
        futures = {
            case.id: pool.submit(_submit, local_cluster, case,
                                 Submission(f"test-{case.module}-{uuid.uuid4().hex[:8]}",
                                            tmp_path_factory.mktemp(case.module)))
            for case in CASES}
        yield futures
        for case_id, fut in futures.items():
            if fut.done() and fut.exception() is None:
                local_cluster.timings[f"submit {case_id}"] = fut.result().seconds
    local_cluster.timings[f"{len(CASES)} submissions, 3 at a time"] = time.perf_counter() - t0


@pytest.mark.rehearsal
@pytest.mark.slow
@pytest.mark.timeout(300)
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_ray_job_submit(local_cluster, submissions, case):
    sub = submissions[case.id].result(timeout=200)
    sid, proc = sub.sid, sub.proc
    code, info = local_cluster.get(f"/api/jobs/{sid}")
    assert code == 200, f"job {sid} unknown to the cluster ({code}): {proc.stderr[-2000:]}"
    status = json.loads(info)["status"]
    code, body = local_cluster.get(f"/api/jobs/{sid}/logs")
    logs = json.loads(body)["logs"] if code == 200 else ""
    detail = f"\n--- ray job submit stderr ---\n{proc.stderr[-2000:]}\n--- job logs ---\n{logs[-3000:]}"
    assert status == case.status, f"job {sid}: {status}, expected {case.status}{detail}"
    assert (proc.returncode == 0) == (case.status == "SUCCEEDED"), \
        f"ray job submit exit code {proc.returncode} for a {status} job{detail}"
    for text in case.log_contains:
        assert text in logs, f"{text!r} not in the job's logs{detail}"
    if case.check:
        result = _common.parse_result(logs)
        assert result, f"no {_common.RESULT_PREFIX!r} line in the job's logs{detail}"
        assert result["submission_id"] == sid
        case.check(result, sub.tmp)


#: Every job entry point with a relative output argument: each must refuse it inside a Ray job
#: before doing any work (one check, jobs._common.refuse_relative_outputs).
RELATIVE_OUTPUT_CASES = {
    "synth": ["--out", "rel/synth", "--size", "32", "--hours", "0"],
    "ingest": ["--input", "{abs}", "--out", "rel/shards"],
    "pretrain": ["--data", "{abs}", "--storage", "rel/runs"],
    "forecast": ["--checkpoint", "{abs}", "--data", "{abs}", "--out", "rel/fc"],
    "tune": ["--sweep", "masking", "--data", "{abs}", "--storage", "rel/tune"],
    "evaluate": ["segmentation", "--data", "{abs}", "--baseline", "--json", "rel/seg.json"],
    "translate_select": ["--data", "{abs}", "--storage", "rel/select"],
}


def test_every_job_refuses_relative_outputs_inside_a_ray_job(monkeypatch, tmp_path, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RAY_JOB_CONFIG_JSON_ENV_VAR", json.dumps({"metadata": {}}))
    jobs_dir = REPO / "jobs"
    names = {p.stem for p in jobs_dir.glob("*.py") if not p.stem.startswith("_")}
    assert names - {"__init__"} <= set(RELATIVE_OUTPUT_CASES), "a new job needs a case here"
    for name, argv in RELATIVE_OUTPUT_CASES.items():
        argv = [a.replace("{abs}", str(tmp_path)) for a in argv]
        monkeypatch.setattr(sys, "argv", [f"jobs/{name}.py", *argv])
        with pytest.raises(SystemExit) as exc:
            runpy.run_module(f"jobs.{name}", run_name="__main__")
        code = exc.value.code
        err = capsys.readouterr().err
        assert code == 2, (name, err)
        assert "is relative" in err, (name, err)
    assert not list(tmp_path.glob("rel*"))  # nothing written


@pytest.mark.rehearsal
@pytest.mark.slow
@pytest.mark.timeout(300)
def test_a_second_pretrain_job_reuses_the_first_ones_warm_trainer(local_cluster, submissions,
                                                                   tmp_path):
    """`pretrain --workers 1` on a single-node cluster trains in a warm trainer that outlives its
    job; the next job with the same code and resources finds it (no new process, no imports)."""
    case = next(c for c in RUNS if c.module == "pretrain")
    first = submissions[case.id].result(timeout=200)
    code, body = local_cluster.get(f"/api/jobs/{first.sid}/logs")
    assert code == 200
    started = re.search(r"warm trainer \(pid (\d+), started", json.loads(body)["logs"])
    assert started, "the first one-worker pretrain job did not start a warm trainer:\n" + body[-2000:]
    again = JobCase("pretrain", tuple(a.replace("smoke", "smoke2") for a in case.args))
    sub = _submit(local_cluster, again, Submission(f"test-pretrain-again-{uuid.uuid4().hex[:8]}",
                                                   tmp_path))
    code, body = local_cluster.get(f"/api/jobs/{sub.sid}/logs")
    logs = json.loads(body)["logs"] if code == 200 else body
    assert sub.proc.returncode == 0, sub.proc.stderr[-2000:] + logs[-2000:]
    assert f"warm trainer (pid {started.group(1)}, reused" in logs, logs[-3000:]
    result = _common.parse_result(logs)
    assert result["final_step"] == 2 and Path(result["run_dir"]) == tmp_path / "runs" / "smoke2"
