"""Autoscaling for real on one machine: `solarray ingest` on a local autoscaling cluster derived
from cluster.yaml (head 0 CPUs; `cpu_ingest` scaled to 1 CPU per node, 0–2 nodes on 2 cores) —
worker nodes launched on demand, every time step written once, idle nodes removed. Records the
node timeline (:mod:`solarray.ops.autoscaling_ingest`).

    python benchmarks/autoscaling.py            # 4 days at 1-h cadence, 256²
    python benchmarks/autoscaling.py --quick    # 12 h, 64² (the CI test's size)

Never calls `ray stop`: the cluster runs on a free port with a private temp dir and only its own
processes are stopped. Writes docs/results/autoscaling.json.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
os.environ.setdefault("RAY_DATA_DISABLE_PROGRESS_BARS", "1")

from solarray.benchmarks.script import Bench  # noqa: E402
from solarray.data.synthetic import SynthConfig, generate  # noqa: E402
from solarray.ops import autoscaling_ingest as autoscaling  # noqa: E402

BENCH = Bench("autoscaling", "benchmarks/autoscaling.py", __doc__)
FLAGS = {"--quick": (False, "12 h at 64² (the CI test's size)"),
         "--work": (None, "working directory (default: a temp dir)"),
         "--cluster-yaml": ("cluster.yaml", "the autoscaler config the node types come from")}


def main(argv: list[str] | None = None) -> int:
    args = BENCH.parse(argv, FLAGS)
    work = Path(args.work or tempfile.mkdtemp(prefix="autoscaling_"))
    hours, size = (12, 64) if args.quick else (96, 256)
    synth = work / "synth"
    if not (synth / "synth.json").exists():
        generate(SynthConfig(start="2024-01-01T00:00", hours=hours, cadence_minutes=60,
                             size=size, seed=5, channels=("hmi_m", "aia193"), preview=False),
                 synth)
    out = work / "shards"
    results = autoscaling.run(synth, out, cluster_yaml=args.cluster_yaml, size=size)
    print(json.dumps({k: v for k, v in results.items() if k != "timeline"}, indent=1,
                     default=str))
    BENCH.finish({"hours": hours, "size": size, "cadence_minutes": 60,
                  "channels": ["hmi_m", "aia193"]}, results, [5])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
