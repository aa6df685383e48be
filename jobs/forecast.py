"""`ray job submit` entry point for flare forecasting: the same arguments as `solarray forecast`.

    ray job submit --address http://127.0.0.1:8265 --working-dir . -- \
        python -m jobs.forecast --checkpoint out/fpnet_ar/model.pt --data out/shards \
        --table out/ar_features.parquet --out out/forecast

Train first with `python -m solarray.cli train-fpnet ...` (or `solarray train-fpnet`).
"""

from __future__ import annotations

import sys

from jobs import _common
from solarray.commands import forecast as command

build_parser, run = _common.command_job("forecast", __doc__, command)

if __name__ == "__main__":
    sys.exit(_common.main(build_parser(), run))
