"""Translation baselines of the benchmark (fitted on the training split, scaled units):

* :class:`MeanImage` — the mean training image of each output channel, whatever the input;
* :class:`LinearFromB` — per pixel, an ordinary least-squares line from |B| (the absolute
  scaled magnetogram) to each output channel: what the unsigned field alone predicts at each
  position, with no spatial context.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class MeanImage:
    mean: np.ndarray | None = None  # [C_out, H, W]

    def fit(self, y: np.ndarray) -> MeanImage:
        self.mean = np.asarray(y, np.float64).mean(axis=0)
        return self

    def predict(self, n: int) -> np.ndarray:
        if self.mean is None:
            raise ValueError("MeanImage: fit() first")
        return np.broadcast_to(self.mean, (n, *self.mean.shape)).astype(np.float32)


@dataclass
class LinearFromB:
    slope: np.ndarray | None = None  # [C_out, H, W]
    intercept: np.ndarray | None = None

    def fit(self, b: np.ndarray, y: np.ndarray) -> LinearFromB:
        """``b`` ``[N, H, W]`` scaled magnetogram, ``y`` ``[N, C_out, H, W]``."""
        a = np.abs(np.asarray(b, np.float64))[:, None]
        y = np.asarray(y, np.float64)
        am, ym = a.mean(0), y.mean(0)
        var = ((a - am) ** 2).mean(0)
        cov = ((a - am) * (y - ym)).mean(0)
        self.slope = np.where(var > 1e-12, cov / np.maximum(var, 1e-12), 0.0)
        self.intercept = ym - self.slope * am
        return self

    def predict(self, b: np.ndarray) -> np.ndarray:
        if self.slope is None:
            raise ValueError("LinearFromB: fit() first")
        a = np.abs(np.asarray(b, np.float64))[:, None]
        return np.clip(self.intercept + self.slope * a, -1.0, 1.0).astype(np.float32)


__all__ = ["LinearFromB", "MeanImage"]
