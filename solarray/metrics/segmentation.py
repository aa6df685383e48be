"""Segmentation metrics (SA-AI 2025 Table 2): IoU (0–100) and pixel accuracy (%) per class, mean ±
std over images, counted on on-disk pixels only; plus a threshold baseline.

Conventions:

* masks are ``[N, K, H, W]`` (K = 3: AR, CH, FL), 0/1 (uint8 or bool); truth value 255 means
  "unknown" and the pixel is not counted;
* the frame is the preprocessed one: disk centre at the image centre, ±``frame`` R☉ across
  (default 1.1), so a pixel is on the disk when its centre lies within 1 R☉ of the centre;
* IoU of an image and class = 100·|P∩T| / |P∪T| over counted pixels; when both prediction and
  truth are empty the IoU is undefined (NaN) and that image is left out of that class's mean (the
  count ``n_iou`` says how many images entered); accuracy = 100·(correct counted pixels)/(counted)
  (whole-disk pixel accuracy: ≈ 99 % for any feature covering a few % of the disk);
* class accuracy = 100·|P∩T| / |T|, the fraction of the feature's true pixels found (per-class
  pixel accuracy of semantic segmentation; NaN when the image has no true pixel of the class).
  SA-AI 2025's Table 2 "Acc" (86–93 % beside IoU 72–86) is most plausibly this one: whole-disk
  accuracy would be ≈ 99 %, and with false positives ≈ false negatives IoU = TP/(TP + 2·FN), so
  its AR Acc 92.3 % predicts IoU 85.7 — it reports 84.4.
* with background (the seed's "mean IoU" may include it; it does not say): per feature, the
  background IoU ``iou_bg`` = 100·|¬P∩¬T| / |¬P∪¬T| over counted pixels, ``miou`` = the mean of
  the feature's IoU and its background IoU (the 2-class mean IoU of semantic segmentation, e.g.
  mmsegmentation's mIoU of a binary task; the background IoU alone when the feature IoU is
  undefined) and ``macc`` = the mean of class accuracy and background accuracy (TN/(TN+FP)).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage

from solarray.core.features import FEATURE_KINDS, MASK_UNKNOWN
from solarray.core.frame import FRAME_RSUN, disk_mask

#: Truth value of a pixel whose class is unknown (not counted).
UNKNOWN = MASK_UNKNOWN

#: Primary channel per feature (SA-AI 2025: ARs on magnetograms, CHs on 193 Å, FLs on Hα/304 Å):
#: the channel the threshold baseline thresholds.
PRIMARY: dict[str, str] = {"AR": "hmi_m", "CH": "aia193", "FL": "aia304"}


def _as_nkhw(a: np.ndarray, name: str) -> np.ndarray:
    a = np.asarray(a)
    if a.ndim == 3:
        a = a[None]
    if a.ndim != 4:
        raise ValueError(f"{name} must be [N, K, H, W] (or [K, H, W]), got shape {a.shape}")
    return a


def segmentation_scores(pred: np.ndarray, truth: np.ndarray, frame: float = FRAME_RSUN,
                        valid: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Per-image scores: ``{"iou", "acc", "class_acc", "iou_bg", "miou", "macc"}`` each ``[N, K]``
    in percent (NaN when undefined; module docstring).

    ``pred`` 0/1 ``[N, K, H, W]``; ``truth`` 0/1/255 of the same shape; ``valid`` optional bool
    ``[H, W]`` or ``[N, H, W]`` restricting pixels further (default: the on-disk pixels).
    """
    pred = _as_nkhw(pred, "pred")
    truth = _as_nkhw(truth, "truth")
    if pred.shape != truth.shape:
        raise ValueError(f"prediction {pred.shape} and truth {truth.shape} shapes differ")
    n, k, h, w = pred.shape
    if h != w:
        raise ValueError(f"masks must be square (disk-centred frames), got {h}×{w}")
    counted = np.broadcast_to(disk_mask(h, frame), (n, k, h, w))
    if valid is not None:
        v = np.asarray(valid, dtype=bool)
        v = v[:, None] if v.ndim == 3 else v
        counted = counted & v
    counted = counted & (truth != UNKNOWN)
    p = (pred == 1) & counted
    t = (truth == 1) & counted
    inter = (p & t).sum(axis=(2, 3)).astype(np.float64)
    union = (p | t).sum(axis=(2, 3)).astype(np.float64)
    n_px = counted.sum(axis=(2, 3)).astype(np.float64)
    correct = n_px - (p ^ t).sum(axis=(2, 3))
    with np.errstate(invalid="ignore", divide="ignore"):
        iou = np.where(union > 0, 100.0 * inter / union, np.nan)
        acc = np.where(n_px > 0, 100.0 * correct / n_px, np.nan)
        n_true = t.sum(axis=(2, 3)).astype(np.float64)
        class_acc = np.where(n_true > 0, 100.0 * inter / n_true, np.nan)
        # background: counted pixels that are not the feature, in prediction and in truth
        inter_bg = n_px - union
        union_bg = n_px - inter
        iou_bg = np.where(union_bg > 0, 100.0 * inter_bg / union_bg, np.nan)
        n_bg = n_px - n_true
        acc_bg = np.where(n_bg > 0, 100.0 * inter_bg / n_bg, np.nan)
        miou = np.where(np.isnan(iou), iou_bg, 0.5 * (iou + iou_bg))
        macc = np.where(np.isnan(class_acc), acc_bg, 0.5 * (class_acc + acc_bg))
    return {"iou": iou, "acc": acc, "class_acc": class_acc, "iou_bg": iou_bg, "miou": miou,
            "macc": macc}


@dataclass
class ClassSummary:
    """Mean ± std (population std, ddof=0) over images of one class."""

    iou_mean: float
    iou_std: float
    acc_mean: float
    acc_std: float
    n_iou: int
    n_images: int
    class_acc_mean: float = float("nan")
    class_acc_std: float = float("nan")
    miou_mean: float = float("nan")  # feature + background (module docstring)
    miou_std: float = float("nan")
    macc_mean: float = float("nan")
    macc_std: float = float("nan")


def _ms(x: np.ndarray) -> tuple[float, float, int]:
    x = x[np.isfinite(x)]
    if not len(x):
        return float("nan"), float("nan"), 0
    return float(x.mean()), float(x.std()), int(len(x))


def summarize(scores: Mapping[str, np.ndarray], features: Sequence[str] = FEATURE_KINDS
              ) -> dict[str, ClassSummary]:
    """``{feature: ClassSummary}`` from :func:`segmentation_scores` output."""
    out = {}
    for j, f in enumerate(features):
        im, isd, ni = _ms(scores["iou"][:, j])
        am, asd, na = _ms(scores["acc"][:, j])
        extra = [_ms(scores[k][:, j])[:2] if k in scores else (float("nan"), float("nan"))
                 for k in ("class_acc", "miou", "macc")]
        out[f] = ClassSummary(im, isd, am, asd, ni, na, *extra[0], *extra[1], *extra[2])
    return out


@dataclass
class TableRow:
    """One row of the SA-AI 2025 Table 2 layout."""

    feature: str
    model: str
    training_set: str
    testing_set: str
    summary: ClassSummary
    extra: dict = field(default_factory=dict)


def format_table(rows: Sequence[TableRow], markdown: bool = True) -> str:
    """Rows as a Markdown table: Feature | Model | Training set | Testing set | IoU mean | IoU std
    | Acc mean | Acc std | n (images with a defined IoU / images)."""
    head = ["Feature", "Model", "Training set", "Testing set", "IoU mean", "IoU std",
            "Acc mean", "Acc std", "n"]
    lines = []
    for r in rows:
        s = r.summary
        lines.append([r.feature, r.model, r.training_set, r.testing_set, f"{s.iou_mean:.2f}",
                      f"{s.iou_std:.2f}", f"{s.acc_mean:.2f}", f"{s.acc_std:.2f}",
                      f"{s.n_iou}/{s.n_images}"])
    if markdown:
        out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        out += ["| " + " | ".join(line) + " |" for line in lines]
        return "\n".join(out)
    widths = [max(len(str(x)) for x in col) for col in zip(head, *lines, strict=True)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join(fmt.format(*row) for row in [head, *lines])


def fit_thresholds(prob: np.ndarray, truth: np.ndarray, frame: float = FRAME_RSUN,
                   grid: Sequence[float] = tuple(np.round(np.arange(0.05, 0.96, 0.05), 2))
                   ) -> tuple[float, ...]:
    """Per-feature probability threshold maximising the mean IoU of ``prob [N, K, H, W]``
    against ``truth`` (SA-AI 2025 tuned its loss weights on validation images for IoU; this tunes
    the decision threshold the same way). A feature without any true pixel keeps 0.5."""
    prob, truth = _as_nkhw(prob, "prob"), _as_nkhw(truth, "truth")
    out = []
    for k in range(prob.shape[1]):
        if not (truth[:, k] == 1).any():
            out.append(0.5)
            continue
        best = (-1.0, 0.5)
        for t in grid:
            iou = segmentation_scores(prob[:, k:k + 1] >= t, truth[:, k:k + 1], frame)["iou"]
            score = float(np.nanmean(iou)) if np.isfinite(iou).any() else 0.0
            if score > best[0]:
                best = (score, float(t))
        out.append(best[1])
    return tuple(out)


# --------------------------------------------------------------------------------------------------
# Threshold baseline
# --------------------------------------------------------------------------------------------------

#: How each feature shows in its primary channel (scaled units): ARs strong |B|, CHs and FLs dark.
_RULE = {"AR": "abs_above", "CH": "below", "FL": "below"}


@dataclass
class ThresholdBaseline:
    """Per-feature rule on the primary channel: smooth with a Gaussian (σ px), then
    ``|x| > t`` (AR on ``hmi_m``) or ``x < t`` (CH on ``aia193``, FL on ``aia304``), on disk only.
    :meth:`fit` picks σ and t per feature maximising mean IoU on training images."""

    frame: float = FRAME_RSUN
    params: dict = field(default_factory=dict)  # feature → {"channel", "sigma", "threshold"}

    def _response(self, plane: np.ndarray, feature: str, sigma: float) -> np.ndarray:
        x = np.nan_to_num(plane.astype(np.float32))
        if sigma > 0:
            x = ndimage.gaussian_filter(x, sigma=(0, sigma, sigma))
        return np.abs(x) if _RULE[feature] == "abs_above" else -x

    def fit(self, images: np.ndarray, masks: np.ndarray, channels: Sequence[str],
            sigmas: Sequence[float] = (0.0, 1.0, 2.0), n_thresholds: int = 41
            ) -> ThresholdBaseline:
        """Choose σ and threshold per feature on ``images [N, C, H, W]``/``masks [N, 3, H, W]``."""
        channels = list(channels)
        disk = disk_mask(images.shape[-1], self.frame)
        for j, f in enumerate(FEATURE_KINDS):
            ch = PRIMARY[f]
            if ch not in channels:
                continue
            best = (-1.0, 0.0, 0.0)
            for sigma in sigmas:
                r = self._response(images[:, channels.index(ch)], f, sigma)
                vals = r[:, disk]
                for t in np.quantile(vals, 1.0 - np.geomspace(0.5, 0.001, n_thresholds)):
                    pred = (r > t)[:, None]
                    s = segmentation_scores(pred, masks[:, j:j + 1], self.frame)["iou"]
                    score = float(np.nanmean(s)) if np.isfinite(s).any() else 0.0
                    if score > best[0]:
                        best = (score, sigma, float(t))
            self.params[f] = {"channel": ch, "sigma": best[1], "threshold": best[2]}
        return self

    def predict(self, images: np.ndarray, channels: Sequence[str],
                present: np.ndarray | None = None) -> np.ndarray:
        """uint8 masks ``[N, 3, H, W]``; a feature whose channel is missing predicts nothing."""
        channels = list(channels)
        n, _, h, w = images.shape
        out = np.zeros((n, len(FEATURE_KINDS), h, w), np.uint8)
        disk = disk_mask(h, self.frame)
        for j, f in enumerate(FEATURE_KINDS):
            p = self.params.get(f)
            if p is None or p["channel"] not in channels:
                continue
            c = channels.index(p["channel"])
            r = self._response(images[:, c], f, p["sigma"])
            m = (r > p["threshold"]) & disk
            if present is not None:
                m &= np.asarray(present)[:, c, None, None] > 0
            out[:, j] = m
        return out


def remove_small_components(mask: np.ndarray, min_area: int) -> np.ndarray:
    """Bool/0-1 ``[H, W]`` with 8-connected components smaller than ``min_area`` px removed."""
    lab, n = ndimage.label(np.asarray(mask) == 1, structure=np.ones((3, 3), int))
    if n == 0 or min_area <= 1:
        return (lab > 0).astype(np.uint8)
    sizes = np.bincount(lab.ravel())
    keep = sizes >= min_area
    keep[0] = False
    return keep[lab].astype(np.uint8)


__all__ = ["PRIMARY", "UNKNOWN", "ClassSummary", "TableRow", "ThresholdBaseline", "format_table",
           "remove_small_components", "segmentation_scores", "summarize"]
