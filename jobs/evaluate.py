"""`ray job submit` entry point for evaluations: `segmentation` (SPNet IoU/accuracy tables, as
`solarray evaluate segmentation`) or `forecasts` (flare verification scores, as `solarray verify`).

    ray job submit ... -- python -m jobs.evaluate segmentation --data /shared/shards \\
        --checkpoint /shared/runs/spnet/model.pt
    ray job submit ... -- python -m jobs.evaluate forecasts --forecasts /shared/f.csv --json
"""

from __future__ import annotations

import sys

from solarray.cli import main

KINDS = {"segmentation": ["evaluate", "segmentation"], "forecasts": ["verify"]}


def run(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in KINDS:
        print(f"usage: python -m jobs.evaluate {{{','.join(KINDS)}}} ARGS...\n\n{__doc__}")
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    return main([*KINDS[argv[0]], *argv[1:]])


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
