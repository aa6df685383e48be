"""Training and serving give FPNet the same input: for one sample and its regions, the training
path (:func:`solarray.forecast.examples.build_examples` on the frame + a feature table) and the
serving path (the inputs the pipeline's forecast stage hands to FPNet) produce identical crops
and identical feature vectors."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest
import torch

from solarray.core.frame_header import sample_frame_header
from solarray.forecast.examples import ar_crop, build_examples, crop_region, crop_width
from solarray.forecast.features import full_disk_table
from solarray.forecast.frames import Frames, ar_pixel
from solarray.models import build
from solarray.pipeline.analysis_stage import Analysis
from solarray.pipeline.forecast_stage import forecast as forecast_stage
from solarray.pipeline.sample import Sample

pytestmark = pytest.mark.usefixtures("one_torch_thread")

MODEL_CH = ("aia304", "hmi_m")
SAMPLE_CH = ("hmi_m", "aia304")  # the sample's own order: serving reorders to the model's
SIZE, FRAME = 64, 1.1
T_OBS = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
F107 = 143.0
#: hgs_lon, hgs_lat (deg), area (MSH, distinct: serving orders regions by area), features.
REGIONS = (
    (-35.0, 12.0, 640.0, 12.5, 1.7, "beta-x", "F"),
    (20.0, -18.0, 420.0, 0.0, None, "beta", "D"),
    (48.0, 25.0, 150.0, 3.0, 0.9, None, "C"),
    (-60.0, -5.0, 90.0, None, None, "alpha", None),
    (5.0, 30.0, 30.0, 1.0, 2.2, "beta", "A"),
)


def _sample() -> Sample:
    """A sample in the serving layout: its own channel order, NaN off the data."""
    rng = np.random.default_rng(7)
    image = rng.uniform(-1, 1, (len(SAMPLE_CH), SIZE, SIZE)).astype(np.float32)
    image[:, :3, :] = np.nan
    return Sample(image, SAMPLE_CH, T_OBS, sample_frame_header(SIZE, T_OBS, frame=FRAME))


def _frames(sample: Sample) -> Frames:
    """The same observation as training sees it: model channel order, NaN → 0 (ingest)."""
    image = np.nan_to_num(sample.image[[SAMPLE_CH.index(c) for c in MODEL_CH]], nan=0.0)
    return Frames(image[None], np.array([T_OBS.replace(tzinfo=None)], "datetime64[s]"),
                  np.array([0]), np.array([F107], np.float32), MODEL_CH, FRAME)


def _regions() -> tuple[pd.DataFrame, list[dict]]:
    """One region set as a training table (hgs positions) and as IATools rows (pixel positions
    of the same points, keys as analysis writes them)."""
    lon, lat = [r[0] for r in REGIONS], [r[1] for r in REGIONS]
    rows, cols = ar_pixel(lon, lat, [T_OBS] * len(REGIONS), SIZE, FRAME)
    ars = [{"number": 100 + k, "hgs_lon": r[0], "hgs_lat": r[1], "area_msh": r[2],
            "flare_index": r[3], "log_r": r[4], "hale": r[5], "mcintosh": r[6],
            "pixel_x": float(cols[k]), "pixel_y": float(rows[k])}
           for k, r in enumerate(REGIONS)]
    table = pd.DataFrame({
        "t_obs": [T_OBS.replace(tzinfo=None)] * len(ars),
        "ar_number": [a["number"] for a in ars], "hgs_lon": lon, "hgs_lat": lat,
        **{k: [np.nan if a[k] is None else a[k] for a in ars]
           for k in ("area_msh", "flare_index", "log_r")},
        "hale": [a["hale"] for a in ars], "mcintosh": [a["mcintosh"] for a in ars],
        "f107": F107, "label": 0,
    })
    return table, ars


def _disk(ars: list[dict]) -> dict:
    """The disk dict as analysis builds it (total area, count, most complex classes, FI)."""
    return {"f107": F107, "flare_index": 21.0, "n_c": 2, "n_m": 1, "n_x": 0, "n_regions": len(ars),
            "n_ar": float(len(ars)), "area_msh": float(sum(a["area_msh"] for a in ars)),
            "log_r": 2.2, "hale": "beta-x", "mcintosh": "F"}


class _Capture:
    """Wraps a model's ``predict_proba`` to record what the forecast stage feeds it."""

    def __init__(self, model):
        self.calls: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        inner = model.predict_proba

        def predict_proba(images, scalars, categories):
            self.calls.append((images.numpy().copy(), scalars.numpy().copy(),
                               categories.numpy().copy()))
            return inner(images, scalars, categories)

        model.predict_proba = predict_proba

    def inputs(self):
        assert len(self.calls) == 1
        return self.calls[0]


def _serving_inputs(fp_disk, fp_ar, sample, ars, disk, max_regions=64):
    cap_ar = _Capture(fp_ar) if fp_ar is not None else None
    cap_disk = _Capture(fp_disk) if fp_disk is not None else None
    analysis = Analysis(ars=ars, chs=[], fls=[], ar_labels=np.zeros((SIZE, SIZE), np.int32),
                        disk=disk)
    forecast_stage(fp_disk, fp_ar, [sample], [analysis], max_regions)
    return (cap_ar.inputs() if cap_ar else None), (cap_disk.inputs() if cap_disk else None)


@pytest.mark.parametrize("crop_rsun, image_size", [(0.15, 16), (0.3, 8), (0.275, 16)])
def test_ar_crops_and_features_identical_in_training_and_serving(crop_rsun, image_size):
    torch.manual_seed(0)
    model = build("fpnet", preset="tiny", channels=MODEL_CH, mode="ar", image_size=image_size,
                  crop_rsun=crop_rsun).eval()
    sample = _sample()
    table, ars = _regions()
    # Serving orders regions by area, largest first; REGIONS is already in that order.
    served, _ = _serving_inputs(None, model, sample, ars, _disk(ars))
    ex = build_examples(_frames(sample), table, model.config)

    assert ex.dropped == 0 and ex.rows["ar_number"].tolist() == [a["number"] for a in ars]
    images, scalars, categories = served
    assert images.shape == ex.image.shape == (len(ars), 2, image_size, image_size)
    np.testing.assert_array_equal(images, ex.image)
    np.testing.assert_array_equal(scalars, ex.scalars)  # NaN where unknown, in both
    np.testing.assert_array_equal(categories, ex.categories)
    assert np.isnan(scalars).any() and (categories == 0).any() and (categories > 0).any()
    assert all(np.ptp(im) > 0 for im in images)  # real image content, not padding

    # The comparison can fail: a region one pixel off gives another crop.
    shifted = [dict(a, pixel_x=a["pixel_x"] + 1.0) for a in ars]
    moved, _ = _serving_inputs(None, model, sample, shifted, _disk(ars))
    assert all(not np.array_equal(m, e) for m, e in zip(moved[0], ex.image, strict=True))


def test_full_disk_image_and_features_identical_in_training_and_serving():
    torch.manual_seed(0)
    model = build("fpnet", preset="tiny", channels=MODEL_CH, mode="full_disk", image_size=32,
                  scalar_features=("f107", "flare_index", "area_msh", "n_ar"),
                  log_features=("flare_index", "area_msh")).eval()
    sample = _sample()
    table, ars = _regions()
    disk = _disk(ars)
    _, served = _serving_inputs(model, None, sample, ars, disk)
    table["disk_flare_index"] = disk["flare_index"]
    ex = build_examples(_frames(sample), full_disk_table(table), model.config)
    images, scalars, categories = served
    np.testing.assert_array_equal(images, ex.image)
    np.testing.assert_array_equal(scalars, ex.scalars)
    np.testing.assert_array_equal(categories, ex.categories)
    assert categories.tolist() == [[6, 3]]  # mcintosh F, hale beta-x


def test_crop_rounding_and_padding_by_hand():
    img = np.arange(2 * 10 * 10, dtype=np.float32).reshape(2, 10, 10)
    # floor(x + 0.5): 4.5 → 5 (Python's round() would give 4), 5.49 → 5.
    for row in (4.5, 5.49):
        np.testing.assert_array_equal(crop_region(img, row, 2.0, 3), img[:, 4:7, 1:4])
    assert crop_width(0.275, 1.1, 64) == 16 and crop_width(0.001, 1.1, 64) == 2
    out = ar_crop(img, 5.0, 5.0, frame=1.1, crop_rsun=1.1, image_size=10)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, img)  # width 10 = image_size: no resampling
