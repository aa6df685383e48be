"""IATools entity benchmark: AR entities from the synthetic truth masks vs the synthetic AR table.

For several DBSCAN radii (and a baseline of plain 8-connected components, eps = 1 px) it reports
entity detection precision/recall/F1 (one-to-one matching of entity centres to true AR centres
within 8°), the mean centre error, the area ratio and the pixel-level adjusted Rand index against
a reference labelling (each AR mask pixel given to the nearest true AR centre). Each radius runs
with both clustering methods (``RegionConfig.ar_method``: DBSCAN from connected components, the
default, and sklearn's DBSCAN over every pixel) and reports their scores, the seconds each
spent clustering and whether they gave the same labels.

    python benchmarks/iatools_entities.py [--seeds 3] [--size 256] [--methods components,pixels]
        [--out docs/results/iatools_entities.json]
"""

from __future__ import annotations

import pandas as pd

from solarray.analysis.regions import AR_METHODS
from solarray.benchmarks.entities import run
from solarray.benchmarks.script import Bench

BENCH = Bench("iatools_entities", "benchmarks/iatools_entities.py", __doc__)
FLAGS = {"--seeds": 3, "--size": 256, "--hours": {"type": float, "default": 24},
         "--methods": ",".join(AR_METHODS)}


def main(argv: list[str] | None = None) -> int:
    a = BENCH.parse(argv, FLAGS)
    methods = a.methods.split(",")
    agg, n_steps = run(a.seeds, a.size, a.hours, methods)
    pd.set_option("display.width", 200)
    print(f"{a.seeds} seeds × {n_steps} steps, size {a.size}; baseline 1px = connected "
          f"components; same = labels identical to method {methods[0]!r}; "
          f"{BENCH.elapsed():.1f} s")
    print(agg.round(3).to_string())
    BENCH.finish(vars(a), {"by_method_and_eps": agg.reset_index().to_dict(orient="records")},
                 range(a.seeds))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
