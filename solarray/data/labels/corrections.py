"""Corrections: an expert's edits of a label version, merged into a new version (``review``).

Corrections file (JSON)::

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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from solarray.core.features import FEATURE_KINDS
from solarray.data.labels.store import LabelSet, LabelStore

CORRECTIONS_FORMAT = "solarray.corrections/1"
#: The copy of the corrections file kept next to the version it made.
CORRECTIONS_COPY = "corrections.json"


class CorrectionsError(ValueError):
    """A corrections file that cannot be merged (nothing was written)."""


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
               for f in FEATURE_KINDS}
        for ed in self.edits.values():
            for k, (rm, ad) in ed.items():
                f = FEATURE_KINDS[k]
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
            if cls not in FEATURE_KINDS:
                raise CorrectionsError(f"{where}: unknown class {cls!r}; expected one of "
                                       f"{', '.join(FEATURE_KINDS)}")
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
            edits[sid][FEATURE_KINDS.index(cls)] = (rm, ad)
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


__all__ = ["CORRECTIONS_COPY", "CORRECTIONS_FORMAT", "Corrections", "CorrectionsError",
           "apply_corrections", "load_corrections", "polygon_mask", "review", "write_png_mask"]
