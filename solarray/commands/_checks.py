"""Input checks the commands run before they start Ray: each failure is a :class:`UsageError`
naming the flag, the path and the fix (the CLI prints it as one line, exit status 2).

Checking here, on the driver, is both cheaper (no Ray start-up for a typo) and clearer (a Ray
task's error arrives wrapped in a remote traceback).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from solarray.core.checkpoints import model_file
from solarray.core.errors import UsageError
from solarray.data import dataset as data_api
from solarray.data.shard_reader import sample_ids
from solarray.data.shards import shard_paths
from solarray.models import load_model
from solarray.models.pretrained import encoder_settings

#: Columns every shard has (ingest's, and `search patches`' patch files).
SHARD_COLUMNS = ("sample_id",)
_INGEST = "run `solarray ingest --out DIR` first"


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


def require_shards(flag: str, path: str) -> list[str]:
    """``path`` is an ingest output with at least one shard, and every shard's Parquet footer
    reads with the shard columns; → the shard paths. A truncated or foreign file is named.
    A directory with Parquet files in another layout (e.g. Ray Data's ``write_parquet``) → ``[]``:
    the data API reads it and reports what it lacks."""
    import pyarrow.parquet as pq

    require_dir(flag, path)
    paths = shard_paths(path)
    if not paths:
        if next(Path(path).rglob("*.parquet"), None) is None:
            raise UsageError(f"{flag}: {path} has no shard_*.parquet files; {_INGEST}")
        return []
    for p in paths:
        try:
            names = set(pq.read_schema(p).names)
        except Exception as err:  # pyarrow raises ArrowInvalid/OSError for a damaged footer
            raise UsageError(
                f"{flag}: shard {p} is unreadable ({' '.join(str(err).split())[:120]}); delete it "
                "and re-run `solarray ingest` with the same --out (it resumes)") from None
        missing = [c for c in SHARD_COLUMNS if c not in names]
        if missing:
            raise UsageError(f"{flag}: {p} is not an ingest shard (no column "
                             f"{', '.join(missing)}); {_INGEST}")
    return paths


def shard_channels(flag: str, path: str) -> list[str]:
    """The channels of the shards in ``path`` (after :func:`require_shards`)."""
    require_shards(flag, path)
    try:
        return list(data_api.channels_of(path))
    except (OSError, ValueError, KeyError) as err:
        raise UsageError(f"{flag}: cannot tell the channels of {path} "
                         f"({' '.join(str(err).split())[:160]}); {_INGEST}") from None


def require_split(flag: str, path: str, split: str = "train", fix: str = "",
                  val_months: Sequence[int] = (3,), test_months: Sequence[int] = (1,)) -> None:
    """At least one sample of the shards in ``path`` falls in ``split`` of the time split
    (:func:`solarray.data.dataset.assign_splits`); else name where they fall and ``fix``."""
    if not shard_paths(path):
        return  # not ingest's layout: the data API applies the split
    ids = sample_ids(path)
    splits = data_api.assign_splits(np.array(ids, dtype="datetime64[s]"), val_months, test_months)
    if (splits == split).any():
        return
    counts = ", ".join(f"{k} {int((splits == k).sum())}" for k in ("train", "val", "test", "gap")
                       if (splits == k).any()) or "none"
    months = (f"test = month(s) {','.join(map(str, test_months))}, validation = month(s) "
              f"{','.join(map(str, val_months))}, 24-h gaps between splits")
    word = {"train": "training", "val": "validation"}.get(split, split)
    raise UsageError(f"{flag}: none of the {len(ids)} samples in {path} is in the {word} split "
                     f"(they fall in: {counts}; {months}); "
                     + (fix or "add data from other months"))


def load_checkpoint(flag: str, path: str, expected: str | Sequence[str]):
    """The model in checkpoint ``path`` (file or training directory), which must be one of
    ``expected``; a missing, unreadable or wrong-model checkpoint is a UsageError."""
    names = (expected,) if isinstance(expected, str) else tuple(expected)
    file = model_file(path)
    if not file.exists():
        raise UsageError(f"{flag}: no model checkpoint at {file}: no such checkpoint (give a "
                         "model.pt or a training checkpoint directory)")
    try:
        model = load_model(path)
    except Exception as err:  # torch: pickle/zip errors; registry: unknown model or config
        raise UsageError(f"{flag}: {file} is not a readable solarray checkpoint "
                         f"({' '.join(str(err).split())[:160]})") from None
    name = getattr(model, "model_name", None)
    if names and name not in names:
        raise UsageError(f"{flag}: {path} holds model {name!r}, not {' or '.join(names)}; "
                         f"give a {names[0]} checkpoint")
    return model


def require_encoder(flag: str, path: str, kinds: str) -> str:
    """``path`` is a readable pretrained ViT encoder checkpoint (``kinds`` names the accepted
    models in the message)."""
    if not os.path.exists(path):
        raise UsageError(f"{flag}: no such checkpoint: {path}")
    try:
        encoder_settings(path)
    except Exception as err:  # torch/registry errors of an unreadable or foreign checkpoint
        raise UsageError(f"{flag}: {path} is not a pretrained ViT encoder checkpoint ({kinds}): "
                         f"{' '.join(str(err).split())[:160]}") from None
    return path


def require_channels(flag: str, wanted: Sequence[str], available: Sequence[str],
                     where: str, fix: str = "") -> None:
    """Every channel in ``wanted`` is in ``available`` (the data's channels at ``where``)."""
    lacking = [c for c in wanted if c not in available]
    if lacking:
        raise UsageError(f"{flag}: needs channel(s) {', '.join(lacking)} that {where} lacks (it "
                         f"has {', '.join(available) or 'none'}); "
                         + (fix or "ingest those channels or use a model trained on these"))


__all__ = ["SHARD_COLUMNS", "load_checkpoint", "require_channels", "require_dir", "require_encoder", "require_file",
           "require_out_dir", "require_out_file", "require_shards", "require_split",
           "shard_channels"]
