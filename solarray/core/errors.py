"""Errors shared by the command line, jobs, sweeps and the service."""

from __future__ import annotations


class UsageError(ValueError):
    """A bad command-line value: printed as one line naming the argument, exit code 2."""


__all__ = ["UsageError"]
