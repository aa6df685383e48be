"""SolarCHIP 2025's full-disk flare-classification downstream arm: a pretrained encoder's
features under a linear probe or fine-tuned with a linear head, on a fraction of the labels.

Pieces, each usable alone (the benchmark :mod:`solarray.benchmarks.solarchip` and the tiny
learning test both use them)::

    idx = label_subset(y_train, 0.01, seed)        # stratified: ≥ 1 of each class
    net = Backbone.of_solarchip(model)             # or Backbone.of_single(mae.encoder-owner, ...)
    f = features(net, images)                      # [N, F]: per encoder cls ⊕ mean (⊕ max) token
    p_val, p_test = probe(f[tr], y[tr], [f[va], f[te]])
    p_val, p_test = finetune(net, x[tr], y[tr], [x[va], x[te]], FinetuneConfig(), seed)
    s = verify(y_val, p_val, y_test, p_test)       # Platt on val; ROCA, BSS, TSS on test

Scores: ROCA and BSS of the test probabilities after Platt calibration on the validation split;
TSS at the validation split's TSS-optimal threshold (as the FPNet benchmark scores).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from torch import nn

from solarray.core import channels as channel_catalogue
from solarray.metrics.bootstrap import bss, roca, tss


def label_subset(y: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """Indices of ``round(fraction·N)`` labelled samples (at least one of each class, drawn
    per class in proportion), sorted; ``fraction`` ≥ 1 keeps every index."""
    y = np.asarray(y)
    if fraction >= 1.0:
        return np.arange(len(y))
    if fraction <= 0:
        raise ValueError(f"fraction must be > 0, got {fraction}")
    rng = np.random.default_rng(seed)
    n = max(2, int(round(fraction * len(y))))
    pos, neg = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    if not len(pos) or not len(neg):
        raise ValueError("label_subset needs both classes in y")
    n_pos = int(np.clip(round(n * len(pos) / len(y)), 1, n - 1))
    pick = np.concatenate([rng.choice(pos, min(n_pos, len(pos)), replace=False),
                           rng.choice(neg, min(n - n_pos, len(neg)), replace=False)])
    return np.sort(pick)


#: How a backbone summarises each encoder's tokens: ``mean`` = class token ⊕ mean patch token;
#: ``max`` adds the element-wise max over patch tokens, so a region that fills one token (a
#: 7-px active region under a 16-px patch at 128²) is not averaged away over the disk.
READOUTS = {"mean": 2, "max": 3}


class Backbone(nn.Module):
    """One or more encoders (each with ``encode(x) → (cls [B, D], patches [B, N, D])``) reading
    their own channels of the input ``[B, C, H, W]``; :meth:`forward` → features ``[B, F]``, per
    encoder the tokens summarised by ``readout`` (:data:`READOUTS`; F = 2·D or 3·D per encoder)."""

    def __init__(self, encoders: Sequence[nn.Module], channel_idx: Sequence[Sequence[int]],
                 readout: str = "mean"):
        super().__init__()
        if len(encoders) != len(channel_idx) or not encoders:
            raise ValueError("Backbone needs one channel index list per encoder")
        if readout not in READOUTS:
            raise ValueError(f"readout: expected one of {sorted(READOUTS)}, got {readout!r}")
        self.parts = nn.ModuleList(encoders)
        for i, idx in enumerate(channel_idx):
            self.register_buffer(f"idx{i}", torch.tensor(list(idx)), persistent=False)
        self.readout = readout
        self.dim = READOUTS[readout] * sum(_embed_dim(e) for e in encoders)

    @classmethod
    def of_solarchip(cls, model: nn.Module, modalities: Sequence[str] = ("aia", "hmi"),
                     readout: str = "mean") -> Backbone:
        """SolarCHIP's encoders (``model.encoders[m]``), each on its instrument's channels."""
        return cls([model.encoders[m] for m in modalities],
                   [model.channel_index(m) for m in modalities], readout)

    @classmethod
    def of_single(cls, model: nn.Module, n_channels: int, readout: str = "mean") -> Backbone:
        """A one-encoder model (``mae_vit``, ``vit_ae``) reading every channel."""
        return cls([model], [list(range(n_channels))], readout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = []
        for i, enc in enumerate(self.parts):
            cls_tok, patches = enc.encode(x.index_select(1, getattr(self, f"idx{i}")))
            out += [cls_tok, patches.mean(dim=1)]
            if self.readout == "max":
                out.append(patches.amax(dim=1))
        return torch.cat(out, dim=1)


def _embed_dim(enc: nn.Module) -> int:
    d = getattr(enc, "embed_dim", None)
    return int(d if d is not None else enc.config.embed_dim)


@torch.no_grad()
def features(net: nn.Module, images: np.ndarray, batch_size: int = 64) -> np.ndarray:
    """``net``'s features of ``images`` ``[N, C, H, W]`` in eval mode → ``[N, F]`` float32."""
    net.eval()
    out = [net(torch.from_numpy(np.ascontiguousarray(images[i:i + batch_size]))).numpy()
           for i in range(0, len(images), batch_size)]
    return np.concatenate(out).astype(np.float32)


def pooled_pixels(images: np.ndarray, size: int = 8) -> np.ndarray:
    """The raw-pixel baseline's features: each channel average-pooled to ``size × size``,
    flattened → ``[N, C·size²]``."""
    n, c, h, w = images.shape
    if h % size or w % size:
        raise ValueError(f"pooled_pixels: {h}×{w} is not a multiple of {size}")
    return images.reshape(n, c, size, h // size, size, w // size).mean(axis=(3, 5)).reshape(n, -1)


#: |B| above which a magnetogram pixel counts as strong field (G): plage and spots, not the
#: quiet-Sun network
STRONG_FIELD_G = 100.0


def disk_statistics(images: np.ndarray, channels: Sequence[str]) -> np.ndarray:
    """Disk-integrated statistics per frame ``[N, F]`` from scaled frames ``[N, C, H, W]``:
    per HMI channel the mean and max |B| and the fraction of pixels with |B| >
    :data:`STRONG_FIELD_G` (in the channel's scaled units); per AIA channel the mean, the max and
    the 99.5th percentile. The reference a forecaster would fit before any learned feature."""
    out = []
    for i, name in enumerate(channels):
        v = images[:, i].reshape(len(images), -1).astype(np.float64)
        ch = channel_catalogue.get(name)
        if ch.is_magnetic:
            b = np.abs(v)
            out += [b.mean(1), b.max(1), (b > STRONG_FIELD_G / ch.b_max).mean(1)]
        else:
            out += [v.mean(1), v.max(1), np.percentile(v, 99.5, axis=1)]
    return np.stack(out, axis=1).astype(np.float32)


def probe(x_train: np.ndarray, y_train: np.ndarray, evaluate: Sequence[np.ndarray],
          c: float = 0.1) -> list[np.ndarray]:
    """L2 logistic regression (inverse strength ``c``) on standardised features; probabilities
    of the ≥M class for each array of ``evaluate``."""
    scaler = StandardScaler().fit(x_train)
    clf = LogisticRegression(C=c, max_iter=2000).fit(scaler.transform(x_train), y_train)
    return [clf.predict_proba(scaler.transform(x))[:, 1] for x in evaluate]


@dataclass
class FinetuneConfig:
    """Fine-tuning the whole backbone with a linear head: AdamW steps on batches drawn with
    replacement from the labelled subset; the head at ``head_lr``, the encoders at ``lr``."""

    steps: int = 100
    batch_size: int = 16
    lr: float = 3e-4
    head_lr: float = 1e-3
    weight_decay: float = 0.05


def finetune(net: Backbone, x_train: np.ndarray, y_train: np.ndarray,
             evaluate: Sequence[np.ndarray], cfg: FinetuneConfig, seed: int) -> list[np.ndarray]:
    """Train ``net`` + a linear head with binary cross-entropy (``net`` is changed in place);
    probabilities for each array of ``evaluate``."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    head = nn.Linear(net.dim, 1)
    opt = torch.optim.AdamW([{"params": net.parameters(), "lr": cfg.lr},
                             {"params": head.parameters(), "lr": cfg.head_lr}],
                            weight_decay=cfg.weight_decay)
    xt, yt = torch.from_numpy(np.ascontiguousarray(x_train)), torch.from_numpy(
        np.asarray(y_train, np.float32))
    net.train()
    for _ in range(cfg.steps):
        i = torch.from_numpy(rng.integers(0, len(xt), cfg.batch_size))
        loss = nn.functional.binary_cross_entropy_with_logits(head(net(xt[i]))[:, 0], yt[i])
        opt.zero_grad()
        loss.backward()
        opt.step()
    net.eval()
    out = []
    with torch.no_grad():
        for x in evaluate:
            logits = [head(net(torch.from_numpy(np.ascontiguousarray(x[j:j + 64]))))[:, 0]
                      for j in range(0, len(x), 64)]
            out.append(torch.sigmoid(torch.cat(logits)).numpy())
    return out


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, np.float64), 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))[:, None]


def verify(y_val: np.ndarray, p_val: np.ndarray, y_test: np.ndarray, p_test: np.ndarray
           ) -> tuple[dict[str, float | None], np.ndarray, np.ndarray]:
    """``(scores, calibrated test probabilities, test yes/no)``: Platt calibration fitted on the
    validation split; ROCA, BSS on the test split; TSS at the threshold that maximises the
    validation TSS."""
    platt = LogisticRegression(C=1e6, max_iter=1000).fit(_logit(p_val), y_val)
    cal_val = platt.predict_proba(_logit(p_val))[:, 1]
    cal_test = platt.predict_proba(_logit(p_test))[:, 1]
    cands = np.unique(cal_val)
    best = max(cands, key=lambda t: tss(y_val, cal_val >= t) or -1.0)
    yes = (cal_test >= best).astype(np.float64)
    return ({"roca": roca(y_test, cal_test), "bss": bss(y_test, cal_test), "tss": tss(y_test, yes)},
            cal_test, yes)


__all__ = ["READOUTS", "STRONG_FIELD_G", "Backbone", "FinetuneConfig", "disk_statistics",
           "features", "finetune", "label_subset", "pooled_pixels", "probe", "verify"]
