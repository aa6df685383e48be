"""The solar features SPNet segments and IATools measures, in mask-plane order.

Every mask stack ``[3, H, W]`` (ground truth, SPNet output, shards' ``masks`` column) holds the
planes in :data:`FEATURE_KINDS` order.
"""

from __future__ import annotations

#: Active regions, coronal holes, filaments — the order of the planes of every mask stack.
FEATURE_KINDS: tuple[str, ...] = ("AR", "CH", "FL")

#: Contour colour per feature (distinct on the HMI, 193 Å and 304 Å colormaps).
FEATURE_COLOURS: dict[str, str] = {"AR": "#00e5ff", "CH": "#ffe100", "FL": "#ff2bd6"}

#: Mask value meaning "truth unknown" (samples without truth masks): ignored by losses and scores.
MASK_UNKNOWN = 255


__all__ = ["FEATURE_COLOURS", "FEATURE_KINDS", "MASK_UNKNOWN"]
