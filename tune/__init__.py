"""Ray Tune sweep entry points, one per shipped sweep: ``python -m tune.<sweep> [args]``.

Each module is thin: ``solarray tune --sweep <sweep>`` with the remaining arguments (the sweep
files and the Tuner live in :mod:`solarray.tune`). Submit from the repository root like the jobs
in ``jobs/`` (the working directory is on the job's Python path)::

    ray job submit --address http://127.0.0.1:8265 --working-dir . \\
        --runtime-env jobs/runtime_env.yaml -- python -m tune.masking --data /shared/shards ...

Locally, with solarray installed, ``python -m tune.<sweep>`` and ``python tune/<sweep>.py`` both
work from the repository root.
"""
