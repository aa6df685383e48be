"""The cycle's speed levers change no output: component DBSCAN, batched crops, channels-last.

Tiny untrained models (no checkpoint directory) on one synthetic 64² sample; the analysis runs on
the synthetic truth masks so that there are active regions to crop and classify.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from solarray.benchmarks.cycle import channels_last, floor_report, small_models
from solarray.benchmarks.floor import count_flops
from solarray.data.synthetic import SynthConfig, generate
from solarray.data.truth import resample_masks
from solarray.pipeline.analysis_stage import analyse
from solarray.pipeline.config import CycleConfig
from solarray.pipeline.forecast_stage import forecast
from solarray.pipeline.inputs import InputConfig, sample_from_fits
from solarray.pipeline.model_set import ModelSet, load_models
from solarray.pipeline.perception import Perception, perceive

CHANNELS = ("aia193", "aia304", "hmi_m")


@pytest.fixture(scope="module")
def cycle_inputs(tmp_path_factory):
    root = tmp_path_factory.mktemp("levers")
    generate(SynthConfig(start="2024-01-01T00:00", hours=0, size=96, seed=3, channels=CHANNELS,
                         preview=False), root)
    files = [(p.name, p.read_bytes()) for ch in CHANNELS
             for p in [sorted((root / "fits" / ch).glob("*.fits"))[0]]]
    sample = sample_from_fits(files, InputConfig(size=64, min_pixels=32))
    m = resample_masks(str(sorted((root / "masks").glob("*.fits"))[0]), 64, sample.frame)
    truth = Perception(m.astype(np.float32), m.astype(np.uint8), (0.5, 0.5, 0.5))
    models = load_models(checkpoint_dir=root / "no-checkpoints")
    return sample, truth, models


def test_component_dbscan_gives_the_cycle_the_same_regions(cycle_inputs):
    sample, truth, models = cycle_inputs
    base = CycleConfig()
    out = {meth: analyse(sample, truth, hale=models.optional("hale"),
                         mcintosh=models.optional("mcintosh"),
                         config=CycleConfig(region={**base.region, "ar_method": meth}))
           for meth in ("components", "pixels")}
    assert len(out["components"].ars) >= 1
    assert out["components"].ars == out["pixels"].ars
    assert np.array_equal(out["components"].ar_labels, out["pixels"].ar_labels)


def test_crops_in_one_forward_equal_one_forward_per_crop(cycle_inputs):
    sample, truth, models = cycle_inputs
    a = analyse(sample, truth, hale=models.optional("hale"), mcintosh=models.optional("mcintosh"))
    fp = (models.optional("fpnet_full_disk"), models.optional("fpnet_ar"))
    batched = forecast(*fp, [sample], [a])[0]
    single = forecast(*fp, [sample], [a], crop_batch=1)[0]
    assert len(batched.regions) == len(a.ars) >= 1
    assert batched.regions.keys() == single.regions.keys()
    for n, p in batched.regions.items():
        assert single.regions[n] == pytest.approx(p, abs=1e-5)
    assert single.full_disk == pytest.approx(batched.full_disk)


def test_channels_last_models_give_the_same_probabilities(cycle_inputs):
    sample, truth, models = cycle_inputs
    cl = channels_last(models)
    w0, w1 = models.get("spnet").up[0][0].weight, cl.get("spnet").up[0][0].weight  # 3×3 conv
    assert w1.is_contiguous(memory_format=torch.channels_last)
    assert not w0.is_contiguous(memory_format=torch.channels_last)
    p0 = perceive(models.get("spnet"), [sample])[0].probability
    p1 = perceive(cl.get("spnet"), [sample])[0].probability
    np.testing.assert_allclose(p1, p0, atol=1e-5)
    a0 = analyse(sample, truth, hale=models.optional("hale"), mcintosh=models.optional("mcintosh"))
    a1 = analyse(sample, truth, hale=cl.optional("hale"), mcintosh=cl.optional("mcintosh"))
    assert [r["hale_probability"] for r in a1.ars] == pytest.approx(
        [r["hale_probability"] for r in a0.ars], abs=1e-5)


def test_small_arm_rebuilds_the_vits_at_the_small_preset_and_keeps_what_the_cycle_feeds(
        cycle_inputs):
    sample, truth, models = cycle_inputs
    small = small_models(models)
    for role in ("spnet", "fpnet_full_disk", "fpnet_ar"):
        shipped, s = models.get(role).config, small.get(role).config
        assert (s.embed_dim, s.depth) == (192, 4)
        assert (s.image_size, s.channels) == (shipped.image_size, shipped.channels)
        assert "small" in small.versions()[role]
    assert small.get("hale") is models.get("hale")  # no small preset: the shipped CNN stays
    assert models.get("spnet").config.embed_dim == 64  # the shipped set is untouched
    a = analyse(sample, truth, hale=small.optional("hale"), mcintosh=small.optional("mcintosh"))
    fc = forecast(small.optional("fpnet_full_disk"), small.optional("fpnet_ar"), [sample], [a])[0]
    assert len(fc.regions) == len(a.ars) >= 1
    per_ar = {name: count_flops(lambda m=m: forecast(None, m.optional("fpnet_ar"), [sample],
                                                     [a]))[0]
              for name, m in (("shipped", models), ("small", small))}
    assert per_ar["small"] > 3 * per_ar["shipped"] > 0


def test_floor_report_divides_each_stage_by_its_floor():
    rows = [{"perception": p, "analysis": 1.0, "forecast": 0.5, "cycle": 1.5 + p, "regions": 2}
            for p in (0.2, 0.4, 0.3)]
    flops = {"perception": 10, "analysis": 0, "forecast": 5, "total": 15}
    rep = floor_report(rows, ModelSet(), flops, rate=100.0)
    per = rep["stages"]["perception"]
    assert per["floor_s"] == pytest.approx(0.1)
    assert per["time_over_floor"]["median"] == pytest.approx(3.0)
    assert (per["time_over_floor"]["min"], per["time_over_floor"]["max"]) == pytest.approx((2, 4))
    assert rep["stages"]["analysis"]["time_over_floor"] is None
    assert rep["regions"] == [2]
