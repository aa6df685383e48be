"""The label store: a directory of immutable, numbered label versions (``v1``, ``v2``, …).

Each version directory holds ``labels.parquet`` (``sample_id`` + ``masks`` ``[3, H, W]`` uint8)
and ``provenance.json``; see :mod:`solarray.data.labels` for the fields. A version is written to a
temporary directory and renamed into place, never modified afterwards; new versions get the next
number.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from solarray.core.features import FEATURE_KINDS
from solarray.data.labels.features import count_features

LABELS_FILE = "labels.parquet"
PROVENANCE_FILE = "provenance.json"
FORMAT = "solarray.labels/1"
_VERSION_RE = re.compile(r"^v(\d+)$")


@dataclass
class LabelSet:
    """One label version in memory: ``sample_ids [N]`` and ``masks`` uint8 ``[N, 3, H, W]``."""

    sample_ids: list[str]
    masks: np.ndarray
    provenance: dict = field(default_factory=dict)

    def index(self) -> dict[str, int]:
        return {s: i for i, s in enumerate(self.sample_ids)}


class LabelStore:
    """A directory of immutable label versions (see the module docstring)."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    def versions(self) -> list[str]:
        """Complete versions, oldest first (``["v1", "v2", ...]``)."""
        if not self.root.is_dir():
            return []
        found = []
        for d in self.root.iterdir():
            m = _VERSION_RE.match(d.name)
            if m and d.is_dir() and (d / PROVENANCE_FILE).exists() and (d / LABELS_FILE).exists():
                found.append((int(m.group(1)), d.name))
        return [name for _, name in sorted(found)]

    def latest(self) -> str | None:
        v = self.versions()
        return v[-1] if v else None

    def resolve(self, version: str | None) -> str:
        """``version`` (``"v2"``, ``"2"`` or ``None``/``"latest"`` → the newest); clear errors."""
        have = self.versions()
        if not have:
            raise FileNotFoundError(f"label store {self.root} has no versions yet "
                                    f"(create one with `solarray label init` or `label predict`)")
        if version in (None, "", "latest"):
            return have[-1]
        v = str(version)
        v = v if v.startswith("v") else f"v{v}"
        if v not in have:
            raise KeyError(f"label store {self.root} has no version {version!r}; "
                           f"versions: {', '.join(have)}")
        return v

    def path(self, version: str) -> Path:
        return self.root / self.resolve(version)

    def provenance(self, version: str | None = None) -> dict:
        return json.loads((self.path(version) / PROVENANCE_FILE).read_text())

    def read(self, version: str | None = None) -> LabelSet:
        """Load a version into memory."""
        import pyarrow.parquet as pq

        d = self.path(version)
        table = pq.read_table(d / LABELS_FILE)
        ids = [str(s) for s in table["sample_id"].to_pylist()]
        masks = tensor_column_to_numpy(table["masks"]).astype(np.uint8)
        return LabelSet(ids, masks, json.loads((d / PROVENANCE_FILE).read_text()))

    def write(self, sample_ids: Sequence[str], masks: np.ndarray, provenance: Mapping[str, Any],
              parent: str | None = None, extra_files: Mapping[str, str | bytes] | None = None
              ) -> str:
        """Create the next version from ``masks [N, 3, H, W]`` (0/1); returns its name."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        masks = np.asarray(masks)
        ids = [str(s) for s in sample_ids]
        if masks.ndim != 4 or masks.shape[1] != len(FEATURE_KINDS) or masks.shape[0] != len(ids):
            raise ValueError(f"label masks must be [N={len(ids)}, {len(FEATURE_KINDS)}, H, W], "
                             f"got {masks.shape}")
        if len(set(ids)) != len(ids):
            dup = sorted({s for s in ids if ids.count(s) > 1})[:5]
            raise ValueError(f"duplicate sample_id(s) in a label set: {', '.join(dup)}")
        if masks.size and masks.max() > 1:
            raise ValueError("label masks must be 0/1 (unknown pixels are not allowed in a label set)")
        if parent is not None:
            parent = self.resolve(parent)
        self.root.mkdir(parents=True, exist_ok=True)
        versions = self.versions()
        number = int(versions[-1][1:]) + 1 if versions else 1
        # Also skip numbers of leftover incomplete directories (never reuse a name).
        while (self.root / f"v{number}").exists():
            number += 1
        name = f"v{number}"
        tmp = self.root / f".{name}.tmp{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        try:
            col = pa.FixedShapeTensorArray.from_numpy_ndarray(
                np.ascontiguousarray(masks.astype(np.uint8)))
            table = pa.table({"sample_id": pa.array(ids, pa.string()), "masks": col})
            pq.write_table(table, tmp / LABELS_FILE)
            counts = {f: int(c) for f, c in zip(FEATURE_KINDS, count_features(masks).sum(axis=0),
                                                strict=True)}
            prov = {"format": FORMAT, "version": name, "parent": parent,
                    "created": datetime.now(UTC).isoformat(timespec="seconds"),
                    **dict(provenance), "n_samples": len(ids),
                    "shape": list(masks.shape[1:]), "features": list(FEATURE_KINDS),
                    "feature_counts": counts}
            for fname, content in (extra_files or {}).items():
                mode = "wb" if isinstance(content, bytes) else "w"
                with open(tmp / fname, mode) as fh:
                    fh.write(content)
            (tmp / PROVENANCE_FILE).write_text(json.dumps(prov, indent=2, default=str) + "\n")
            os.replace(tmp, self.root / name)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return name


def tensor_column_to_numpy(col) -> np.ndarray:
    """A (chunked) Arrow fixed-shape tensor column → numpy ``[N, ...]``."""
    import pyarrow as pa

    arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    if isinstance(arr, pa.ExtensionArray) and hasattr(arr, "to_numpy_ndarray"):
        return arr.to_numpy_ndarray()
    return np.stack([np.asarray(x) for x in arr.to_pylist()])


__all__ = ["FORMAT", "LABELS_FILE", "PROVENANCE_FILE", "LabelSet", "LabelStore",
           "tensor_column_to_numpy"]
