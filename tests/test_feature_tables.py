"""FPNet's training tables come from the served chain: a sample's feature row and crop at training
time equal what the service computes for the same FITS files, and the truth enters only as labels.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from solarray.pipeline.feature_tables import region_labels, truth_match

CHANNELS = ("hmi_m", "aia193", "aia304")


def _regions(*rows):
    return pd.DataFrame(rows, columns=["number", "hgs_lon", "hgs_lat", "area_msh"])


def test_region_labels_rotate_located_flares_back_and_need_m1_in_the_horizon():
    t = pd.Timestamp("2024-02-05T00:00")
    regions = _regions((1, 0.0, 10.0, 200.0), (2, 40.0, -20.0, 200.0))
    # 200 MSH: radius 1.15°; + 5° assignment margin
    events = pd.DataFrame({
        "start": [t + pd.Timedelta(hours=h) for h in (2, 30, 5, 6)],
        "peak": [t + pd.Timedelta(hours=h) for h in (2.1, 30.1, 5.1, 24.0)],
        "peak_flux": [2e-5, 5e-4, 5e-6, 1e-5],
        # M2 on region 1 (rotated back from its peak: 2.1 h × ~13.4°/day ≈ 1.2°),
        # X5 on region 2 but after 24 h, C5 on region 2, M1 starting at 6 h at region 2's
        # position rotated by 24 h (≈ 13°)
        "hgs_lon": [1.2, 40.0, 40.0, 40.0 + 13.3], "hgs_lat": [10.0, -20.0, -20.0, -20.0]})
    assert region_labels(events, t, regions).tolist() == [1, 1]
    assert region_labels(events.iloc[:3], t, regions).tolist() == [1, 0]  # C5 and late X: 0
    far = events.iloc[[0]].assign(hgs_lon=20.0)  # 19° from region 1: nobody's flare
    assert region_labels(far, t, regions).tolist() == [0, 0]
    assert region_labels(None, t, regions).tolist() == [0, 0]


def test_truth_match_takes_the_nearest_true_region_within_reach():
    regions = _regions((1, 0.0, 10.0, 800.0), (2, 60.0, 0.0, 100.0))
    truth = pd.DataFrame({"ar_number": [7, 8, 9], "hgs_lon": [2.0, 30.0, 61.0],
                          "hgs_lat": [11.0, 0.0, 0.5]})
    assert truth_match(truth, regions).tolist() == [7, 9]
    assert truth_match(truth.iloc[[1]], regions).tolist() == [-1, -1]


@pytest.fixture(scope="module")
def forecasting_set(ray_session, tmp_path_factory):
    from solarray.data.synthetic.forecast_set import SynthRun, make_synthetic_set

    root = tmp_path_factory.mktemp("fset")
    make_synthetic_set(root, [SynthRun("2024-02-05T00:00", 0.5, 11)], size=128,
                       cadence_minutes=360, channels=CHANNELS, log=lambda *_: None)
    return root


@pytest.fixture(scope="module")
def models():
    import torch

    from solarray.pipeline.model_set import load_models

    torch.manual_seed(0)  # the untrained stand-ins are the same for the table and the service
    return load_models(roles=("spnet", "hale", "mcintosh"), channels=CHANNELS,
                       allow_untrained=True)


@pytest.mark.timeout(600)
def test_training_row_and_crop_equal_what_the_service_computes_from_the_fits(
        forecasting_set, models, tmp_path):
    from solarray.data.synthetic.forecast_set import run_dirs
    from solarray.forecast.examples import ar_crop, build_examples
    from solarray.forecast.features import feature_arrays, region_features
    from solarray.forecast.frames import load_frames, select_channels
    from solarray.models.fpnet import FPNetConfig
    from solarray.pipeline.config import CycleConfig
    from solarray.pipeline.cycle import run_cycle
    from solarray.pipeline.feature_tables import build_tables
    from solarray.pipeline.flare_history import FlareHistory
    from solarray.pipeline.inputs import InputConfig, sample_from_fits
    from solarray.pipeline.sample import prepare_stack

    config = CycleConfig(threshold=0.5)
    tables = build_tables(forecasting_set, models, config=config)
    assert len(tables.disk) == 3 and set(tables.disk["label"]) <= {0, 1}
    assert len(tables.ar), "the chain found no region in three observations"
    assert {"label", "truth_ar", "pixel_x", "pixel_y", "log_r", "hale"} <= set(tables.ar.columns)

    # the service, from the same level-1 FITS files of the table's last observation
    run = run_dirs(forecasting_set)[0]
    t = tables.ar["t_obs"].max()
    k = sorted(tables.disk["t_obs"]).index(t)  # the k-th time step of the run, every channel
    files = [(p.name, p.read_bytes()) for p in
             (sorted((run / "fits" / ch).glob("*.fits"))[k] for ch in CHANNELS)]
    sample = sample_from_fits(files, InputConfig(size=128, accepted=CHANNELS,
                                                 required=("hmi_m",)))
    history = FlareHistory.load(xrs=str(run / "tables" / "xrs.parquet"),
                                events=str(run / "tables" / "events.parquet"),
                                indices=str(run / "tables" / "indices.parquet"))
    served = run_cycle(sample, models, config, history=history).analysis
    rows = tables.ar[tables.ar["t_obs"] == t].sort_values("ar_number")
    assert sorted(int(r["number"]) for r in served.ars) == rows["ar_number"].tolist()

    fp = FPNetConfig(mode="ar", channels=("hmi_m", "aia304"))
    served_feats = [region_features(r, served.disk) for r in
                    sorted(served.ars, key=lambda r: r["number"])]
    s_scal, s_cat = feature_arrays(served_feats, fp.scalar_features, fp.categorical_features)
    t_scal, t_cat = feature_arrays(rows, fp.scalar_features, fp.categorical_features)
    np.testing.assert_allclose(t_scal, s_scal, rtol=1e-5, equal_nan=True)
    np.testing.assert_array_equal(t_cat, s_cat)
    assert np.isfinite(t_scal[:, list(fp.scalar_features).index("log_r")]).all()  # from the HMI

    frames = select_channels(load_frames(str(forecasting_set / "shards")), fp.channels)
    local = select_channels(load_frames(str(forecasting_set / "shards"), local=True), fp.channels)
    np.testing.assert_array_equal(local.image, frames.image)  # pyarrow read = the Ray Data read
    np.testing.assert_array_equal(local.t, frames.t)
    np.testing.assert_array_equal(local.flare_m24, frames.flare_m24)
    ex = build_examples(frames, rows, fp)
    full, _ = prepare_stack(sample.image, sample.present, sample.channels, fp.channels,
                            sample.size)
    served_crops = np.stack([ar_crop(full, r["pixel_y"], r["pixel_x"], sample.frame,
                                     fp.crop_rsun, fp.image_size)
                             for r in sorted(served.ars, key=lambda r: r["number"])])
    np.testing.assert_allclose(ex.image, served_crops, atol=1e-5)


def test_feature_tables_command_refuses_what_it_cannot_use(tmp_path, capsys):
    from solarray.cli import main

    (tmp_path / "set").mkdir()
    assert main(["feature-tables", "--synthetic", str(tmp_path / "set"), "--checkpoint-dir",
                 str(tmp_path), "--out", str(tmp_path / "o")]) == 2
    assert "runs.json" in capsys.readouterr().err
    (tmp_path / "set" / "runs.json").write_text('{"runs": []}')
    (tmp_path / "ck").mkdir()
    (tmp_path / "ck" / "spnet.pt").write_bytes(b"")
    assert main(["feature-tables", "--synthetic", str(tmp_path / "set"), "--checkpoint-dir",
                 str(tmp_path / "ck"), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "hale.pt, mcintosh.pt" in err[0]


@pytest.mark.timeout(600)
def test_no_feature_reads_the_synthetic_truth(forecasting_set, models, tmp_path):
    """The truth's region table rewritten (classes, areas, positions, numbers) and the event
    list's region numbers scrambled: every feature column of the tables stays the same; only the
    labels' region matching (``truth_ar``) may move."""
    import shutil

    from solarray.data.synthetic.forecast_set import run_dirs
    from solarray.pipeline.config import CycleConfig
    from solarray.pipeline.feature_tables import build_tables

    config = CycleConfig(threshold=0.5)
    before = build_tables(forecasting_set, models, config=config)
    root = tmp_path / "fset"
    shutil.copytree(forecasting_set, root)
    for run in run_dirs(root):
        tables = run / "tables"
        ar = pd.read_parquet(tables / "ar.parquet")
        ar["hale"] = "alpha"
        ar["mcintosh"] = "A"
        ar["area_msh"] = ar["area_msh"] * 7 + 1000.0
        ar["hgs_lon"] = (ar["hgs_lon"] + 90.0 + 180.0) % 360.0 - 180.0
        ar["ar_number"] = ar["ar_number"] + 500
        ar.to_parquet(tables / "ar.parquet")
        ev = pd.read_parquet(tables / "events.parquet")
        ev["ar_number"] = 999
        ev.to_parquet(tables / "events.parquet")
    after = build_tables(root, models, config=config)
    scoring = {"truth_ar", "label", "disk_label"}
    cols = [c for c in before.ar.columns if c not in scoring]
    assert {"log_r", "area_msh", "hale", "mcintosh", "flare_index", "f107"} <= set(cols)
    pd.testing.assert_frame_equal(before.ar[cols], after.ar[cols])
    pd.testing.assert_frame_equal(before.disk, after.disk)
    # the check can fail: the truth's rewritten table is what truth_ar reads
    assert not before.ar["truth_ar"].equals(after.ar["truth_ar"]) or \
        (before.ar["truth_ar"] < 0).all()
