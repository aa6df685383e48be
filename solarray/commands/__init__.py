"""Subcommands of the ``solarray`` CLI, one module each.

Every module here defines ``NAME`` (the subcommand), ``HELP`` (one line), ``add_arguments(parser)``
and ``run(args) -> int``. ``solarray.cli`` discovers them, so adding a command never edits the CLI.
``NAME`` and ``HELP`` are string literals: the CLI reads them from the source and imports only
the command that runs, so ``solarray --help`` stays fast.
"""
