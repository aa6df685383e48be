"""Ray job entry points: ``ray job submit ... -- python -m jobs.<name> [args]``.

Each module is thin: parse arguments, call the solarray library, print where the results went
(one ``solarray-job-result: {json}`` line, see :mod:`jobs._common`). Submit from the repository
root with ``--working-dir . --runtime-env jobs/runtime_env.yaml`` so the job runs the code of
your checkout; the same modules run without Ray-job plumbing as ``python -m jobs.<name>``.
"""
