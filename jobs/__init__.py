"""Ray job entry points: ``ray job submit ... -- python -m jobs.<name> [args]``.

Each module is thin: parse arguments, call the solarray library, print where the results went
(one ``solarray-job-result: {json}`` line, see :mod:`jobs._common`). Every job has one shape:

* ``build_parser() -> argparse.ArgumentParser`` — ``prog`` is ``python -m jobs.<name>``, the
  description the module docstring (:func:`jobs._common.command_parser`);
* ``run(args: argparse.Namespace) -> int``;
* it ends with ``sys.exit(_common.main(build_parser(), run))`` (parse, refuse relative output
  paths inside a Ray job, run, ``UsageError`` → one line + exit 2).

A job that is exactly a ``solarray`` command gets both from the command module in one line,
``build_parser, run = _common.command_job("<name>", __doc__, command)``. Sweeps start one way:
``python -m jobs.tune --sweep <name>`` (``solarray tune``; the sweeps are data in
``solarray/tune/sweeps/``). tests/test_cluster_config.py parses the k8s RayJob entrypoint with
``build_parser()``, and tests/test_jobs_submit.py submits ``--help`` plus one tiny run (its
``RUNS`` table) of every module and checks the shape. Submit from the repository
root with ``--working-dir . --runtime-env jobs/runtime_env.yaml`` so the job runs the code of
your checkout; the same modules run without Ray-job plumbing as ``python -m jobs.<name>``.
"""
