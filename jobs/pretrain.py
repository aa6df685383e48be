"""`ray job submit` entry point for pretraining: the same arguments as `solarray pretrain`.

    ray job submit --address http://127.0.0.1:8265 --working-dir . -- \
        python -m jobs.pretrain --model solarchip_vit --data out/shards --workers 2 \
        --steps 1000 --run-name solarchip-tiny --storage /shared/ray_results

Inside a submitted job RAY_ADDRESS is set, so the run joins the cluster. Reusing --run-name with
the same --storage resumes from the latest checkpoint (Ray does not retry jobs by itself).
"""

from __future__ import annotations

import sys

from solarray.cli import main

if __name__ == "__main__":
    sys.exit(main(["pretrain", *sys.argv[1:]]))
