"""Checks of the paths a user names (a flag and its value), run before any work starts: each
failure is a :class:`~solarray.core.errors.UsageError` naming the flag, the path and the fix (the
CLI prints it as one line, exit status 2).

Checking on the driver is both cheaper (no Ray start-up for a typo) and clearer (a Ray task's
error arrives wrapped in a remote traceback).
"""

from __future__ import annotations

import os

from solarray.core.errors import UsageError


def require_dir(flag: str, path: str) -> str:
    """``path`` is an existing directory."""
    if not os.path.exists(path):
        raise UsageError(f"{flag}: no such directory: {path}")
    if not os.path.isdir(path):
        raise UsageError(f"{flag}: {path} is a file, not a directory")
    return path


def require_file(flag: str, path: str) -> str:
    """``path`` is an existing, non-empty file."""
    if not os.path.exists(path):
        raise UsageError(f"{flag}: no such file: {path}")
    if os.path.isdir(path):
        raise UsageError(f"{flag}: {path} is a directory, not a file")
    if os.path.getsize(path) == 0:
        raise UsageError(f"{flag}: {path} is empty")
    return path


def require_out_dir(flag: str, path: str) -> str:
    """``path`` may be created as (or already is) a directory."""
    if os.path.exists(path) and not os.path.isdir(path):
        raise UsageError(f"{flag}: {path} exists and is a file; give a directory")
    return path


def require_out_file(flag: str, path: str) -> str:
    """``path`` may be written as a file (not an existing directory; its parent not a file)."""
    if os.path.isdir(path):
        raise UsageError(f"{flag}: {path} is a directory; give a file name")
    parent = os.path.dirname(os.path.abspath(path))
    while parent and not os.path.exists(parent):
        parent = os.path.dirname(parent)
    if parent and not os.path.isdir(parent):
        raise UsageError(f"{flag}: {parent} is a file, so {path} cannot be created")
    return path


__all__ = ["require_dir", "require_file", "require_out_dir", "require_out_file"]
