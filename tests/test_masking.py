"""Masking strategies: exact ratio, MAE index convention, bias towards active patches,
determinism, edge cases, latitude-band prior, any channel count."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import ndimage

from solarray.core import channels
from solarray.models import masking as mk

P = 8  # patch size
S = 64  # image size → 8×8 = 64 patches


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _spots(batch: int = 1, blocks=((0, 0), (0, 1), (1, 0), (1, 1), (5, 6), (6, 6))):
    """Magnetogram [B, H, W] (G): quiet-Sun noise ±20 G, strong field (±800 G) filling whole
    patches at ``blocks`` (patch row, col) — so with dilation 0 those patches are exactly active."""
    g = _gen(123)
    b = 20.0 * (2 * torch.rand(batch, S, S, generator=g) - 1)
    for i, (r, c) in enumerate(blocks):
        b[:, r * P : (r + 1) * P, c * P : (c + 1) * P] = 800.0 * (-1) ** i
    active = torch.zeros(S // P, S // P, dtype=torch.bool)
    for r, c in blocks:
        active[r, c] = True
    return b, active.flatten()


def _check_mae_convention(res: mk.MaskResult, batch: int, n: int, k: int):
    keep, mask, restore = res
    assert keep.shape == (batch, k) and keep.dtype == torch.long
    assert mask.shape == (batch, n) and mask.dtype == torch.bool
    assert restore.shape == (batch, n) and restore.dtype == torch.long
    assert (mask.sum(1) == n - k).all()  # exact ratio, every sample
    # kept indices are unique and exactly the unmasked patches
    for i in range(batch):
        assert sorted(keep[i].tolist()) == torch.nonzero(~mask[i]).flatten().tolist()
    # MAE decoder usage: visible tokens + mask tokens, unshuffled with restore_idx
    tokens = torch.arange(n).expand(batch, n)
    visible = torch.gather(tokens, 1, keep)
    full = torch.cat([visible, torch.full((batch, n - k), -1)], dim=1)
    unshuffled = torch.gather(full, 1, restore)
    assert torch.equal(unshuffled == -1, mask)
    assert torch.equal(unshuffled[~mask], tokens[~mask])


# ---------------------------------------------------------------------------------------------
# Grid and counts
# ---------------------------------------------------------------------------------------------
def test_patch_grid_and_num_visible():
    assert mk.patch_grid(64, 8) == (8, 8)
    assert mk.patch_grid((64, 48), (16, 8)) == (4, 6)
    with pytest.raises(ValueError, match="not divisible"):
        mk.patch_grid(64, 10)
    with pytest.raises(ValueError, match="patch_size"):
        mk.patch_grid(64, 0)
    assert mk.num_visible(196, 0.75) == 49
    assert mk.num_visible(10, 0.75) == 3  # 2.5 rounds half up
    assert mk.num_visible(10, 0.7) == 3  # 2.9999999999999996 → 3
    assert mk.num_visible(64, 0.0) == 64
    for bad in (1.0, -0.1):
        with pytest.raises(ValueError, match=r"\[0, 1\)"):
            mk.num_visible(64, bad)
    with pytest.raises(ValueError, match="no visible patch"):
        mk.num_visible(16, 0.99)


@pytest.mark.parametrize("n,ratio", [(64, 0.75), (49, 0.6), (10, 0.75), (7, 0.5), (64, 0.0)])
def test_random_masking_exact_ratio_and_convention(n, ratio):
    res = mk.random_masking(5, n, ratio, _gen(0))
    _check_mae_convention(res, 5, n, mk.num_visible(n, ratio))


def test_random_masking_is_uniform():
    res = mk.random_masking(4000, 16, 0.75, _gen(1))
    rate = (~res.mask).float().mean(0)
    assert torch.allclose(rate, torch.full((16,), 0.25), atol=0.03)


# ---------------------------------------------------------------------------------------------
# PPAM
# ---------------------------------------------------------------------------------------------
def test_dilation_matches_scipy_disk():
    rng = np.random.default_rng(0)
    m = rng.random((3, 40, 50)) < 0.01
    for r in (0, 1, 2, 5):
        yy, xx = np.mgrid[-r : r + 1, -r : r + 1]
        disk = yy**2 + xx**2 <= r * r
        want = np.stack([ndimage.binary_dilation(x, structure=disk) for x in m])
        assert np.array_equal(mk.dilate(torch.from_numpy(m), r).numpy(), want), r
    with pytest.raises(ValueError, match="dilation"):
        mk.dilate(torch.from_numpy(m), -1)


def test_activity_map_threshold_nan_and_ar_mask():
    b = torch.zeros(1, 16, 16)
    b[0, 8, 8] = -200.0  # |B| counts, either polarity
    b[0, 2, 2] = 100.0  # below threshold
    b[0, :, 0] = float("nan")  # off disk
    act = mk.activity_map(b, threshold_gauss=150.0, dilation=1)
    assert act.sum() == 5 and act[0, 8, 8] and act[0, 7, 8] and not act[0, 7, 7]
    assert not act[0, :, 0].any()
    # a given AR mask replaces the magnetogram threshold
    ar = np.zeros((16, 16), dtype=np.uint8)
    ar[0:4, 12:16] = 1
    act = mk.activity_map(b, ar_mask=ar, dilation=0)
    assert act.shape == (1, 16, 16) and act.sum() == 16 and not act[0, 8, 8]
    with pytest.raises(ValueError, match="magnetogram or an ar_mask"):
        mk.activity_map(None)
    with pytest.raises(ValueError, match=r"\[B, 1, H, W\]"):
        mk.activity_map(torch.zeros(2, 3, 16, 16))


def test_patch_fraction():
    prior = torch.zeros(2, 16, 16, dtype=torch.bool)
    prior[0, 0:8, 0:8] = True
    prior[1, 0:4, 8:16] = True
    f = mk.patch_fraction(prior, 8)
    assert f.shape == (2, 4)
    assert torch.allclose(f, torch.tensor([[1.0, 0, 0, 0], [0, 0.5, 0, 0]]))


def test_ppam_exact_ratio_per_sample():
    b, _ = _spots(batch=3)
    b[1] = 0.0  # a quiet-Sun sample in the batch
    b[2, :, :40] = 1000.0  # a mostly active sample
    for ratio in (0.75, 0.5, 0.9):
        res = mk.ppam_masking(b, P, ratio, asymmetry=8.0, dilation=0, generator=_gen(2))
        _check_mae_convention(res, 3, 64, mk.num_visible(64, ratio))


def test_ppam_keeps_active_patches_more_often():
    b, active = _spots()
    draws = 4000
    res = mk.ppam_masking(b.expand(draws, -1, -1), P, 0.75, asymmetry=4.0, dilation=0,
                          generator=_gen(3))  # fmt: skip
    kept = (~res.mask).float().mean(0)
    rate_active, rate_quiet = kept[active].mean().item(), kept[~active].mean().item()
    # K = 16 of 64; 6 active patches with weight 4 vs 58 with weight 1.
    assert rate_active > 2.5 * rate_quiet
    # Gumbel-top-k is successive sampling without replacement ∝ weights: compare the marginal
    # keep rates with numpy's sequential sampler.
    w = np.where(active.numpy(), 4.0, 1.0)
    rng = np.random.default_rng(0)
    ref = np.zeros(64)
    for _ in range(draws):
        ref[rng.choice(64, size=16, replace=False, p=w / w.sum())] += 1
    ref /= draws
    assert rate_active == pytest.approx(ref[active.numpy()].mean(), abs=0.02)
    assert rate_quiet == pytest.approx(ref[~active.numpy()].mean(), abs=0.01)
    # asymmetry 1 is random masking; asymmetry < 1 favours quiet patches
    flat = mk.ppam_masking(b.expand(draws, -1, -1), P, 0.75, asymmetry=1.0, dilation=0,
                           generator=_gen(4))  # fmt: skip
    kept_flat = (~flat.mask).float().mean(0)
    assert kept_flat[active].mean().item() == pytest.approx(0.25, abs=0.03)
    inv = mk.ppam_masking(b.expand(draws, -1, -1), P, 0.75, asymmetry=0.25, dilation=0,
                          generator=_gen(5))  # fmt: skip
    kept_inv = (~inv.mask).float().mean(0)
    assert kept_inv[active].mean() < 0.5 * kept_inv[~active].mean()


def test_ppam_bias_grows_with_asymmetry():
    b, active = _spots()
    rates = []
    for a in (1.0, 2.0, 8.0, 32.0):
        res = mk.ppam_masking(b.expand(2000, -1, -1), P, 0.75, asymmetry=a, dilation=0,
                              generator=_gen(6))  # fmt: skip
        rates.append((~res.mask).float().mean(0)[active].mean().item())
    assert rates == sorted(rates) and rates[-1] > 0.9


def test_ppam_deterministic_for_seed():
    b, _ = _spots(batch=4)
    one = mk.ppam_masking(b, P, 0.75, generator=_gen(7))
    two = mk.ppam_masking(b, P, 0.75, generator=_gen(7))
    other = mk.ppam_masking(b, P, 0.75, generator=_gen(8))
    for x, y in zip(one, two, strict=True):
        assert torch.equal(x, y)
    assert not torch.equal(one.mask, other.mask)
    r1 = mk.random_masking(4, 64, 0.75, _gen(7))
    assert torch.equal(r1.mask, mk.random_masking(4, 64, 0.75, _gen(7)).mask)


def test_ppam_no_active_or_all_active_is_uniform():
    quiet = torch.zeros(2000, S, S)
    strong = torch.full((2000, S, S), 1000.0)
    a = mk.ppam_masking(quiet, P, 0.75, asymmetry=10.0, generator=_gen(9))
    b = mk.ppam_masking(strong, P, 0.75, asymmetry=10.0, generator=_gen(9))
    u = mk.weighted_masking(torch.ones(2000, 64), 0.75, _gen(9))
    # Equal weights: the keys differ only by a constant, so the same draws give the same masks.
    assert torch.equal(a.mask, b.mask) and torch.equal(a.mask, u.mask)
    kept = (~a.mask).float().mean(0)
    assert torch.allclose(kept, torch.full((64,), 0.25), atol=0.035)


def test_ppam_ar_mask_and_dilation_in_prior():
    ar = torch.zeros(1, S, S)
    ar[0, 28:36, 28:36] = 1  # straddles 4 patches (rows 3-4, cols 3-4), 16 pixels in each
    res = mk.ppam_masking(None, P, 0.75, asymmetry=50.0, dilation=0, ar_mask=ar.expand(500, -1, -1),
                          generator=_gen(10))  # fmt: skip
    kept = (~res.mask).float().mean(0).view(8, 8)
    centre = kept[3:5, 3:5]
    others = kept.clone()
    others[3:5, 3:5] = float("nan")
    # weight 1 + 49·0.25 = 13.25 vs 1
    assert centre.min() > 3 * np.nanmax(others.numpy())


def test_ppam_bad_arguments():
    b, _ = _spots()
    with pytest.raises(ValueError, match="asymmetry"):
        mk.ppam_masking(b, P, 0.75, asymmetry=0.0)
    with pytest.raises(ValueError, match="not divisible"):
        mk.ppam_masking(b, 7, 0.75)
    with pytest.raises(ValueError, match="threshold_gauss"):
        mk.ppam_masking(b, P, 0.75, threshold_gauss=float("nan"))
    with pytest.raises(ValueError, match="finite and > 0"):
        mk.weighted_masking(torch.tensor([[1.0, 0.0, 2.0, 1.0]]), 0.5)


# ---------------------------------------------------------------------------------------------
# Latitude-band prior
# ---------------------------------------------------------------------------------------------
def test_latitude_band_map():
    band = mk.latitude_band_map(220, (5.0, 35.0), frame_radius=1.1)  # 100 px per R☉
    assert torch.equal(band, band.flip(0)) and torch.equal(band, band.flip(1))
    centre = 110
    row_at = lambda lat: centre - int(round(100 * np.sin(np.radians(lat))))  # noqa: E731
    assert band[row_at(20), centre] and band[row_at(-20) - 1, centre]
    assert not band[centre, centre]  # equator
    assert not band[row_at(60), centre]  # high latitude
    assert not band[row_at(20), 5]  # off disk
    with pytest.raises(ValueError, match="band_deg"):
        mk.latitude_band_map(64, (35.0, 5.0))


def test_latitude_band_masking_favours_belts():
    res = mk.latitude_band_masking(2000, S, P, 0.75, asymmetry=6.0, generator=_gen(11))
    _check_mae_convention(res, 2000, 64, 16)
    frac = mk.patch_fraction(mk.latitude_band_map(S)[None], P)[0]
    kept = (~res.mask).float().mean(0)
    assert kept[frac > 0.9].mean() > 2 * kept[frac == 0].mean()


# ---------------------------------------------------------------------------------------------
# make_mask: any channel count, config
# ---------------------------------------------------------------------------------------------
def test_make_mask_any_channel_count():
    names = list(channels.CATALOGUE)[:13]
    assert "hmi_m" in names
    c = len(names)
    b, active = _spots(batch=1000)
    images = torch.zeros(1000, c, S, S)
    hmi = channels.get("hmi_m")
    images[:, names.index("hmi_m")] = torch.from_numpy(hmi.scale(b.numpy()))
    cfg = mk.MaskingConfig(strategy="ppam", ratio=0.75, asymmetry=6.0, dilation=0)
    res = mk.make_mask(cfg, images, P, channel_names=names, generator=_gen(12))
    _check_mae_convention(res, 1000, 64, 16)
    kept = (~res.mask).float().mean(0)
    assert kept[active].mean() > 2.5 * kept[~active].mean()
    for strategy in ("random", "latitude"):
        r = mk.make_mask(mk.MaskingConfig(strategy=strategy, ratio=0.6), images[:3], (16, 8))
        _check_mae_convention(r, 3, 32, mk.num_visible(32, 0.6))
    # a 2-channel batch without a magnetogram: PPAM needs an AR mask
    two = torch.zeros(2, 2, S, S)
    with pytest.raises(ValueError, match="needs channel 'hmi_m'"):
        mk.make_mask(cfg, two, P, channel_names=["aia171", "aia304"])
    ar = torch.zeros(S, S)
    ar[:P, :P] = 1
    r = mk.make_mask(cfg, two, P, ar_mask=ar, generator=_gen(13))
    _check_mae_convention(r, 2, 64, 16)
    with pytest.raises(ValueError, match="ar_mask must be"):
        mk.make_mask(cfg, two, P, ar_mask=torch.zeros(3, S, S))


def test_masking_config_validation():
    with pytest.raises(ValueError, match="strategy"):
        mk.MaskingConfig(strategy="block")
    with pytest.raises(ValueError, match="ratio"):
        mk.MaskingConfig(ratio=1.0)
