"""Errors shared by the command line, jobs, sweeps and the service, and the error policy.

The policy (:func:`user_message`): a user's mistake (:class:`UsageError`) or the machine's state (a
full disk, a denied permission, a missing file or directory) is one line naming the path or flag
and the fix; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import errno

#: Set to 1 to see the traceback behind a one-line error too.
DEBUG_ENV = "SOLARRAY_DEBUG"


class UsageError(ValueError):
    """A bad command-line value: printed as one line naming the argument, exit code 2."""


_DISK_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}
_DENIED = {errno.EACCES, errno.EPERM, errno.EROFS}


def _causes(err: BaseException):
    """``err`` and what it wraps (``__cause__``, a Ray task error's ``cause``, a Ray Train
    worker group error's ``worker_failures``); not ``__context__``: a bug raised while handling
    a missing file is still a bug."""
    seen: set[int] = set()
    todo = [err]
    while todo:
        e = todo.pop(0)
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        yield e
        todo += [getattr(e, "cause", None), e.__cause__]
        failures = getattr(e, "worker_failures", None)
        if isinstance(failures, dict):
            todo += list(failures.values())


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _os_message(err: OSError) -> str | None:
    where = err.filename or ""
    if err.filename2:
        where = f"{where} → {err.filename2}"
    where = f"{where}: " if where else ""
    if err.errno in _DISK_FULL:
        return (f"{where}no space left on the device (disk full or quota exceeded); free space or "
                "write to another directory (--out), then run again")
    if isinstance(err, PermissionError) or err.errno in _DENIED:
        return f"{where}permission denied; choose a path you can write to or fix its permissions"
    if isinstance(err, FileNotFoundError):  # the library's "no shards in DIR" messages too
        return f"{where}no such file or directory" if err.filename else str(err)
    if isinstance(err, NotADirectoryError) and err.filename:
        return f"{where}a path component is a file, not a directory"
    if isinstance(err, IsADirectoryError) and err.filename:
        return f"{where}is a directory, not a file"
    return None


def user_message(err: BaseException) -> str | None:
    """The one-line message for an error a user can fix, or ``None`` for a bug (show the
    traceback). Looks through wrapped causes (e.g. an ``OSError`` raised in a Ray task)."""
    for e in _causes(err):
        if isinstance(e, UsageError):
            return _one_line(e)
        if isinstance(e, OSError):
            msg = _os_message(e)
            if msg is not None:
                return _one_line(msg)
    return None


__all__ = ["DEBUG_ENV", "UsageError", "user_message"]
