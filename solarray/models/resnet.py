"""ResNet-18 (He et al. 2016) as a feature extractor: the seed's comparison extractor for F30
forecasting (Brown 2023 §2.2: ResNet features of the 211 Å channel, from the second-to-last layer).

Written here (no torchvision/timm beside this torch): a 7×7/2 stem, 3×3/2 max-pool, four stages
of two basic blocks (64, 128, 256, 512 filters; stride 2 and a 1×1 projection at stages 2–4),
global average pooling → 512 features (the layer before the classifier, which is left out).
ImageNet weights cannot be fetched offline, so the extractor is random-init (seeded); its
BatchNorm statistics can be estimated on the training images (:func:`calibrate_batchnorm`) so the
random features are on a sane scale.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

STAGES = (64, 128, 256, 512)


class BasicBlock(nn.Module):
    """Two 3×3 convs with BN; identity (or 1×1/stride projection) shortcut; ReLU after the sum."""

    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                      nn.BatchNorm2d(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.relu(y + (x if self.down is None else self.down(x)))


class ResNet18Features(nn.Module):
    """``[B, C, H, W]`` → ``[B, 512]`` globally pooled features of ResNet-18."""

    def __init__(self, in_channels: int = 1):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(in_channels, 64, 7, 2, 3, bias=False),
                                  nn.BatchNorm2d(64), nn.ReLU(inplace=True),
                                  nn.MaxPool2d(3, 2, 1))
        blocks, cin = [], 64
        for i, cout in enumerate(STAGES):
            stride = 1 if i == 0 else 2
            blocks += [BasicBlock(cin, cout, stride), BasicBlock(cout, cout, 1)]
            cin = cout
        self.blocks = nn.Sequential(*blocks)
        for m in self.modules():  # torchvision's initialisation
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    @property
    def out_features(self) -> int:
        return STAGES[-1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.blocks(self.stem(x)).mean(dim=(2, 3))


@torch.no_grad()
def calibrate_batchnorm(model: nn.Module, images: np.ndarray, batch: int = 64) -> nn.Module:
    """Set every BatchNorm's running mean/var to the cumulative statistics of ``images``
    ``[N, C, H, W]`` (NaN → 0); returns the model in eval mode."""
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.reset_running_stats()
            m.momentum = None  # cumulative average over the calibration batches
    model.train()
    x = torch.from_numpy(np.nan_to_num(np.asarray(images, np.float32)))
    for i in range(0, len(x), batch):
        model(x[i:i + batch])
    return model.eval()


@torch.no_grad()
def extract_features(model: nn.Module, images: np.ndarray, batch: int = 64) -> np.ndarray:
    """Features ``[N, 512]`` (float32) of ``images`` ``[N, C, H, W]`` (NaN → 0), eval mode."""
    model.eval()
    x = torch.from_numpy(np.nan_to_num(np.asarray(images, np.float32)))
    return np.concatenate([model(x[i:i + batch]).numpy() for i in range(0, len(x), batch)]
                          ) if len(x) else np.zeros((0, STAGES[-1]), np.float32)


__all__ = ["BasicBlock", "ResNet18Features", "calibrate_batchnorm", "extract_features"]
