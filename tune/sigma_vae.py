"""`ray job submit` entry point: the `sigma_vae` sweep (same flags as `solarray tune`).

    ray job submit --address http://127.0.0.1:8265 --working-dir . \\
        --runtime-env jobs/runtime_env.yaml -- \\
        python -m tune.sigma_vae --data /shared/shards --samples 16 --trial-workers 1 \\
        --max-concurrent 4 --name sigma_vae --storage /shared/ray_results

Resubmitting with `--resume` (same --name and --storage) continues an interrupted sweep.
"""

from __future__ import annotations

import sys

from solarray.cli import main

if __name__ == "__main__":
    sys.exit(main(["tune", "--sweep", "sigma_vae", *sys.argv[1:]]))
