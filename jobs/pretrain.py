"""Pretrain a backbone (e.g. SolarCHIP) with Ray Train as a Ray job; resumable by run name.

    ray job submit --address http://127.0.0.1:8265 --working-dir . \\
        --runtime-env jobs/runtime_env.yaml -- \\
        python -m jobs.pretrain --model solarchip_vit --data /shared/shards --workers 2 \\
        --steps 1000 --run-name chip-tiny --storage /shared/ray_results

The arguments are those of ``solarray pretrain`` (``--toy N`` trains on generated samples: a
smoke test of a cluster without data). Inside a Ray job ``--storage`` must be absolute (storage
every node can reach). Ray does not retry jobs: submitting again with the same ``--run-name`` and
``--storage`` resumes from the latest checkpoint. Prints where checkpoints and metrics went and
one ``solarray-job-result: {json}`` line.
"""

from __future__ import annotations

import argparse
import sys

from jobs import _common
from solarray.commands import pretrain as pretrain_command


def build_parser() -> argparse.ArgumentParser:
    return _common.command_parser("pretrain", __doc__, pretrain_command.add_arguments)


def run(args: argparse.Namespace) -> int:
    storage = args.storage or "ray_results"
    if "://" not in storage:
        args.storage = str(_common.output_dir(storage, "--storage"))
    result = pretrain_command.execute(args)
    _common.report("pretrain", run_dir=str(result.run_dir), checkpoint=str(result.checkpoint),
                   final_step=result.final_step, start_step=result.start_step,
                   resumed_from=result.resumed_from, metrics_file=str(result.metrics_file),
                   metrics=result.metrics)
    return 0


if __name__ == "__main__":
    sys.exit(_common.main(build_parser(), run))
