"""The FLOP floor: FlopCounterMode counts match hand counts; the GEMM rate is a sane number."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from solarray.benchmarks.floor import count_flops, floor_seconds, gemm_rate


def test_linear_flops_by_hand():
    b, fan_in, fan_out = 3, 8, 4
    layer = nn.Linear(fan_in, fan_out)
    flops, y = count_flops(lambda: layer(torch.randn(b, fan_in)))
    assert flops == 2 * b * fan_in * fan_out  # one multiply-add per weight per sample
    assert y.shape == (b, fan_out)


def test_conv_and_two_layers_add_up():
    conv = nn.Conv2d(1, 2, 3)  # 5×5 input → 3×3 output
    flops, _ = count_flops(lambda: conv(torch.randn(1, 1, 5, 5)))
    assert flops == 2 * 2 * 1 * 9 * (3 * 3)
    mlp = nn.Sequential(nn.Linear(6, 5), nn.GELU(), nn.Linear(5, 2))
    flops, _ = count_flops(lambda: mlp(torch.randn(4, 6)))
    assert flops == 2 * 4 * (6 * 5 + 5 * 2)  # the GELU costs nothing in the count


def test_gemm_rate_and_floor():
    rate = gemm_rate(size=128, repeats=3)
    assert math.isfinite(rate) and rate > 1e8  # any CPU does > 0.1 GFLOP/s on a 128² mm
    assert floor_seconds(2e9, 1e9) == pytest.approx(2.0)
    with pytest.raises(ValueError, match="GEMM rate"):
        floor_seconds(1.0, 0.0)
