"""Node failures survived on a multi-node cluster on one machine (head 0 CPUs, two 1-CPU worker
nodes, 2-CPU for training and Serve; the node doing the work SIGKILLed at a random point; dead
nodes noticed in seconds): ingest, pretraining, the watcher, the Serve app under load
(:mod:`solarray.ops.node_failures`).

    python benchmarks/node_failures.py                       # every case
    python benchmarks/node_failures.py --case training --max-failures 0   # the unprotected run
    python benchmarks/node_failures.py --case serve --out docs/results/node_failures_serve.json

Writes docs/results/node_failures.json.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
os.environ.setdefault("RAY_DATA_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("RAY_TRAIN_HEALTH_CHECK_INTERVAL_S", "0.2")
os.environ.setdefault("RAY_TRAIN_ENABLE_PREEMPTION_WATCHER", "0")

from solarray.benchmarks.script import Bench  # noqa: E402
from solarray.data.synthetic import SynthConfig, generate  # noqa: E402
from solarray.ops import node_failures as nf  # noqa: E402

BENCH = Bench("node_failures", "benchmarks/node_failures.py", __doc__)
CASES = ("ingest", "training", "watcher", "serve")
FLAGS = {"--case": ("all", f"one of {', '.join(CASES)} or all"),
         "--max-failures": (-1, "training: max_failures (-1: the default, 3 on several nodes)"),
         "--seed": 0, "--work": (None, "working directory (default: a temp dir)")}


def _synth(work: Path, hours: float, cadence: float, size: int = 64) -> Path:
    out = work / f"synth_{hours:g}h"
    if not (out / "synth.json").exists():
        generate(SynthConfig(start="2024-01-01T00:00", hours=hours, cadence_minutes=cadence,
                             size=size, seed=3, channels=("hmi_m", "aia193", "aia304"),
                             preview=False), out)
    return out


def main(argv: list[str] | None = None) -> int:
    args = BENCH.parse(argv, FLAGS)
    work = Path(args.work or tempfile.mkdtemp(prefix="node_failures_"))
    cases = CASES if args.case == "all" else (args.case,)
    results = {}
    for case in cases:
        print(f"case {case} ...", flush=True)
        if case == "ingest":
            r = nf.ingest_case(_synth(work, 12, 60), work / "shards", seed=args.seed)
        elif case == "training":
            r = nf.training_case(work / "ray_results", seed=args.seed,
                                 max_failures=None if args.max_failures < 0 else args.max_failures)
        elif case == "watcher":
            r = nf.watcher_case(_synth(work, 48, 360), work / "watch", seed=args.seed)
        elif case == "serve":
            r = nf.serve_case(work / "serve", seed=args.seed)
        else:
            raise SystemExit(f"--case: expected one of {', '.join(CASES)} or all, got {case!r}")
        print(json.dumps(r, indent=1, default=str), flush=True)
        results[case] = r
    BENCH.finish({"cases": list(cases), "max_failures": args.max_failures}, results, [args.seed])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
