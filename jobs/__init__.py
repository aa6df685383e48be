"""Ray job entry points: ``ray job submit ... -- python -m jobs.<name> [args]``.

Each module is thin: parse arguments, call the solarray library, print where the results went
(one ``solarray-job-result: {json}`` line, see :mod:`jobs._common`). Convention: a module defines
``build_parser()`` and ``run(args) -> int`` and ends with
``sys.exit(_common.main(build_parser(), run))``; tests/test_cluster_config.py parses the k8s RayJob
entrypoint with ``build_parser()``, and tests/test_jobs_submit.py submits ``--help`` plus one tiny
run (its ``RUNS`` table) of every module. Submit from the repository
root with ``--working-dir . --runtime-env jobs/runtime_env.yaml`` so the job runs the code of
your checkout; the same modules run without Ray-job plumbing as ``python -m jobs.<name>``.
"""
