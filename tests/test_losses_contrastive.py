"""SolarCHIP contrastive objective: hand-computable values, invariances, and that it learns."""

from __future__ import annotations

import math

import pytest
import torch

from solarray.losses.contrastive import (
    SolarCHIPLossConfig,
    global_contrastive,
    info_nce,
    intra_sample_contrastive,
    local_contrastive,
    reconstruction,
    solarchip_loss,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread", "torch_seed0")


def test_info_nce_hand_value_for_orthonormal_pairs():
    n, tau = 4, 0.5
    a = torch.eye(n, 8)
    expected = math.log(1 + (n - 1) * math.exp(-1 / tau))
    assert info_nce(a, a.clone(), tau).item() == pytest.approx(expected, rel=1e-5)
    # Scale does not matter (cosine similarity).
    assert info_nce(3 * a, 0.5 * a, tau).item() == pytest.approx(expected, rel=1e-5)


def test_aligned_is_minimum_and_shuffled_pairs_raise_loss():
    g = torch.randn(16, 32)
    aligned = global_contrastive(g, g, 0.1)
    perm = torch.roll(torch.arange(16), 1)
    shuffled = global_contrastive(g, g[perm], 0.1)
    noisy = global_contrastive(g, g + 0.5 * torch.randn_like(g), 0.1)
    assert aligned < noisy < shuffled
    # Lower bound 0, approached by identical orthogonal pairs as τ → 0.
    assert 0 <= info_nce(torch.eye(4), torch.eye(4), 0.05).item() < 1e-6


def test_symmetric_in_modalities():
    a, b = torch.randn(8, 16), torch.randn(8, 16)
    assert global_contrastive(a, b).item() == pytest.approx(global_contrastive(b, a).item())
    la, lb = torch.randn(4, 6, 16), torch.randn(4, 6, 16)
    assert local_contrastive(la, lb).item() == pytest.approx(local_contrastive(lb, la).item())


def test_local_positives_are_same_sample_same_index():
    p = torch.randn(3, 5, 16)
    aligned = local_contrastive(p, p.clone(), 0.1)
    # Moving patches to other indices within each sample (spatial misalignment) raises the loss.
    moved = local_contrastive(p, torch.roll(p, 1, dims=1), 0.1)
    other_sample = local_contrastive(p, torch.roll(p, 1, dims=0), 0.1)
    assert aligned < moved and aligned < other_sample
    # Subsampling patches gives the same value when all patches are drawn.
    assert local_contrastive(p, p, 0.1, max_patches=5).item() == pytest.approx(aligned.item())
    assert local_contrastive(p, p, 0.1, max_patches=2) >= 0


def test_local_negatives_are_other_samples_at_the_same_index():
    b, n, tau = 3, 4, 0.5
    # Per index, the B samples are orthonormal; every index of a sample holds the same vector,
    # so only other samples can be negatives: log(1 + (B−1)e^{−1/τ}) by hand.
    p = torch.eye(b, 8)[:, None, :].expand(b, n, 8)
    expected = math.log(1 + (b - 1) * math.exp(-1 / tau))
    assert local_contrastive(p, p.clone(), tau).item() == pytest.approx(expected, rel=1e-5)
    # Patches identical across samples at one index: B-way chance, log B, whatever the layout
    # within the sample.
    q = torch.eye(n, 8)[None].expand(b, n, 8)
    assert local_contrastive(q, q.clone(), tau).item() == pytest.approx(math.log(b), rel=1e-5)


def test_intra_sample_contrastive_hand_values():
    tau = 0.2
    # Orthonormal patches within a sample, the same in both modalities: N-way InfoNCE with one
    # positive at cos 1 and N − 1 negatives at cos 0.
    ortho = torch.eye(4, 8)[None].expand(2, -1, -1)
    expected = math.log(1 + 3 * math.exp(-1 / tau))
    assert intra_sample_contrastive(ortho, ortho.clone(), tau).item() == pytest.approx(
        expected, rel=1e-5)
    # No spatial structure (every patch of a sample the same): log N, however the samples differ.
    flat = torch.eye(2, 8)[:, None, :].expand(2, 4, 8)
    assert intra_sample_contrastive(flat, flat.clone(), tau).item() == pytest.approx(
        math.log(4), rel=1e-5)
    # A hand-computed general case, N = 2, D = 2, τ = 1: AIA (1,0),(0,1); HMI (1,0),(1,1)/√2.
    a = torch.tensor([[[1.0, 0.0], [0.0, 1.0]]])
    h = torch.tensor([[[1.0, 0.0], [1.0, 1.0]]])
    c = 1 / math.sqrt(2)
    # logits a·hᵀ = [[1, c], [0, c]]; rows (a→h) and columns (h→a), positives on the diagonal.
    fwd = (-1 + math.log(math.e + math.exp(c)) - c + math.log(1 + math.exp(c))) / 2
    bwd = (-1 + math.log(math.e + 1) - c + math.log(math.exp(c) + math.exp(c))) / 2
    got = intra_sample_contrastive(a, h, 1.0).item()
    assert got == pytest.approx((fwd + bwd) / 2, rel=1e-6)


def test_intra_sample_negatives_are_other_locations_of_the_same_sample():
    p = torch.randn(3, 5, 16)
    aligned = intra_sample_contrastive(p, p.clone(), 0.1)
    moved = intra_sample_contrastive(p, torch.roll(p, 1, dims=1), 0.1)
    assert aligned < moved
    # Other samples are not negatives: the batch value is the mean of each sample alone.
    q = torch.randn(3, 5, 16)
    alone = [intra_sample_contrastive(p[i:i + 1], q[i:i + 1], 0.1).item() for i in range(3)]
    assert intra_sample_contrastive(p, q, 0.1).item() == pytest.approx(sum(alone) / 3, rel=1e-6)
    with pytest.raises(ValueError, match="N >= 2"):
        intra_sample_contrastive(p[:, :1], p[:, :1], 0.1)


def test_reconstruction_respects_present_channels():
    target = torch.zeros(2, 3, 4, 4)
    recon = target.clone()
    recon[:, 2] = 2.0  # channel 2 wrong by 2 → squared error 4
    assert reconstruction(recon, target).item() == pytest.approx(4 / 3)
    present = torch.tensor([[1.0, 1.0, 0.0], [1.0, 1.0, 0.0]])
    assert reconstruction(recon, target, present).item() == pytest.approx(0.0)
    present[1, 2] = 1.0
    assert reconstruction(recon, target, present).item() == pytest.approx(4 / 5)


def test_total_is_weighted_sum_and_config_validates():
    b, n, d = 4, 6, 8
    out = {f"{k}_{m}": torch.randn(b, n, d) if k == "l" else torch.randn(b, d)
           for k in ("g", "l") for m in ("aia", "hmi")}
    for m, c in (("aia", 2), ("hmi", 1)):
        out[f"recon_{m}"] = torch.randn(b, c, 4, 4)
        out[f"target_{m}"] = torch.randn(b, c, 4, 4)
    cfg = SolarCHIPLossConfig(lambda_rec=0.5, lambda_global=2.0, lambda_local=0.3,
                              lambda_intra=0.7, temperature=0.2)
    total, parts = solarchip_loss(out, cfg)
    expect = (0.5 * parts["loss_rec"] + 2.0 * parts["loss_global"] + 0.3 * parts["loss_local"]
              + 0.7 * parts["loss_intra"])
    assert total.item() == pytest.approx(expect.item(), rel=1e-6)
    with pytest.raises(ValueError, match="temperature"):
        SolarCHIPLossConfig(temperature=0)
    with pytest.raises(ValueError, match="lambda_local"):
        SolarCHIPLossConfig(lambda_local=-1)


def test_solarchip_loss_decreases_on_a_tiny_model():
    from solarray.data.synthetic.toy import toy_samples
    from solarray.models import build
    from solarray.train.objectives import get_objective

    ch = ("aia171", "aia304", "hmi_m")
    data = toy_samples(16, ch, size=32, seed=3)
    model = build("solarchip_vit", preset="tiny", channels=ch,
                  backbone_config={"image_size": 32, "patch_size": 8, "embed_dim": 32,
                                   "decoder_dim": 32})
    obj = get_objective(None, "solarchip_vit")
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3)
    batch = {"image": torch.from_numpy(data["image"]), "present": torch.from_numpy(data["present"])}
    losses, parts0 = [], None
    for _ in range(25):
        loss, parts = obj.step(model, batch)
        parts0 = parts0 or parts
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    # Global and local InfoNCE start at log B = log 16 and fall slowly on 16 toy samples (the
    # local term's negatives are other samples only); reconstruction and the intra-sample term
    # (other locations of the same sample) fall fast.
    assert losses[-1] < 0.85 * losses[0]
    assert parts["loss_intra"] < 0.5 * parts0["loss_intra"]
    assert parts["loss_global"] < parts0["loss_global"]
    assert parts["loss_local"] < parts0["loss_local"]
    assert parts["loss_rec"] < parts0["loss_rec"]
