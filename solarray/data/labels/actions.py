"""The label-store actions of ``solarray label`` that need no model, one call each:
:func:`init_labels`, :func:`review_labels`, :func:`diff_labels`, :func:`list_labels` (``predict``
and ``retrain`` run SPNet: :mod:`solarray.train.relabel`). A user's mistake is a
:class:`~solarray.core.errors.UsageError` naming the flag, raised before Ray starts."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from solarray.core.errors import UsageError
from solarray.core.paths import require_file
from solarray.core.ray_connect import connect
from solarray.data.dataset import require_shards, require_split
from solarray.data.labels.corrections import CorrectionsError, review
from solarray.data.labels.diff import LabelDiff, diff
from solarray.data.labels.samples import init_from_data
from solarray.data.labels.store import LabelStore


def label_store(labels: str) -> LabelStore:
    """The label store at ``labels`` (``--labels``), which must not be a file."""
    if os.path.exists(labels) and not os.path.isdir(labels):
        raise UsageError(f"--labels: {labels} is a file; give the label store directory")
    return LabelStore(labels)


def check_label_data(data: str, split: str | None) -> None:
    """``data`` (``--data``) holds readable shards with samples in ``split`` (``None``: all)."""
    require_shards("--data", data)
    if split is not None:
        require_split("--data", data, split, "choose another --split (all, train, val, test) "
                      "or add data from other months")


@contextmanager
def store_errors(flag: str = "") -> Iterator[None]:
    """A missing version or store (KeyError/FileNotFoundError) as a UsageError (prefixed with
    ``flag``), a bad corrections file as one naming ``--corrections``."""
    try:
        yield
    except CorrectionsError as err:
        raise UsageError(f"--corrections: {err}") from None
    except (KeyError, FileNotFoundError) as err:
        msg = err.args[0] if err.args else err
        raise UsageError(f"{flag}: {msg}" if flag else str(msg)) from None


def init_labels(labels: str, data: str, split: str | None = None, min_area: int = 0,
                drop_fraction: float = 1.0, seed: int = 0) -> str:
    """The first label version of the store ``labels`` from the masks of the shards in ``data``
    (:func:`~solarray.data.labels.samples.init_from_data`); → the version name."""
    store = label_store(labels)
    check_label_data(data, split)
    if min_area < 0:
        raise UsageError(f"--min-area must be an integer ≥ 0, got {min_area}")
    if not 0 <= drop_fraction <= 1:
        raise UsageError(f"--drop-fraction must be in [0, 1], got {drop_fraction}")
    connect()
    return init_from_data(store, data, split, min_area, drop_fraction, seed)


def review_labels(labels: str, corrections: str, base: str | None = None) -> str:
    """A new version of ``labels``: ``base`` (default the latest) with the corrections file
    merged in; → the version name."""
    store = label_store(labels)
    require_file("--corrections", corrections)
    with store_errors():
        return review(store, corrections, base=base)


def diff_labels(labels: str, a: str, b: str) -> LabelDiff:
    """Features added/removed per class between versions ``a`` and ``b`` of ``labels``."""
    store = label_store(labels)
    with store_errors():
        return diff(store, a, b)


def list_labels(labels: str) -> list[tuple[str, dict[str, Any]]]:
    """``(version, provenance)`` of every version of ``labels``, oldest first."""
    store = label_store(labels)
    with store_errors():
        return [(v, store.provenance(v)) for v in store.versions()]


__all__ = ["check_label_data", "diff_labels", "init_labels", "label_store", "list_labels",
           "review_labels", "store_errors"]
