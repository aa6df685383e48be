"""`solarray demo` as a recorded result: its held-out scores (the automatic chain first, FPNet* on
the truth below it) and its regions against a held-out Sun's truth, with the command and commit.

    python benchmarks/demo.py [--work .cache/benchmark_runs/demo] [--out docs/results/demo.json]

Runs the README's main job with its defaults (:func:`solarray.demo.run_demo`) in ``--work`` (its
checkpoints go there too, not to the user's demo directory) and writes the demo's
``scores.json`` as the protocol record.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from solarray.benchmarks.script import Bench
from solarray.demo import DemoConfig, run_demo

BENCH = Bench("demo", "benchmarks/demo.py", __doc__)
FLAGS = {"--work": ".cache/benchmark_runs/demo"}


def main(argv: list[str] | None = None) -> int:
    args = BENCH.parse(argv, FLAGS)
    work = Path(args.work)
    cfg = DemoConfig(out=str(work / "demo_out"), checkpoint_dir=str(work / "checkpoints"))
    run_demo(cfg)  # starts its own local Ray (2 CPUs), as `solarray demo` does
    scores = json.loads((Path(cfg.out) / "scores.json").read_text())
    BENCH.finish(asdict(cfg), scores, [cfg.seed])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
