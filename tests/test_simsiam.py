"""SimSiam: the loss by hand, the model's shapes and errors, and a learning test — trained SimSiam
retrieves the same region at an adjacent time better than the same network untrained."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from solarray.losses.simsiam import negative_cosine, simsiam_loss
from solarray.models import build
from solarray.search.evaluate import adjacent_precision
from solarray.search.patches import synthetic_patches
from solarray.train.objectives.simsiam import SimSiamObjective, augment


def test_loss_hand_values_and_stop_gradient():
    p = torch.tensor([[1.0, 0.0], [0.0, 2.0]], requires_grad=True)
    z = torch.tensor([[1.0, 1.0], [0.0, -1.0]], requires_grad=True)
    # cos = 1/√2 and −1 → D = −(1/√2 − 1)/2
    d = negative_cosine(p, z)
    assert d.item() == pytest.approx(-(2 ** -0.5 - 1.0) / 2)
    d.backward()
    assert z.grad is None and p.grad is not None
    same = torch.randn(4, 8)
    assert simsiam_loss(same, same, same, same).item() == pytest.approx(-1.0, abs=1e-6)


def test_model_shapes_and_errors():
    m = build("simsiam", preset="tiny", channels=("hmi_m",))
    x = torch.randn(4, 1, 32, 32)
    p1, p2, z1, z2 = m(x, x)
    assert p1.shape == z2.shape == (4, 64)
    assert m(x, mode="embed").shape == (4, 64)
    with pytest.raises(ValueError, match=r"\[B, 1, 32, 32\]"):
        m(torch.randn(4, 1, 16, 16), mode="embed")
    with pytest.raises(ValueError, match="two views"):
        m(x)


def test_augment_keeps_polarity():
    x = torch.zeros(64, 1, 32, 32)
    x[:, :, 8:24, 8:16], x[:, :, 8:24, 16:24] = 0.5, -0.5
    g = torch.Generator().manual_seed(0)
    v = augment(x, flips=True, noise=0.0, generator=g)
    # Rotations and flips move the poles but never swap their signs: fluxes stay close.
    assert torch.allclose(v.clamp(min=0).sum((1, 2, 3)), v.clamp(max=0).abs().sum((1, 2, 3)),
                          rtol=0.1)
    assert (v.clamp(min=0).sum((1, 2, 3)) > 0.6 * 64).all()


def _stack(rows):
    return (np.stack([r["image"] for r in rows]), np.array([r["region"] for r in rows]),
            np.array([r["t_obs"] for r in rows], dtype="datetime64[s]"))


@pytest.mark.slow
def test_trained_simsiam_beats_untrained_at_retrieval(one_torch_thread):
    """Mean over 3 seeds of precision@1 (the same region 8 h away, ±6 h held out) on unseen
    synthetic Suns: SimSiam after 300 steps against the same network at its initialisation."""
    train = sum((synthetic_patches(s, days=2.0) for s in range(1, 7)), [])
    test = sum((synthetic_patches(s, days=2.0, start="2024-03-01T00:00")
                for s in (11, 12, 13, 14)), [])
    xtr, _, _ = _stack(train)
    xte, reg, t = _stack(test)
    xtr = torch.from_numpy(xtr)

    def score(m) -> float:
        m.eval()
        with torch.no_grad():
            z = m(torch.from_numpy(xte), mode="embed").numpy()
        m.train()
        return adjacent_precision(z, reg, t, k=1, gap_h=6.0)["precision_at_k"]

    gains, final_losses = [], []
    for seed in (0, 1, 2):
        torch.manual_seed(seed)
        model = build("simsiam", preset="tiny")
        untrained = score(model)
        obj = SimSiamObjective()
        opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-4)
        g = torch.Generator().manual_seed(seed)
        for _ in range(300):
            loss, _ = obj.step(model, {"image": xtr[torch.randint(0, len(xtr), (64,),
                                                                  generator=g)]})
            opt.zero_grad()
            loss.backward()
            opt.step()
        final_losses.append(loss.item())
        gains.append(score(model) - untrained)
    assert max(final_losses) < -0.7  # the two views agree
    # Measured: +0.013, +0.122, +0.029 (mean 0.055). The gain is seed-sensitive, and on the
    # benchmark Sun the trained encoder loses to the untrained one (BENCHMARKS.md).
    assert np.mean(gains) > 0.03, gains
