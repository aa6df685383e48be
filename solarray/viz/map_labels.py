"""Region labels of the situational map, placed beside their regions' contours, never on them.

Each label (region number and P(≥M, 24 h)) goes in the first free slot around its region's pixel
box — above, below, right, left, then the corners — :data:`GAP_PT` points outside the box, so it
cannot cover the region's contour (the 0.5 level of a 0/1 mask runs within the box's edges). A slot
is free when the label covers no pixel of any drawn mask (one pixel of margin) and no earlier label;
when none is free the slot covering the fewest wins. A thin leader line joins the label to the
region's nearest pixel.

Slots are measured in data pixels from the axes' on-screen size, so the figure's layout must be
final before :func:`place_region_labels` runs; the result holds at any ``savefig`` dpi because
points and pixels scale together.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from scipy import ndimage

#: Space between a region's box and its label, points.
GAP_PT = 3.0
#: gid prefix of the label artists (``"region 13601"``), for callers and tests that look them up.
LABEL_GID = "region"
_TEXT = {"color": "white", "fontsize": 7, "ha": "center", "va": "center", "linespacing": 1.1}
_PAD = 0.25  # label box padding, fraction of the font size
_BOX = {"boxstyle": f"round,pad={_PAD}", "fc": "black", "alpha": 0.6, "lw": 0}
_LEADER = {"arrowstyle": "-", "color": "white", "lw": 0.7, "shrinkA": 0, "shrinkB": 0}
# Slot directions (dx, dy) around the box, in order of preference: north first, as maps read.
_SLOTS = ((0, 1), (0, -1), (1, 0), (-1, 0), (1, 1), (-1, 1), (1, -1), (-1, -1))


def label_text(row: Mapping[str, Any]) -> str:
    """The region's number, and its P(≥M, 24 h) in % on a second line when known."""
    p = row.get("p_m24")
    return f"{row['number']}" + (f"\n{100 * p:.0f}%" if p is not None else "")


def region_box(row: Mapping[str, Any], ar_mask: np.ndarray | None
               ) -> tuple[float, float, float, float]:
    """Pixel-edge box ``(x0, y0, x1, y1)`` (data coordinates: pixel ``i`` spans ``i ± 0.5``) of a
    region: its row's ``bbox`` ([x0, y0, x1, y1) in pixels, as the analysis tables give it), else
    the connected AR-mask component under its centroid, else the centroid's pixel."""
    if row.get("bbox") is not None:
        x0, y0, x1, y1 = (float(v) for v in row["bbox"])
        return (x0 - 0.5, y0 - 0.5, x1 - 0.5, y1 - 0.5)
    x, y = float(row["pixel_x"]), float(row["pixel_y"])
    i, j = int(round(y)), int(round(x))
    if ar_mask is not None and 0 <= i < ar_mask.shape[0] and 0 <= j < ar_mask.shape[1] \
            and ar_mask[i, j]:
        lab, _ = ndimage.label(ar_mask)
        ys, xs = np.nonzero(lab == lab[i, j])
        return (xs.min() - 0.5, ys.min() - 0.5, xs.max() + 0.5, ys.max() + 0.5)
    return (x - 0.5, y - 0.5, x + 0.5, y + 0.5)


def _slot_centre(box, slot, w: float, h: float, gap: float) -> tuple[float, float]:
    x0, y0, x1, y1 = box
    dx, dy = slot
    cx = {0: (x0 + x1) / 2, 1: x1 + gap + w / 2, -1: x0 - gap - w / 2}[dx]
    cy = {0: (y0 + y1) / 2, 1: y1 + gap + h / 2, -1: y0 - gap - h / 2}[dy]
    return cx, cy


def _covered(occupied: np.ndarray, lo: tuple[float, float], hi: tuple[float, float]) -> int:
    """Occupied pixels under the data rectangle lo–hi (pixel i spans i ± 0.5)."""
    j0, i0 = (max(0, int(np.floor(v + 0.5))) for v in lo)
    j1, i1 = (int(np.ceil(v + 0.5)) for v in hi)
    return int(occupied[i0:i1, j0:j1].sum())


def _anchor(box, centre, ar_mask: np.ndarray | None) -> tuple[float, float]:
    """The region's pixel nearest the label (on its contour), else the box edge point nearest."""
    x0, y0, x1, y1 = box
    if ar_mask is not None:
        sl = (slice(max(0, int(np.ceil(y0))), int(np.floor(y1)) + 1),
              slice(max(0, int(np.ceil(x0))), int(np.floor(x1)) + 1))
        ys, xs = np.nonzero(ar_mask[sl])
        if len(xs):
            xs, ys = xs + sl[1].start, ys + sl[0].start
            k = int(np.argmin(np.hypot(xs - centre[0], ys - centre[1])))
            return float(xs[k]), float(ys[k])
    return float(np.clip(centre[0], x0, x1)), float(np.clip(centre[1], y0, y1))


def place_region_labels(ax, regions: Sequence[Mapping[str, Any]], drawn: Sequence[np.ndarray],
                        ar_mask: np.ndarray | None, size: int) -> list:
    """Annotate each region of ``regions`` (rows with ``number``, ``pixel_x``, ``pixel_y``,
    optional ``bbox`` and ``p_m24``) on ``ax`` (pixel data coordinates of a ``size``² image) beside
    its box; ``drawn``: the 0/1 masks ``[H, W]`` whose contours the labels must leave visible;
    ``ar_mask``: the AR mask the regions came from (boxes of rows without ``bbox``, leader ends).
    The axes' layout must be final. Returns the annotations (gid ``"region <number>"``)."""
    fig = ax.figure
    renderer = fig.canvas.get_renderer()
    ar = None if ar_mask is None else np.asarray(ar_mask) > 0
    occupied = np.zeros((size, size), bool)
    for m in drawn:
        occupied |= np.asarray(m) > 0
    occupied = ndimage.binary_dilation(occupied, iterations=1)
    o = ax.transData.transform((0.0, 0.0))
    px = float(ax.transData.transform((1.0, 0.0))[0] - o[0])  # display pixels per data pixel
    pt = fig.dpi / 72.0 / px  # data pixels per point
    placed: list[tuple[float, float, float, float]] = []
    out = []
    for row in regions:
        if row.get("number") is None or row.get("pixel_x") is None or row.get("pixel_y") is None:
            continue
        text = label_text(row)
        probe = ax.text(0, 0, text, **_TEXT)
        ext = probe.get_window_extent(renderer)
        probe.remove()
        pad = 2 * _PAD * _TEXT["fontsize"] * pt
        w, h = ext.width / px + pad, ext.height / px + pad
        box = region_box(row, ar)
        best, best_cost = None, np.inf
        for slot in _SLOTS:
            cx, cy = _slot_centre(box, slot, w, h, GAP_PT * pt)
            lo, hi = (cx - w / 2, cy - h / 2), (cx + w / 2, cy + h / 2)
            if lo[0] < -0.5 or lo[1] < -0.5 or hi[0] > size - 0.5 or hi[1] > size - 0.5:
                continue
            cost = _covered(occupied, lo, hi) + 10**6 * sum(
                lo[0] < q[2] and q[0] < hi[0] and lo[1] < q[3] and q[1] < hi[1] for q in placed)
            if cost < best_cost:
                best, best_cost = (cx, cy), cost
            if cost == 0:
                break
        if best is None:  # a region larger than the frame allows: beside it is off the image
            best = _slot_centre(box, _SLOTS[0], w, h, GAP_PT * pt)
        placed.append((best[0] - w / 2, best[1] - h / 2, best[0] + w / 2, best[1] + h / 2))
        ann = ax.annotate(text, xy=_anchor(box, best, ar), xytext=best, textcoords="data",
                          bbox=_BOX, arrowprops=_LEADER, gid=f"{LABEL_GID} {row['number']}",
                          annotation_clip=False, **_TEXT)
        out.append(ann)
    return out


__all__ = ["GAP_PT", "LABEL_GID", "label_text", "place_region_labels", "region_box"]
