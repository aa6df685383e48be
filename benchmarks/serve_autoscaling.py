"""Serve autoscaling under a burst: the forecaster (tiny untrained models, 64² grid) on a local
2-CPU Ray with the autoscaling_config of serve/config.yaml (delays and the metrics interval
shortened: `solarray.ops.serve_autoscaling.FAST_DELAYS`) against the same app at fixed replicas
(each deployment's min_replicas); the same burst (--clients concurrent clients × --per-client
forecasts each) sent to each arm, arms interleaved --repeats times. Records the RUNNING replicas
of every deployment over time and p50/p95 latency per arm.

    python benchmarks/serve_autoscaling.py                       # 3 × (auto, fixed)
    python benchmarks/serve_autoscaling.py --repeats 1 --arms auto --per-client 8   # the CI test

Writes docs/results/serve_autoscaling.json.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import yaml

os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")

from solarray.benchmarks.script import Bench  # noqa: E402
from solarray.ops import serve_autoscaling as sa  # noqa: E402

BENCH = Bench("serve_autoscaling", "benchmarks/serve_autoscaling.py", __doc__)
FLAGS = {"--repeats": 3, "--arms": ("auto,fixed", "comma-separated: auto, fixed"),
         "--clients": 8, "--per-client": 16, "--size": (64, "sample grid (pixels)"),
         "--cpus": (0.1, "num_cpus per replica (every max_replicas fits 2 CPUs)"),
         "--config": ("serve/config.yaml", "the Serve config the autoscaling_config comes from"),
         "--work": (None, "working directory (default: a temp dir)")}


def main(argv: list[str] | None = None) -> int:
    args = BENCH.parse(argv, FLAGS)
    work = Path(args.work or tempfile.mkdtemp(prefix="serve_autoscaling_"))
    autoscaling = sa.configured_autoscaling(yaml.safe_load(Path(args.config).read_text()))
    arms = tuple(a.strip() for a in args.arms.split(",") if a.strip())
    BENCH.start(torch_threads=None, num_cpus=2, object_store_memory=400 * 2**20)
    from ray import serve

    try:
        results = sa.run(work, autoscaling, arms=arms, repeats=args.repeats,
                         clients=args.clients, per_client=args.per_client, size=args.size,
                         cpus=args.cpus)
    finally:
        serve.shutdown()
    print(json.dumps(results["summary"], indent=1))
    config = {k: v for k, v in vars(args).items() if k not in ("out", "work")}
    config.update(autoscaling_config=autoscaling, delays=sa.FAST_DELAYS,
                  models="tiny untrained (allow_untrained)", ray_cpus=2)
    BENCH.finish(config, results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
