"""Benchmark: `solarray pretrain` start-up, from the command to the end of its first step.

A head node is started on this machine (`ray start --head`, 2 CPUs, its own port and temp dir;
stopped by signalling its own processes, never `ray stop`), and `solarray pretrain` runs
against it as a user's second and later commands do (`RAY_ADDRESS` set: the cluster is up, the
OS file cache warm after one untimed call). Arms, interleaved in `--repeats` rotated rounds:

- ``warm_1w``: `--workers 1`, the default: the run goes to this node's warm trainer (a detached
  actor holding the worker's CPU, started by the untimed first command and reused after);
- ``train_1w``: one Ray Train worker (`--workers 1 --no-reuse-worker`: Train controller + worker
  group, new for every command);
- ``in_process``: the same loop in the command's own process (`--workers 0`: Ray Train's local
  mode, no controller or worker group).

Each call: a tiny SolarCHIP ViT on ingest's Parquet shards (`--data`: 64 toy samples at 64²,
4 channels, written once), batch 4, 2 steps, a report every step. Start-up = the loop's ``first_step_time`` (its first report in ``metrics.jsonl``)
minus the time the command was spawned; the command's whole wall time beside it. The floor:
`python -c "import solarray.cli, solarray.commands.pretrain, torch, ray"` (the imports every
`pretrain` command pays), timed in the same rounds.

    python benchmarks/startup.py --repeats 3
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from solarray.benchmarks.script import Bench

BENCH = Bench("startup", "benchmarks/startup.py", __doc__)
FLAGS = {"--repeats": (3, "interleaved rounds of every arm"),
         "--steps": (2, "training steps per call"),
         "--work": "/tmp/startup_bench"}
PRETRAIN = ["--model", "solarchip_vit", "--batch-size", "4", "--report-every", "1",
            "--cpus-per-worker", "1"]
CHANNELS = ("aia171", "aia193", "aia304", "hmi_m")


def start_head(temp_dir: str, cpus: int = 2) -> str:
    """`ray start --head` with its own port and ``temp_dir``; → its GCS address."""
    import ray._private.services as services

    from solarray.ops.local_cluster import ensure_auth_token, free_port

    ensure_auth_token()
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    done = subprocess.run(
        [sys.executable, "-m", "ray.scripts.scripts", "start", "--head", f"--port={port}",
         f"--temp-dir={temp_dir}", f"--num-cpus={cpus}", "--include-dashboard=false",
         "--disable-usage-stats"], env=env, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise SystemExit(f"ray start --head failed: {(done.stderr or done.stdout)[-2000:]}")
    return f"{services.get_node_ip_address()}:{port}"


def timed_pretrain(address: str, work: Path, workers: int, steps: int, *extra: str) -> dict:
    """One `solarray pretrain` against ``address``: start-up to the first step and whole wall."""
    storage = work / "runs"
    shutil.rmtree(storage, ignore_errors=True)
    cmd = [sys.executable, "-m", "solarray.cli", "pretrain", *PRETRAIN, "--data",
           str(work / "shards"), "--workers", str(workers), "--steps", str(steps), "--run-name", "s", "--storage", str(storage),
           *extra]
    t0 = time.time()
    done = subprocess.run(cmd, env={**os.environ, "RAY_ADDRESS": address}, capture_output=True,
                          text=True, timeout=300)
    wall = time.time() - t0
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stdout[-1500:]}\n{done.stderr[-2500:]}")
    first = json.loads((storage / "s" / "metrics.jsonl").read_text().splitlines()[0])
    return {"startup_s": first["first_step_time"] - t0, "wall_s": wall}


def timed_import() -> dict:
    t0 = time.time()
    subprocess.run([sys.executable, "-c", "import solarray.cli, solarray.commands.pretrain, torch, "
                    "ray"], check=True)
    return {"startup_s": time.time() - t0, "wall_s": time.time() - t0}


def main(argv: list[str] | None = None) -> int:
    args = BENCH.parse(argv, FLAGS)

    from solarray.benchmarks import arms as arms_mod
    from solarray.benchmarks.train_overhead import write_toy_shards
    from solarray.ops.local_cluster import stop_processes_under

    work = Path(args.work)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    write_toy_shards(work / "shards", 64, CHANNELS, 64)
    temp_dir = tempfile.mkdtemp(prefix="sray", dir="/tmp")  # short: Ray's socket paths
    load0 = os.getloadavg()[0]
    try:
        address = start_head(temp_dir)
        calls = {"warm_1w": lambda: timed_pretrain(address, work, 1, args.steps),
                 "train_1w": lambda: timed_pretrain(address, work, 1, args.steps,
                                                    "--no-reuse-worker"),
                 "in_process": lambda: timed_pretrain(address, work, 0, args.steps),
                 "imports_floor": timed_import}
        cold = calls["warm_1w"]()  # the first command after the cluster started: untimed
        print(f"first command (untimed): start-up {cold['startup_s']:.2f} s", flush=True)
        records: dict[str, list[dict]] = {k: [] for k in calls}
        arms_mod.interleave({k: (lambda k=k: records[k].append(calls[k]())) for k in calls},
                            repeats=args.repeats,
                            progress=lambda m: print(m, flush=True))
    finally:
        stop_processes_under(temp_dir)
        shutil.rmtree(temp_dir, ignore_errors=True)
    res = {k: {"startup_s": arms_mod.summary([r["startup_s"] for r in v]),
               "wall_s": arms_mod.summary([r["wall_s"] for r in v])} for k, v in records.items()}
    res["first_command"] = cold
    res["load_average"] = [load0, os.getloadavg()[0]]
    print(f"\n## `solarray pretrain` start-up on a running 2-CPU head node ({args.repeats} "
          f"interleaved rounds, load average {load0:.1f} → {os.getloadavg()[0]:.1f})")
    print("| arm | command → first step | whole command |")
    print("|---|---|---|")
    for k in records:
        print(f"| {k} | {arms_mod.format_spread(res[k]['startup_s'], 's', 2)} | "
              f"{arms_mod.format_spread(res[k]['wall_s'], 's', 2)} |")
    BENCH.finish({"repeats": args.repeats, "steps": args.steps, "pretrain": PRETRAIN,
                  "data": "64 toy samples, 64², 4 channels, ingest's Parquet shards"}, res, [0])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
