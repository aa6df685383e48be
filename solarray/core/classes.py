"""Magnetic classes of active regions: the Hale (Mount Wilson) and McIntosh vocabularies.

The order of each vocabulary is also its complexity rank and FPNet's category encoding (code
``i + 1`` for ``vocab[i]``, 0 = unknown): changing it invalidates trained checkpoints.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

#: Hale classes as solarray uses them: 'beta-x' merges every class with a gamma or delta part.
HALE_CLASSES: tuple[str, ...] = ("alpha", "beta", "beta-x")
#: McIntosh Z letter (modified Zurich class of the group).
MCINTOSH_Z: tuple[str, ...] = ("A", "B", "C", "D", "E", "F", "H")
#: Vocabulary of each categorical feature, least to most complex.
CATEGORY_VOCAB: dict[str, tuple[str, ...]] = {"hale": HALE_CLASSES, "mcintosh": MCINTOSH_Z}


def vocabulary(name: str) -> tuple[str, ...]:
    """The vocabulary of categorical feature ``name``; KeyError naming the known ones."""
    vocab = CATEGORY_VOCAB.get(name)
    if vocab is None:
        raise KeyError(f"unknown categorical feature {name!r}; known: {', '.join(CATEGORY_VOCAB)}")
    return vocab


def encode_categories(values: Iterable[str | None], name: str) -> np.ndarray:
    """Category strings → int64 codes (1-based position in the vocabulary; 0 unknown)."""
    index = {v.lower(): i + 1 for i, v in enumerate(vocabulary(name))}
    return np.array([index.get(str(v).strip().lower(), 0) if v is not None else 0
                     for v in values], dtype=np.int64)


def most_complex(values: Sequence[str | None], name: str) -> str | None:
    """The most complex known class among ``values`` (vocabulary order), or None."""
    order = vocabulary(name)
    known = [v for v in values if v in order]
    return max(known, key=order.index) if known else None


__all__ = ["CATEGORY_VOCAB", "HALE_CLASSES", "MCINTOSH_Z", "encode_categories", "most_complex",
           "vocabulary"]
