"""`ray job submit` entry point for evaluations: `segmentation` (SPNet IoU/accuracy tables, as
`solarray evaluate segmentation`) or `forecasts` (flare verification scores, as `solarray verify`).

    ray job submit ... -- python -m jobs.evaluate segmentation --data /shared/shards \\
        --checkpoint /shared/runs/spnet/model.pt
    ray job submit ... -- python -m jobs.evaluate forecasts --forecasts /shared/f.csv --json
"""

from __future__ import annotations

import argparse
import sys

from jobs import _common
from solarray.commands import evaluate, verify


def build_parser() -> argparse.ArgumentParser:
    parser = _common.job_parser("evaluate", __doc__)
    kinds = parser.add_subparsers(dest="kind", metavar="{segmentation,forecasts}", required=True)
    for kind, (help_, add, run_) in (("segmentation", evaluate.EVALUATIONS["segmentation"]),
                                     ("forecasts", (verify.HELP, verify.add_arguments, verify.run))):
        p = kinds.add_parser(kind, help=help_, description=help_)
        add(p)
        p.set_defaults(_run=run_)
    return parser


def run(args: argparse.Namespace) -> int:
    return args._run(args)


if __name__ == "__main__":
    sys.exit(_common.main(build_parser(), run))
