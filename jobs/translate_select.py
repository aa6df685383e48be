"""`ray job submit` entry point for translation channel selection: the same arguments as
`solarray translate select`.

    ray job submit --address http://127.0.0.1:8265 --working-dir . -- \
        python -m jobs.translate_select --data /shared/shards --inputs-max 3 \
        --trial-workers 1 --max-concurrent 4 --name select-1 --storage /shared/ray_results

Add ``--greedy`` for Lim 2021's greedy search (``--inputs-max`` rounds, one sweep a round).
Inside a submitted job RAY_ADDRESS is set, so the trials run on the cluster. Ray does not retry
jobs: resubmit with --resume (same --name and --storage) to continue an interrupted selection.
"""

from __future__ import annotations

import argparse
import sys

from jobs import _common
from solarray.commands import translate


def build_parser() -> argparse.ArgumentParser:
    return _common.command_parser("translate_select", __doc__, translate.add_common_arguments,
                                  translate.add_select_arguments)


def run(args: argparse.Namespace) -> int:
    args.translate_command = "select"
    return translate.run(args)


if __name__ == "__main__":
    sys.exit(_common.main(build_parser(), run))
