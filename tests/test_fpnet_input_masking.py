"""FPNet with PPAM on its input (SA-AI 2025's EMA-FP): the encoder sees a subset of the image
patches, active-region patches kept preferentially; random dropping as the comparison."""

import pytest
import torch

from solarray.models.fpnet import FPNet, FPNetConfig

CH = ("aia193", "aia304", "hmi_m")


def _images(b: int = 8) -> torch.Tensor:
    """Quiet images with one strong-field square (hmi_m 0.5 × 1500 G) on patches 9, 10, 17, 18
    of the 8 × 8 grid of 8-px patches."""
    x = torch.zeros(b, len(CH), 64, 64)
    x[:, 2, 8:24, 8:24] = 0.5
    return x


ACTIVE = {9, 10, 17, 18}


def _kept_active(net: FPNet, draws: int = 40) -> float:
    net.train()
    x = _images()
    hits = 0
    for _ in range(draws):
        keep = net.visible_patches(x)
        assert keep.shape == (8, 32)  # half of the 64 patches, every sample
        hits += sum(len(ACTIVE & set(row.tolist())) for row in keep)
    return hits / (draws * 8 * len(ACTIVE))


def test_ppam_keeps_active_region_patches_more_often_than_random():
    torch.manual_seed(0)
    ppam = _kept_active(FPNet(FPNetConfig(channels=CH, input_masking="ppam")))
    rand = _kept_active(FPNet(FPNetConfig(channels=CH, input_masking="random")))
    assert abs(rand - 0.5) < 0.08  # uniform: a patch is kept half the time
    assert ppam > 0.8 > rand  # asymmetry 4: active patches nearly always kept


def test_every_patch_without_masking_and_a_repeatable_draw_in_eval():
    x = _images(2)
    net = FPNet(FPNetConfig(channels=CH))
    assert net.visible_patches(x) is None
    net = FPNet(FPNetConfig(channels=CH, input_masking="ppam")).eval()
    assert torch.equal(net.visible_patches(x), net.visible_patches(x))
    assert torch.allclose(net(x), net(x))
    net.train()
    draws = {tuple(net.visible_patches(x)[0].sort().values.tolist()) for _ in range(5)}
    assert len(draws) > 1  # training draws afresh


def test_bad_input_masking_configs_are_refused():
    with pytest.raises(ValueError, match="input_masking"):
        FPNetConfig(channels=CH, input_masking="sometimes")
    with pytest.raises(ValueError, match="hmi_m"):
        FPNetConfig(channels=("aia193", "aia304"), input_masking="ppam")
    with pytest.raises(ValueError, match="ratio"):
        FPNetConfig(channels=CH, input_masking="random", input_mask_ratio=1.0)
