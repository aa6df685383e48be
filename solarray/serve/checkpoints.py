"""The check of a Serve config's checkpoints before Ray starts (``solarray serve``)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

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
                    f"~/.solarray/demo/checkpoints after `solarray demo`), or remove the "
                    f"checkpoints and pass --allow-untrained for a try-out")


__all__ = ["check_checkpoints"]
