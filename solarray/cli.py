"""The ``solarray`` command: discovers subcommands in :mod:`solarray.commands`.

Each command module imports the library it runs (torch, Ray, sunpy) at module level, so the CLI
reads every command's ``NAME`` and ``HELP`` from its source and imports only the command that
runs: ``solarray --help`` stays fast.

Error policy (:func:`main`, :func:`solarray.core.errors.user_message`): a user's mistake or the
machine's state — a :class:`UsageError`, a full disk, a denied permission, a missing file — is one
line on stderr naming the path or flag and the fix, exit status 2. Anything else is a bug and keeps
its traceback; ``SOLARRAY_DEBUG=1`` shows the traceback behind the one-line errors too.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import os
import pkgutil
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from solarray import __version__, commands
from solarray.core.errors import DEBUG_ENV, user_message


@dataclass(frozen=True)
class CommandSpec:
    """One subcommand as its module declares it."""

    name: str
    help: str
    module: str


def _literal(tree: ast.Module, name: str, path: Path) -> str:
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == name for t in node.targets):
            return str(ast.literal_eval(node.value))
    raise RuntimeError(f"{path}: a command module must define {name} as a string literal")


def command_specs() -> dict[str, CommandSpec]:
    """Every subcommand by name, read from the sources of :mod:`solarray.commands` (no imports)."""
    specs = {}
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        path = Path(info.module_finder.path) / f"{info.name}.py"
        tree = ast.parse(path.read_text(encoding="utf-8"))
        spec = CommandSpec(_literal(tree, "NAME", path), _literal(tree, "HELP", path),
                           f"{commands.__name__}.{info.name}")
        specs[spec.name] = spec
    return specs


def build_parser(only: Iterable[str] | None = None) -> argparse.ArgumentParser:
    """The ``solarray`` parser; the arguments of the commands in ``only`` (default: all)."""
    parser = argparse.ArgumentParser(
        prog="solarray",
        description="SDO data → solar foundation models and flare forecasts, on Ray.",
    )
    parser.add_argument("--version", action="version", version=f"solarray {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    specs = command_specs()
    wanted = set(specs) if only is None else set(only)
    for spec in specs.values():
        p = sub.add_parser(spec.name, help=spec.help, description=spec.help)
        if spec.name in wanted:
            module = importlib.import_module(spec.module)
            module.add_arguments(p)
            p.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    chosen = next((a for a in argv if not a.startswith("-")), None)
    parser = build_parser(only=[chosen] if chosen else [])
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help()
        return 0
    try:
        return int(args._run(args) or 0)
    except KeyboardInterrupt:
        print(f"solarray {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as err:
        message = user_message(err)
        if message is None or os.environ.get(DEBUG_ENV, "") not in ("", "0"):
            raise  # a bug (or SOLARRAY_DEBUG=1): the traceback is what a developer needs
        print(f"solarray {args.command}: error: {message}", file=sys.stderr, flush=True)
        return 2


if __name__ == "__main__":
    sys.exit(main())
