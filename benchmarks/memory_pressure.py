"""Ingest of more data than the object store holds (:mod:`solarray.ops.memory_pressure`): a
synthetic Sun at 512² (HMI, AIA 193, 304 Å: 3 MiB per preprocessed sample) ingested on a local
Ray instance with an 80 MiB object store; the run must complete, every sample written once; Ray's
spill statistics recorded.

    python benchmarks/memory_pressure.py            # 4 days at 1-h cadence (97 samples, ~290 MiB)
    python benchmarks/memory_pressure.py --quick    # 1 day (25 samples, ~75 MiB)

Writes docs/results/memory_pressure.json.
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
from solarray.ops import memory_pressure  # noqa: E402

BENCH = Bench("memory_pressure", "benchmarks/memory_pressure.py", __doc__)
CHANNELS = ("hmi_m", "aia193", "aia304")
FLAGS = {"--quick": (False, "1 day instead of 4"), "--object-store-mb": 80, "--size": 512,
         "--work": (None, "working directory (default: a temp dir)")}


def main(argv: list[str] | None = None) -> int:
    args = BENCH.parse(argv, FLAGS)
    work = Path(args.work or tempfile.mkdtemp(prefix="memory_pressure_"))
    hours = 24 if args.quick else 96
    synth = work / f"synth_{hours}h_{args.size}"
    if not (synth / "synth.json").exists():
        generate(SynthConfig(start="2024-01-01T00:00", hours=hours, cadence_minutes=60,
                             size=args.size, seed=9, channels=CHANNELS, preview=False), synth)
    results = memory_pressure.run(synth, work / "shards", size=args.size, channels=CHANNELS,
                                  object_store_mb=args.object_store_mb)
    print(json.dumps(results, indent=1))
    BENCH.finish({"hours": hours, "size": args.size, "channels": list(CHANNELS),
                  "object_store_mb": args.object_store_mb}, results, [9])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
