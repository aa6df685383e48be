"""Differences between two label versions: features (components) added and removed per class."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from solarray.core.features import FEATURE_KINDS
from solarray.data.labels.features import components
from solarray.data.labels.store import LabelSet, LabelStore


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
        for f in FEATURE_KINDS:
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
    zero = {f: 0 for f in FEATURE_KINDS}
    added, removed, pa_, pr_, fa, fb = (dict(zero) for _ in range(6))
    changed = 0
    for s in common:
        ma, mb = a.masks[ia[s]], b.masks[ib[s]]
        if ma.shape != mb.shape:
            raise ValueError(f"sample {s}: mask shapes differ between {name_a} {ma.shape} and "
                             f"{name_b} {mb.shape}")
        if not np.array_equal(ma, mb):
            changed += 1
        for k, f in enumerate(FEATURE_KINDS):
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


__all__ = ["LabelDiff", "diff", "diff_sets"]
