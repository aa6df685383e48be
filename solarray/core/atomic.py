"""Atomic writes: write to a temporary file beside the target, then rename over it.

A reader never sees a half-written file, and a failed write leaves the previous file intact.
:func:`staged_dir` does the same for a set of files: a failed run adds none of them.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it is renamed to ``path``, on error it
    is removed. ``suffix`` keeps an extension that writers key on (e.g. ``'.png'``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Not mkstemp: its 0600 mode would survive the rename (checkpoints live on shared storage).
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp{suffix}")
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def staged_dir(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a hidden staging directory inside the directory ``path`` (created if needed); on
    success every file written there is renamed into ``path`` (same layout), on error none is: a
    run that fails half-way (a full disk) leaves no partial set of outputs. The staging directory
    is removed either way; being inside ``path``, it is on the same file system (renames work)."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    stage = path / f".staging.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmpdir"
    stage.mkdir()
    try:
        yield stage
        for f in sorted(p for p in stage.rglob("*") if p.is_file()):
            dest = path / f.relative_to(stage)
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.replace(f, dest)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically; returns the path."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def write_text(path: str | os.PathLike, text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically; returns the path."""
    return write_bytes(path, text.encode(encoding))


def write_json(path: str | os.PathLike, obj: Any, **dump_kwargs: Any) -> Path:
    """Write ``obj`` as JSON to ``path`` atomically (``dump_kwargs`` go to :func:`json.dumps`)."""
    return write_text(path, json.dumps(obj, **dump_kwargs))


__all__ = ["atomic_path", "staged_dir", "write_bytes", "write_json", "write_text"]
