"""`ray job submit` entry point: translation channel selection as a Tune sweep (same flags as
`solarray translate select`).

    ray job submit --address http://127.0.0.1:8265 --working-dir . \\
        --runtime-env jobs/runtime_env.yaml -- \\
        python -m tune.translate_select --data /shared/shards --inputs-max 3 \\
        --trial-workers 1 --max-concurrent 4 --name select --storage /shared/ray_results

Resubmitting with `--resume` (same --name and --storage) continues an interrupted selection.
"""

from __future__ import annotations

import sys

from solarray.cli import main

if __name__ == "__main__":
    sys.exit(main(["translate", "select", *sys.argv[1:]]))
