"""solarray.benchmarks.frames_fit: the generic loop's step over in-memory frames (no Ray)."""

import numpy as np
import pytest
import torch

from solarray.benchmarks.frames_fit import fit_frames
from solarray.models import load_model
from solarray.translate.training import TranslationRun

CHANNELS = ("hmi_m", "aia171")


def _frames(n: int = 24, size: int = 32, seed: int = 0) -> np.ndarray:
    """aia171 = 0.8 · hmi_m − 0.1: a mapping the translator can learn in a few steps."""
    x = np.random.default_rng(seed).uniform(-1, 1, (n, 1, size, size)).astype(np.float32)
    return np.concatenate([x, 0.8 * x - 0.1], axis=1)


def _l1(model, frames: np.ndarray) -> float:
    model.eval()
    with torch.no_grad():
        out = model(torch.from_numpy(frames[:, :1]))
    pred = out if torch.is_tensor(out) else next(iter(out.values()))
    return float((pred - torch.from_numpy(frames[:, 1:])).abs().mean())


def test_fit_frames_learns_and_writes_a_loadable_checkpoint(tmp_path):
    frames = _frames()
    run = TranslationRun(inputs=("hmi_m",), outputs=("aia171",), model_config={"image_size": 32},
                         steps=150, batch_size=8, lr=3e-3, seed=0, run_name="a")
    cfg = run.train_config(CHANNELS)
    trained = load_model(fit_frames(frames, cfg, tmp_path / "a"))
    untrained = load_model(fit_frames(frames, TranslationRun(
        **{**run.__dict__, "steps": 1, "lr": 1e-9, "run_name": "u"}).train_config(CHANNELS),
        tmp_path / "u"))
    assert (tmp_path / "a" / "checkpoint_00000150" / "model.pt").exists()
    # learning: the trained model's L1 on the pairs is well below the (almost) untrained one's
    assert _l1(trained, frames) < 0.7 * _l1(untrained, frames)


def test_fit_frames_refuses_frames_without_the_config_channels(tmp_path):
    cfg = TranslationRun(outputs=("aia171",), model_config={"image_size": 32},
                         steps=1).train_config(("hmi_m", "aia171", "aia193"))
    with pytest.raises(ValueError, match="3 channels"):
        fit_frames(_frames(), cfg, tmp_path)
