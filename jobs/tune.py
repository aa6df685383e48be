"""`ray job submit` entry point for sweeps: the same arguments as `solarray tune`.

    ray job submit --address http://127.0.0.1:8265 --working-dir . -- \
        python -m jobs.tune --sweep contrastive_weights --data out/shards --samples 16 \
        --trial-workers 1 --max-concurrent 4 --name cw-1 --storage /shared/ray_results

Inside a submitted job RAY_ADDRESS is set, so the sweep joins the cluster. Ray does not retry jobs:
resubmit with --resume (same --name and --storage) to continue an interrupted sweep.
"""

from __future__ import annotations

import sys

from jobs import _common
from solarray.commands import tune as command

build_parser, run = _common.command_job("tune", __doc__, command)

if __name__ == "__main__":
    sys.exit(_common.main(build_parser(), run))
