"""Checkpoint file names shared by training, loading and serving.

A training checkpoint directory (``checkpoint_XXXXXXXX/``, written by :mod:`solarray.train`)
holds :data:`MODEL_FILE` — a model checkpoint that rebuilds the model alone — and
:data:`STATE_FILE` (optimiser, step, RNG). The service's checkpoint directory holds one model
checkpoint per role, named in :data:`ROLE_FILES`.
"""

from __future__ import annotations

import os
from pathlib import Path

MODEL_FILE = "model.pt"
STATE_FILE = "train_state.pt"

#: Environment variable that overrides :data:`DEFAULT_CHECKPOINT_DIR`.
CHECKPOINT_DIR_ENV = "SOLARRAY_CHECKPOINT_DIR"

#: Where ``solarray demo`` writes the checkpoints the service uses when none is configured.
DEFAULT_CHECKPOINT_DIR = Path("~/.solarray/demo/checkpoints")

#: File names inside the service's checkpoint directory, per role.
ROLE_FILES: dict[str, str] = {
    "spnet": "spnet.pt",  # model "spnet"
    "fpnet_full_disk": "fpnet_full_disk.pt",  # "fpnet", mode full_disk
    "fpnet_ar": "fpnet_ar.pt",  # "fpnet", mode ar
    "hale": "hale.pt",  # Hale-class classifier
    "mcintosh": "mcintosh.pt",  # McIntosh-class classifier
}


def model_file(path: str | os.PathLike) -> Path:
    """The model checkpoint a path names: a directory means its :data:`MODEL_FILE`."""
    path = Path(path)
    return path / MODEL_FILE if path.is_dir() else path


def run_name(path: str | os.PathLike) -> str:
    """The training run a checkpoint belongs to: ``runs/a2b/checkpoint_00000300/model.pt`` →
    ``a2b`` (a display name for tables)."""
    p = os.path.abspath(os.fspath(path).rstrip("/"))
    if os.path.basename(p) == MODEL_FILE:
        p = os.path.dirname(p)
    if os.path.basename(p).startswith("checkpoint_"):
        p = os.path.dirname(p)
    return os.path.basename(p)


def default_checkpoint_dir() -> Path:
    """:data:`DEFAULT_CHECKPOINT_DIR` (or ``$SOLARRAY_CHECKPOINT_DIR``), user-expanded."""
    return Path(os.environ.get(CHECKPOINT_DIR_ENV) or DEFAULT_CHECKPOINT_DIR).expanduser()


__all__ = ["CHECKPOINT_DIR_ENV", "DEFAULT_CHECKPOINT_DIR", "MODEL_FILE", "ROLE_FILES", "run_name",
           "STATE_FILE", "default_checkpoint_dir", "model_file"]
