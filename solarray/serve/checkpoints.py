"""The checks of a Serve config's checkpoints before Ray starts (``solarray serve``): configured
paths must exist, and a checkpoint directory must hold the file of every role it serves."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from solarray.core.checkpoints import ROLE_FILES, default_checkpoint_dir
from solarray.core.errors import UsageError


def check_checkpoints(opts: Mapping[str, Mapping[str, Any]], source: str) -> None:
    """A configured checkpoint that is a local path must exist (URIs are read by the replica,
    which fails to start when it cannot); else a UsageError naming ``source`` and the ways out."""
    for name, o in opts.items():
        for role, path in ((o.get("user_config") or {}).get("checkpoints") or {}).items():
            if path and "://" not in str(path) and not Path(str(path)).expanduser().exists():
                raise UsageError(
                    f"{source}: {name} checkpoints.{role}: {path} does not exist — set it to your "
                    f"trained checkpoint, or pass --checkpoint-dir DIR (e.g. "
                    f"{default_checkpoint_dir()} after `solarray demo`), or remove the "
                    f"checkpoints and pass --allow-untrained for a try-out")


def check_checkpoint_dir(opts: Mapping[str, Mapping[str, Any]],
                         roles: Mapping[str, Sequence[str]], source: str = "",
                         kind: str = "") -> None:
    """Each deployment of ``roles`` (deployment → its model roles) that loads from a local
    ``checkpoint_dir`` (a directory path) in its ``user_config`` must find there the file of every role without a
    configured path (:data:`~solarray.core.checkpoints.ROLE_FILES`), unless it sets
    ``allow_untrained``; else one UsageError line naming ``source`` (a flag, if any), the ``kind``
    of directory (``"demo"``), the missing files and the ways out."""
    missing: dict[Path, list[str]] = {}
    for name, rs in roles.items():
        uc = (opts.get(name) or {}).get("user_config") or {}
        d = uc.get("checkpoint_dir")
        if not d or uc.get("allow_untrained"):
            continue
        d = Path(str(d)).expanduser()
        for r in rs:
            if not (uc.get("checkpoints") or {}).get(r) and not (d / ROLE_FILES[r]).is_file():
                missing.setdefault(d, []).append(ROLE_FILES[r])
    if missing:
        d, files = next(iter(missing.items()))
        none = not any((d / f).is_file() for f in ROLE_FILES.values())
        kind = f"{kind} " if kind else ""
        what = f"no {kind}checkpoints in {d}" if none else \
            f"the {kind}checkpoint directory {d} lacks {', '.join(files)}"
        raise UsageError(
            f"{source + ': ' if source else ''}{what} — run `solarray demo` first, or pass --checkpoint-dir DIR or "
            f"--config FILE naming your checkpoints (--allow-untrained serves untrained "
            f"stand-ins for a try-out)")


__all__ = ["check_checkpoint_dir", "check_checkpoints"]
