"""The paired comparisons of benchmark arms with bootstrap intervals (solarray.benchmarks.
paired_arms), the TSS of yes/no forecasts (solarray.metrics.bootstrap.tss), and fit_frames'
intermediate checkpoints and column batches (solarray.benchmarks.frames_fit)."""

import json

import numpy as np
import pytest

from solarray.benchmarks.frames_fit import fit_frames
from solarray.benchmarks.paired_arms import paired_comparisons
from solarray.metrics.bootstrap import tss
from solarray.models import load_model
from solarray.train.config import TrainConfig


def test_tss_of_yes_no_forecasts_hand_computed():
    y = np.array([1, 1, 0, 0])
    assert tss(y, np.array([0.9, 0.2, 0.6, 0.1])) == pytest.approx(0.5 - 0.5)
    assert tss(y, np.array([0.9, 0.7, 0.6, 0.1])) == pytest.approx(1.0 - 0.5)
    assert tss(y, np.array([1.0, 1.0, 0.0, 0.0])) == pytest.approx(1.0)
    assert tss(np.array([0, 0]), np.array([0.9, 0.1])) is None


def _arms(p_b):
    y = np.array([0, 1, 0, 1])
    a = {"p": np.array([0.1, 0.9, 0.2, 0.8]), "yes": np.array([0.0, 1.0, 0.0, 1.0])}
    b = {"p": np.asarray(p_b, float), "yes": np.zeros(4)}
    per_seed = {"a": [{"roca": 1.0, "bss": 0.9, "tss": 1.0}] * 2,
                "b": [{"roca": 0.0, "bss": -1.9, "tss": 0.0}] * 2}
    return y, {"a": [a, a], "b": [b, b]}, per_seed


def test_paired_comparisons_hand_computed():
    y, kept, per_seed = _arms([0.9, 0.1, 0.8, 0.2])
    out = paired_comparisons(per_seed, kept, y, np.array(["d1", "d2", "d3", "d4"]),
                             [("a", "b")], n_boot=200)
    r = out["a − b"]
    # a ranks perfectly (ROCA 1), b exactly backwards (ROCA 0): every resample with both
    # classes gives 1 − 0
    assert r["roca"]["bootstrap"]["difference"] == pytest.approx(1.0)
    assert r["roca"]["bootstrap"]["lo"] == pytest.approx(1.0)
    assert r["roca"]["bootstrap"]["beats"]
    # Brier 0.025 vs 0.725 against the climatology's 0.25: BSS 0.9 − (−1.9) = 2.8
    assert r["bss"]["bootstrap"]["difference"] == pytest.approx(2.8)
    # yes/no: a hits every flare with no false alarm (TSS 1), b never says yes (TSS 0)
    assert r["tss"]["bootstrap"]["difference"] == pytest.approx(1.0)
    assert r["tss"]["seeds"]["difference"]["mean"] == pytest.approx(1.0)
    assert r["tss"]["seeds"]["beats"]


def test_paired_comparisons_of_an_arm_with_itself_find_no_difference():
    y, kept, per_seed = _arms([0.1, 0.9, 0.2, 0.8])
    kept["b"] = kept["a"]
    out = paired_comparisons({"a": per_seed["a"], "b": per_seed["a"]}, kept, y,
                             np.arange(4), [("a", "b")], n_boot=50)
    for k in ("roca", "bss", "tss"):
        bt = out["a − b"][k]["bootstrap"]
        assert (bt["difference"], bt["lo"], bt["hi"], bt["beats"]) == (0.0, 0.0, 0.0, False)


def _mae_config(tmp_path, steps: int) -> TrainConfig:
    return TrainConfig(model="mae_vit", objective="mae", channels=("hmi_m", "aia304"),
                       model_config={"preset": "tiny", "image_size": 16}, steps=steps,
                       batch_size=2, lr=1e-3, seed=0, warmup_steps=1, run_name="m",
                       storage_path=str(tmp_path))


def test_fit_frames_saves_a_checkpoint_at_every_budget_of_one_run(tmp_path):
    images = np.random.default_rng(0).standard_normal((6, 2, 16, 16)).astype(np.float32)
    last = fit_frames(images, _mae_config(tmp_path, 4), tmp_path / "m", save_at=(2, 9))
    assert last.name == "checkpoint_00000004"
    assert sorted(p.name for p in (tmp_path / "m").glob("checkpoint_*")) == [
        "checkpoint_00000002", "checkpoint_00000004"]
    lines = [json.loads(x) for x in (tmp_path / "m" / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in lines] == [2, 4] and all(r["loss"] > 0 for r in lines)
    load_model(tmp_path / "m" / "checkpoint_00000002")


def test_fit_frames_refuses_columns_of_unequal_length(tmp_path):
    images = np.zeros((6, 2, 16, 16), np.float32)
    with pytest.raises(ValueError, match="unequal length"):
        fit_frames({"image": images, "label": np.zeros(5, np.float32)},
                   _mae_config(tmp_path, 2), tmp_path / "m")
