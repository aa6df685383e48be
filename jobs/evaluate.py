"""`ray job submit` entry point for evaluations: `segmentation` (SPNet IoU/accuracy tables, as
`solarray evaluate segmentation`) or `forecasts` (flare verification scores, as `solarray verify`).

    ray job submit ... -- python -m jobs.evaluate segmentation --data /shared/shards \\
        --checkpoint /shared/runs/spnet/model.pt
    ray job submit ... -- python -m jobs.evaluate forecasts --forecasts /shared/f.csv --json
"""

from __future__ import annotations

import sys

from jobs import _common
from solarray.cli import build_parser, main
from solarray.core.errors import UsageError

KINDS = {"segmentation": ["evaluate", "segmentation"], "forecasts": ["verify"]}


def run(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in KINDS:
        print(f"usage: python -m jobs.evaluate {{{','.join(KINDS)}}} ARGS...\n\n{__doc__}")
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    cli_argv = [*KINDS[argv[0]], *argv[1:]]
    if "-h" not in cli_argv and "--help" not in cli_argv:
        args = build_parser(only=[cli_argv[0]]).parse_args(cli_argv)
        try:
            _common.refuse_relative_outputs(args)
        except UsageError as err:
            print(f"python -m jobs.evaluate: error: {err}", file=sys.stderr)
            return 2
    return main(cli_argv)


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
