"""Subcommands of the ``solarray`` CLI, one module each.

Every module here defines ``NAME`` (the subcommand), ``HELP`` (one line), ``add_arguments(parser)``
and ``run(args) -> int``. ``solarray.cli`` discovers them, so adding a command never edits the CLI.
Heavy imports (ray, torch) belong inside ``run`` so ``solarray --help`` stays fast.
"""
