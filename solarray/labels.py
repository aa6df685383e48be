"""Versioned label sets for SPNet's human-in-the-loop cycle (seed 004 §3.1.2).

A **label store** is a directory of immutable versions ``v1``, ``v2``, … Each version directory
holds

* ``labels.parquet``: one row per sample — ``sample_id`` (string, the shard's ISO time) and
  ``masks`` (fixed-shape tensor uint8 ``[3, H, W]``: AR, CH, FL; 0/1);
* ``provenance.json``: ``format``, ``version``, ``parent`` (the version it was derived from or
  ``null``), ``kind`` (``init`` | ``predict`` | ``review``), ``created`` (UTC ISO time),
  ``model_checkpoint`` (for ``predict``), ``data`` (shard directory), ``n_samples``, ``shape``,
  ``features``, feature counts per class, and for ``review`` the corrections summary
  (a copy of the corrections file sits next to it as ``corrections.json``).

A version is written to a temporary directory and renamed into place, never modified afterwards;
new versions get the next number.

The cycle: ``init`` (a first, possibly incomplete, human label set, e.g. from ingested masks) →
``retrain`` (SPNet on a version) → ``predict`` (model masks for a dataset as a new version) →
``review`` (an expert's corrections file merged into a new version) → ``retrain`` … ``diff``
counts features (8-connected components) added/removed per class between two versions.

Corrections file (JSON; ``review``)::

    {
      "format": "solarray.corrections/1",
      "reviewer": "name",                       # optional, recorded in provenance
      "note": "free text",                      # optional
      "samples": {
        "2024-01-01T00:00:00": {                # a sample_id of the base version
          "AR": {"add": [[[x, y], [x, y], [x, y], ...], ...],    # polygons, pixel coordinates
                 "remove": [[[x, y], ...]]},
          "CH": {"add_mask": "ch_fix.png"},     # PNG (H×W, nonzero = set), path relative to the
          "FL": {"remove_mask": "fl_bad.png"}   # corrections file
        }
      }
    }

Pixel coordinates: ``x`` = column, ``y`` = row, pixel (r, c) has its centre at (x=c, y=r); a pixel
belongs to a polygon when its centre is inside. For each class, ``remove``/``remove_mask`` pixels
are cleared first, then ``add``/``add_mask`` pixels are set. The whole file is validated before
anything is written: an unknown ``sample_id`` (named in the error), an unknown class or key, a
polygon with fewer than 3 vertices or a mask of the wrong size rejects the file and no version is
created.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from solarray.models.spnet import FEATURES

LABELS_FILE = "labels.parquet"
PROVENANCE_FILE = "provenance.json"
CORRECTIONS_COPY = "corrections.json"
FORMAT = "solarray.labels/1"
CORRECTIONS_FORMAT = "solarray.corrections/1"
_VERSION_RE = re.compile(r"^v(\d+)$")
_STRUCT8 = np.ones((3, 3), int)


class CorrectionsError(ValueError):
    """A corrections file that cannot be merged (nothing was written)."""


# --------------------------------------------------------------------------------------------------
# The store
# --------------------------------------------------------------------------------------------------


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
        masks = _tensor_column_to_numpy(table["masks"]).astype(np.uint8)
        return LabelSet(ids, masks, json.loads((d / PROVENANCE_FILE).read_text()))

    def write(self, sample_ids: Sequence[str], masks: np.ndarray, provenance: Mapping[str, Any],
              parent: str | None = None, extra_files: Mapping[str, str | bytes] | None = None
              ) -> str:
        """Create the next version from ``masks [N, 3, H, W]`` (0/1); returns its name."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        masks = np.asarray(masks)
        ids = [str(s) for s in sample_ids]
        if masks.ndim != 4 or masks.shape[1] != len(FEATURES) or masks.shape[0] != len(ids):
            raise ValueError(f"label masks must be [N={len(ids)}, {len(FEATURES)}, H, W], "
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
            counts = {f: int(c) for f, c in zip(FEATURES, count_features(masks).sum(axis=0),
                                                strict=True)}
            prov = {"format": FORMAT, "version": name, "parent": parent,
                    "created": datetime.now(UTC).isoformat(timespec="seconds"),
                    **dict(provenance), "n_samples": len(ids),
                    "shape": list(masks.shape[1:]), "features": list(FEATURES),
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


def _tensor_column_to_numpy(col) -> np.ndarray:
    import pyarrow as pa

    arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    if isinstance(arr, pa.ExtensionArray) and hasattr(arr, "to_numpy_ndarray"):
        return arr.to_numpy_ndarray()
    return np.stack([np.asarray(x) for x in arr.to_pylist()])


# --------------------------------------------------------------------------------------------------
# Features (connected components)
# --------------------------------------------------------------------------------------------------


def components(mask: np.ndarray) -> tuple[np.ndarray, int]:
    """8-connected components of a 0/1 ``[H, W]`` mask: ``(labels [H, W] int, count)``."""
    from scipy import ndimage

    return ndimage.label(np.asarray(mask) == 1, structure=_STRUCT8)


def count_features(masks: np.ndarray) -> np.ndarray:
    """Features per sample and class ``[N, 3]`` (int) of ``masks [N, 3, H, W]``."""
    masks = np.asarray(masks)
    out = np.zeros(masks.shape[:2], np.int64)
    for i in range(masks.shape[0]):
        for k in range(masks.shape[1]):
            out[i, k] = components(masks[i, k])[1]
    return out


def _unmatched(a: np.ndarray, b: np.ndarray) -> int:
    """Components of ``a`` that share no pixel with ``b``."""
    lab, n = components(a)
    if n == 0:
        return 0
    hit = np.unique(lab[(lab > 0) & (np.asarray(b) == 1)])
    return int(n - len(hit))


@dataclass
class LabelDiff:
    """Differences from version ``a`` to ``b``: per class, features (components) in ``b`` that
    overlap nothing in ``a`` (added) and features of ``a`` that overlap nothing in ``b`` (removed),
    pixels set/cleared, and samples only in one version."""

    a: str
    b: str
    added: dict[str, int]
    removed: dict[str, int]
    pixels_added: dict[str, int]
    pixels_removed: dict[str, int]
    features_a: dict[str, int]
    features_b: dict[str, int]
    samples_changed: int
    only_in_a: list[str]
    only_in_b: list[str]

    def text(self) -> str:
        lines = [f"label diff {self.a} → {self.b}: {self.samples_changed} sample(s) changed, "
                 f"{len(self.only_in_a)} only in {self.a}, {len(self.only_in_b)} only in {self.b}",
                 f"{'class':<6}{'features ' + self.a:>14}{'features ' + self.b:>14}"
                 f"{'added':>8}{'removed':>9}{'+px':>9}{'-px':>9}"]
        for f in FEATURES:
            lines.append(f"{f:<6}{self.features_a[f]:>14}{self.features_b[f]:>14}"
                         f"{self.added[f]:>8}{self.removed[f]:>9}{self.pixels_added[f]:>9}"
                         f"{self.pixels_removed[f]:>9}")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def diff_sets(a: LabelSet, b: LabelSet, name_a: str = "a", name_b: str = "b") -> LabelDiff:
    """Compare two label sets on their common samples (see :class:`LabelDiff`)."""
    ia, ib = a.index(), b.index()
    common = [s for s in a.sample_ids if s in ib]
    zero = {f: 0 for f in FEATURES}
    added, removed, pa_, pr_, fa, fb = (dict(zero) for _ in range(6))
    changed = 0
    for s in common:
        ma, mb = a.masks[ia[s]], b.masks[ib[s]]
        if ma.shape != mb.shape:
            raise ValueError(f"sample {s}: mask shapes differ between {name_a} {ma.shape} and "
                             f"{name_b} {mb.shape}")
        if not np.array_equal(ma, mb):
            changed += 1
        for k, f in enumerate(FEATURES):
            added[f] += _unmatched(mb[k], ma[k])
            removed[f] += _unmatched(ma[k], mb[k])
            pa_[f] += int(((mb[k] == 1) & (ma[k] != 1)).sum())
            pr_[f] += int(((ma[k] == 1) & (mb[k] != 1)).sum())
            fa[f] += components(ma[k])[1]
            fb[f] += components(mb[k])[1]
    return LabelDiff(name_a, name_b, added, removed, pa_, pr_, fa, fb, changed,
                     [s for s in a.sample_ids if s not in ib],
                     [s for s in b.sample_ids if s not in ia])


def diff(store: LabelStore, a: str, b: str) -> LabelDiff:
    """:func:`diff_sets` of two versions of ``store``."""
    va, vb = store.resolve(a), store.resolve(b)
    return diff_sets(store.read(va), store.read(vb), va, vb)


# --------------------------------------------------------------------------------------------------
# Corrections (review)
# --------------------------------------------------------------------------------------------------

_CLASS_KEYS = {"add", "remove", "add_mask", "remove_mask"}


def polygon_mask(polygon: Sequence[Sequence[float]], shape: tuple[int, int]) -> np.ndarray:
    """Bool ``[H, W]``: pixels whose centre (x = column, y = row) is inside ``polygon``
    (≥ 3 ``[x, y]`` vertices, pixel coordinates; the boundary counts as inside)."""
    from matplotlib.path import Path as MplPath

    pts = np.asarray(polygon, dtype=float)
    if pts.ndim != 2 or pts.shape[1] != 2 or len(pts) < 3 or not np.isfinite(pts).all():
        raise ValueError(f"a polygon needs ≥ 3 finite [x, y] vertices, got {np.shape(polygon)}")
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w]
    centres = np.column_stack([xx.ravel(), yy.ravel()]).astype(float)
    inside = MplPath(pts).contains_points(centres, radius=1e-9) | \
        MplPath(pts).contains_points(centres, radius=-1e-9)
    return inside.reshape(h, w)


def _read_png_mask(path: Path, shape: tuple[int, int]) -> np.ndarray:
    import matplotlib.image as mpimg

    if not path.exists():
        raise FileNotFoundError(f"mask file not found: {path}")
    img = np.asarray(mpimg.imread(path))
    if img.ndim == 3:
        img = img[..., :3].max(axis=-1) if img.shape[-1] >= 3 else img[..., 0]
    if img.shape != tuple(shape):
        raise ValueError(f"mask {path} is {img.shape[1]}×{img.shape[0]} px, expected "
                         f"{shape[1]}×{shape[0]}")
    return img > 0


def write_png_mask(mask: np.ndarray, path: str | os.PathLike) -> Path:
    """Write a 0/1 ``[H, W]`` mask as an 8-bit greyscale PNG (255 = set) for a corrections file."""
    import matplotlib.image as mpimg

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rgb = np.repeat((np.asarray(mask) > 0).astype(np.uint8)[..., None] * 255, 3, axis=-1)
    mpimg.imsave(path, rgb)
    return path


@dataclass
class Corrections:
    """A validated corrections file: per sample, per class index, bool masks to clear and set."""

    source: str
    reviewer: str | None
    note: str | None
    edits: dict[str, dict[int, tuple[np.ndarray, np.ndarray]]]  # sid → k → (remove, add)
    raw: dict

    def summary(self) -> dict:
        per = {f: {"samples": 0, "pixels_removed_request": 0, "pixels_added_request": 0}
               for f in FEATURES}
        for ed in self.edits.values():
            for k, (rm, ad) in ed.items():
                f = FEATURES[k]
                per[f]["samples"] += 1
                per[f]["pixels_removed_request"] += int(rm.sum())
                per[f]["pixels_added_request"] += int(ad.sum())
        return {"file": self.source, "reviewer": self.reviewer, "note": self.note,
                "n_samples": len(self.edits), "per_class": per}


def load_corrections(path: str | os.PathLike, known: Mapping[str, int] | Sequence[str],
                     shape: tuple[int, int]) -> Corrections:
    """Parse and validate a corrections file against the base version's ``known`` sample ids and
    mask ``shape`` (H, W). Raises :class:`CorrectionsError` naming the problem; nothing is merged."""
    path = Path(path)
    if not path.exists():
        raise CorrectionsError(f"corrections file not found: {path}")
    try:
        raw = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise CorrectionsError(f"{path}: not valid JSON: {err}") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("samples"), dict):
        raise CorrectionsError(f"{path}: expected an object with a \"samples\" mapping of "
                               f"sample_id → per-class corrections")
    fmt = raw.get("format", CORRECTIONS_FORMAT)
    if fmt != CORRECTIONS_FORMAT:
        raise CorrectionsError(f"{path}: format {fmt!r} is not {CORRECTIONS_FORMAT!r}")
    known = set(known)
    unknown = [s for s in raw["samples"] if s not in known]
    if unknown:
        shown = ", ".join(unknown[:5]) + (f" (+{len(unknown) - 5} more)" if len(unknown) > 5 else "")
        raise CorrectionsError(f"{path}: unknown sample id(s) not in the base label version: "
                               f"{shown}; nothing was merged")
    edits: dict[str, dict[int, tuple[np.ndarray, np.ndarray]]] = {}
    for sid, per_class in raw["samples"].items():
        where = f"{path}: sample {sid}"
        if not isinstance(per_class, dict):
            raise CorrectionsError(f"{where}: expected a mapping of class → corrections")
        edits[sid] = {}
        for cls, ops in per_class.items():
            if cls not in FEATURES:
                raise CorrectionsError(f"{where}: unknown class {cls!r}; expected one of "
                                       f"{', '.join(FEATURES)}")
            if not isinstance(ops, dict) or not set(ops) <= _CLASS_KEYS:
                bad = sorted(set(ops) - _CLASS_KEYS) if isinstance(ops, dict) else ops
                raise CorrectionsError(f"{where} {cls}: unknown key(s) {bad}; expected some of "
                                       f"{', '.join(sorted(_CLASS_KEYS))}")
            rm = np.zeros(shape, bool)
            ad = np.zeros(shape, bool)
            try:
                for op, target in (("remove", rm), ("add", ad)):
                    polys = ops.get(op, [])
                    if not isinstance(polys, list):
                        raise ValueError(f"{op!r} must be a list of polygons")
                    for poly in polys:
                        target |= polygon_mask(poly, shape)
                    if ops.get(f"{op}_mask"):
                        target |= _read_png_mask(path.parent / ops[f"{op}_mask"], shape)
            except (ValueError, FileNotFoundError, OSError) as err:
                raise CorrectionsError(f"{where} {cls}: {err}") from None
            edits[sid][FEATURES.index(cls)] = (rm, ad)
    return Corrections(str(path), raw.get("reviewer"), raw.get("note"), edits, raw)


def apply_corrections(labels: LabelSet, corr: Corrections) -> np.ndarray:
    """A corrected copy of ``labels.masks`` (remove first, then add, per class)."""
    masks = labels.masks.copy()
    idx = labels.index()
    for sid, ed in corr.edits.items():
        i = idx[sid]
        for k, (rm, ad) in ed.items():
            m = masks[i, k]
            m[rm] = 0
            m[ad] = 1
    return masks


def review(store: LabelStore, corrections_path: str | os.PathLike, base: str | None = None
           ) -> str:
    """Merge a corrections file into ``base`` (default latest) as a new version; returns its name.

    Old versions are untouched; an invalid file (unknown sample, bad polygon, …) raises
    :class:`CorrectionsError` and writes nothing.
    """
    base = store.resolve(base)
    labels = store.read(base)
    corr = load_corrections(corrections_path, labels.index(), tuple(labels.masks.shape[2:]))
    masks = apply_corrections(labels, corr)
    prov = {"kind": "review", "corrections": corr.summary(),
            "data": labels.provenance.get("data"),
            "model_checkpoint": labels.provenance.get("model_checkpoint")}
    return store.write(labels.sample_ids, masks, prov, parent=base,
                       extra_files={CORRECTIONS_COPY: json.dumps(corr.raw, indent=2)})


# --------------------------------------------------------------------------------------------------
# Data: read samples, init, predict, retrain
# --------------------------------------------------------------------------------------------------


def load_samples(data_dir: str | os.PathLike, split: str | None = None,
                 columns: Sequence[str] = ("sample_id", "image", "present", "masks"),
                 ) -> dict[str, Any]:
    """Rows of ingested shards as numpy arrays (Ray Data; needs a Ray session), sorted by time.

    ``split`` ``None``/``"all"`` or one of ``train``/``val``/``test``
    (:func:`solarray.data.dataset.split_by_time` defaults). Returns the requested columns plus
    ``channels`` (list of names). ``image`` keeps NaN (off-frame/missing); ``present`` float32.
    """
    from solarray.data import dataset as data_api

    ds = data_api.read_shards(os.fspath(data_dir))
    names = ds.schema().names
    missing = [c for c in columns if c not in names]
    if missing:
        raise ValueError(f"{data_dir}: shards lack column(s) {', '.join(missing)} "
                         f"(have {', '.join(names)})")
    if split not in (None, "all"):
        if split not in data_api.SPLITS:
            raise ValueError(f"split must be one of all, {', '.join(data_api.SPLITS)}; got {split!r}")
        ds = data_api.split_by_time(ds)[split]
    ds = ds.select_columns(list(columns))
    parts: dict[str, list] = {c: [] for c in columns}
    for batch in ds.iter_batches(batch_size=256, batch_format="numpy"):
        for c in columns:
            parts[c].append(batch[c])
    out: dict[str, Any] = {"channels": data_api.channels_of(os.fspath(data_dir))}
    for c in columns:
        if not parts[c] or not sum(len(p) for p in parts[c]):
            out[c] = np.zeros((0,)) if c != "sample_id" else []
            continue
        if c == "sample_id":
            out[c] = [str(s) for p in parts[c] for s in p]
        elif c == "present":
            out[c] = np.concatenate([np.stack([np.asarray(x, np.float32) for x in p])
                                     for p in parts[c]])
        else:
            out[c] = np.concatenate(parts[c])
    if out.get("sample_id"):
        order = np.argsort(np.asarray(out["sample_id"]))
        for c in columns:
            out[c] = [out[c][i] for i in order] if c == "sample_id" else out[c][order]
    return out


def init_from_data(store: LabelStore, data_dir: str | os.PathLike, split: str | None = None,
                   min_area: int = 0, drop_fraction: float = 1.0, seed: int = 0) -> str:
    """A first label version from the shards' ``masks`` (human/truth labels).

    Samples whose masks are unknown (255) are skipped. To simulate an incomplete human label set,
    components smaller than ``min_area`` px are dropped with probability ``drop_fraction``.
    """
    data = load_samples(data_dir, split, columns=("sample_id", "masks"))
    masks = np.asarray(data["masks"])
    if masks.size == 0:
        raise ValueError(f"{data_dir}: no samples (split {split or 'all'})")
    known = ~(masks == 255).any(axis=(1, 2, 3))
    ids = [s for s, k in zip(data["sample_id"], known, strict=True) if k]
    masks = masks[known]
    if not len(ids):
        raise ValueError(f"{data_dir}: no sample has known masks")
    dropped = {f: 0 for f in FEATURES}
    if min_area > 0:
        masks, dropped = drop_small_features(masks, min_area, drop_fraction, seed)
    prov = {"kind": "init", "data": os.fspath(data_dir), "split": split or "all",
            "min_area": min_area, "drop_fraction": drop_fraction, "seed": seed,
            "dropped_features": dropped}
    return store.write(ids, masks, prov)


def drop_small_features(masks: np.ndarray, min_area: int, fraction: float = 1.0, seed: int = 0
                        ) -> tuple[np.ndarray, dict[str, int]]:
    """Remove 8-connected components smaller than ``min_area`` px, each with probability
    ``fraction`` (simulates a human label set that misses small features). Returns the new masks
    and the number of dropped features per class."""
    rng = np.random.default_rng(seed)
    out = np.asarray(masks).copy()
    dropped = {f: 0 for f in FEATURES}
    for i in range(out.shape[0]):
        for k, f in enumerate(FEATURES):
            lab, n = components(out[i, k])
            if n == 0:
                continue
            sizes = np.bincount(lab.ravel(), minlength=n + 1)
            for c in range(1, n + 1):
                if sizes[c] < min_area and rng.random() < fraction:
                    out[i, k][lab == c] = 0
                    dropped[f] += 1
    return out, dropped


class _Predictor:
    """Ray Data callable: a batch of shard rows → ``sample_id`` + predicted masks."""

    def __init__(self, checkpoint: str, channels: Sequence[str], threshold: float,
                 batch_size: int):
        import torch

        from solarray.models import load_model

        torch.set_num_threads(1)
        self.model = load_model(checkpoint)
        self.channels = list(channels)
        self.threshold = threshold
        self.batch_size = batch_size

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        present = np.stack([np.asarray(p, np.float32) for p in batch["present"]])
        masks = predict_masks(self.model, np.asarray(batch["image"], np.float32), present,
                              self.channels, self.threshold, self.batch_size)
        return {"sample_id": np.asarray(batch["sample_id"], dtype=object), "masks": masks}


def predict_masks(model, image: np.ndarray, present: np.ndarray | None,
                  data_channels: Sequence[str], threshold: float = 0.5, batch_size: int = 32,
                  drop: Sequence[str] = (), frame: float | None = 1.1) -> np.ndarray:
    """SPNet masks uint8 ``[N, 3, H, W]`` for ``image [N, C_data, H, W]`` (NaN allowed).

    Channels are picked by name (a model channel the data lacks counts as missing); channels in
    ``drop`` are marked missing (``present`` 0) to test the model without that modality. With
    ``frame`` (the frame half-width in R☉) pixels off the solar disk are cleared (features are
    on-disk by definition); ``None`` keeps them.
    """
    import torch

    from solarray.evaluate.segmentation import disk_mask
    from solarray.models.spnet import select_channels

    if not 0.0 < threshold < 1.0:
        raise ValueError(f"threshold must be in (0, 1), got {threshold}")
    x, p = select_channels(np.asarray(image, np.float32), present, data_channels,
                           model.config.channels)
    p = np.asarray(p, np.float32).copy()
    for c in drop:
        if c not in model.config.channels:
            raise ValueError(f"cannot drop {c!r}: the model's channels are "
                             f"{', '.join(model.config.channels)}")
        p[:, list(model.config.channels).index(c)] = 0.0
    prob = model.predict_proba(torch.from_numpy(np.ascontiguousarray(x)), torch.from_numpy(p),
                               batch_size=batch_size)
    out = (prob.numpy() > threshold).astype(np.uint8)
    if frame is not None:
        out &= disk_mask(out.shape[-1], frame).astype(np.uint8)
    return out


def predict(store: LabelStore, checkpoint: str | os.PathLike, data_dir: str | os.PathLike,
            split: str | None = None, threshold: float = 0.5, parent: str | None = None,
            batch_size: int = 32, num_actors: int = 1) -> str:
    """Model masks for every sample of ``data_dir`` (optionally one split) as a new version.

    Inference runs as Ray Data ``map_batches`` over an actor pool (each actor loads the
    checkpoint once). ``parent``: the label version the model was trained on, if known.
    """
    import ray

    from solarray.data import dataset as data_api
    from solarray.models import load_model

    checkpoint = os.fspath(checkpoint)
    model = load_model(checkpoint)  # fail fast, on the driver, for a bad checkpoint
    if getattr(model, "model_name", None) != "spnet":
        raise ValueError(f"{checkpoint}: holds model {model.model_name!r}, not spnet")
    channels = data_api.channels_of(os.fspath(data_dir))
    ds = data_api.read_shards(os.fspath(data_dir))
    if split not in (None, "all"):
        ds = data_api.split_by_time(ds)[split]
    ds = ds.select_columns(["sample_id", "image", "present"])
    out = ds.map_batches(
        _Predictor, fn_constructor_kwargs={"checkpoint": checkpoint, "channels": channels,
                                           "threshold": threshold, "batch_size": batch_size},
        batch_size=batch_size, batch_format="numpy",
        compute=ray.data.ActorPoolStrategy(min_size=1, max_size=max(1, num_actors)),
        num_cpus=1)
    ids, masks = [], []
    for batch in out.iter_batches(batch_size=256, batch_format="numpy"):
        ids += [str(s) for s in batch["sample_id"]]
        masks.append(np.asarray(batch["masks"], np.uint8))
    if not ids:
        raise ValueError(f"{data_dir}: no samples to label (split {split or 'all'})")
    m = np.concatenate(masks)
    order = np.argsort(np.asarray(ids))
    prov = {"kind": "predict", "model_checkpoint": os.path.abspath(checkpoint),
            "model_channels": list(model.config.channels), "data": os.fspath(data_dir),
            "split": split or "all", "threshold": threshold}
    return store.write([ids[i] for i in order], m[order], prov, parent=parent)


def data_image_size(data_dir: str | os.PathLike) -> int:
    """Image size N of the shards' ``image`` column ``[C, N, N]`` (from the Parquet schema)."""
    import pyarrow.parquet as pq

    from solarray.data.ingest import shard_paths

    paths = shard_paths(os.fspath(data_dir))
    if not paths:
        raise FileNotFoundError(f"no shard_*.parquet files in {data_dir}")
    t = pq.read_schema(paths[0]).field("image").type
    shape = getattr(t, "shape", None)
    if not shape:
        raise ValueError(f"{paths[0]}: image column is not a fixed-shape tensor ({t})")
    return int(shape[-1])


def _join_labels(batch: dict[str, np.ndarray], labels_path: str) -> dict[str, np.ndarray]:
    import pyarrow.parquet as pq

    ids = [str(s) for s in batch["sample_id"]]
    table = pq.read_table(labels_path, filters=[("sample_id", "in", ids)])
    got = {s: i for i, s in enumerate(table["sample_id"].to_pylist())}
    keep = np.array([s in got for s in ids], dtype=bool)
    out = {k: (np.asarray(v)[keep] if not isinstance(v, list) else
               [x for x, k_ in zip(v, keep, strict=True) if k_]) for k, v in batch.items()}
    if got:
        lab = _tensor_column_to_numpy(table["masks"]).astype(np.uint8)
        out["masks"] = lab[[got[s] for s in ids if s in got]]
    else:
        shape = batch["image"].shape[2:]
        out["masks"] = np.zeros((0, len(FEATURES), *shape), np.uint8)
    return out


def training_dataset(store: LabelStore, version: str | None, data_dir: str | os.PathLike,
                     split: str | None = "train"):
    """Ray Dataset in ``to_training`` layout whose ``masks`` come from a label version (inner join
    on ``sample_id``; shard samples without a label are dropped)."""
    from solarray.data import dataset as data_api

    v = store.resolve(version)
    ds = data_api.read_shards(os.fspath(data_dir))
    if split not in (None, "all"):
        ds = data_api.split_by_time(ds)[split]
    ds = ds.select_columns(["sample_id", "t_obs", "image", "present"])
    ds = ds.map_batches(_join_labels, batch_format="numpy",
                        fn_kwargs={"labels_path": str(store.path(v) / LABELS_FILE)})
    return data_api.to_training(ds.drop_columns(["sample_id"]))


def retrain(store: LabelStore, version: str | None, data_dir: str | os.PathLike, cfg,
            split: str | None = "train", log: Callable[[str], None] = print,
            materialize: bool = True):
    """Train SPNet (``cfg``: a :class:`~solarray.train.config.TrainConfig`) on a label version.

    ``materialize`` keeps the joined training rows in the object store, so epochs after the
    first do not re-read shards and labels (turn it off for data larger than the object store).

    Returns the loop's :class:`~solarray.train.loop.FitResult`; the run directory gets a
    ``labels.json`` naming the store and version it was trained on.
    """
    from solarray.data import dataset as data_api
    from solarray.train.loop import fit

    v = store.resolve(version)
    channels = tuple(data_api.channels_of(os.fspath(data_dir)))
    ds = training_dataset(store, v, data_dir, split)
    if materialize:
        ds = ds.materialize()
    mc = dict(cfg.model_config)
    mc.setdefault("image_size", data_image_size(data_dir))
    cfg = cfg.replace(channels=channels, model_config=mc)
    result = fit(cfg, ds, log=log)
    (Path(result.run_dir) / "labels.json").write_text(json.dumps(
        {"store": str(store.root.resolve()), "version": v, "data": os.fspath(data_dir),
         "split": split or "all"}, indent=2) + "\n")
    return result


__all__ = ["CorrectionsError", "LabelDiff", "LabelSet", "LabelStore", "apply_corrections",
           "components", "count_features", "diff", "diff_sets", "drop_small_features",
           "init_from_data", "load_corrections", "load_samples", "polygon_mask", "predict",
           "predict_masks", "retrain", "review", "training_dataset", "write_png_mask"]
