"""`ray job submit` entry point for ingest: the same arguments as `solarray ingest`.

    ray job submit --address http://127.0.0.1:8265 --working-dir . \\
        --runtime-env jobs/runtime_env.yaml -- \\
        python -m jobs.ingest --input /shared/sdo/fits --out /shared/shards --size 512

Inside a job, Ray Data runs on the cluster the job belongs to ($RAY_ADDRESS); paths must be ones
every node can read (shared storage or fsspec URLs).
"""

from __future__ import annotations

import sys

from jobs import _common
from solarray.commands import ingest as command

build_parser, run = _common.command_job("ingest", __doc__, command)

if __name__ == "__main__":
    sys.exit(_common.main(build_parser(), run))
