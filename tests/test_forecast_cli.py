"""`solarray train-fpnet` and `solarray forecast` end to end on tiny shards + feature tables."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from fpnet_helpers import ar_table, disk_table, toy_frames, write_shards

from solarray.cli import main
from solarray.models import build, load_model, save_model

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def toy_inputs(tmp_path_factory):
    root = tmp_path_factory.mktemp("fpnet_cli")
    fr = toy_frames({"train": 24, "val": 12, "test": 12})
    (root / "shards").mkdir()
    write_shards(fr, str(root / "shards"))
    disk_table(fr).to_csv(root / "disk.csv", index=False)
    ar_table(fr, per_frame=3).to_parquet(root / "ar.parquet", index=False)
    return root, fr


@pytest.mark.slow
def test_train_and_forecast_full_disk_ray_train(ray_session, toy_inputs, capsys):
    """Through Ray Train with one worker; the forecast command reproduces the test forecasts."""
    root, fr = toy_inputs
    out = root / "fd"
    assert main(["train-fpnet", "--data", str(root / "shards"), "--table", str(root / "disk.csv"),
                 "--mode", "full-disk", "--steps", "4", "--batch-size", "8", "--workers", "1",
                 "--torch-threads", "1",
                 "--image-size", "32", "--out", str(out), "--storage", str(root / "runs"),
                 "--run-name", "fd"]) == 0
    text = capsys.readouterr().out
    assert "ROCA" in text and "model.pt" in text
    report = json.loads((out / "report.json").read_text())
    assert report["examples"] == {"train": 24, "val": 12, "test": 12}
    assert set(report["test"]) >= {"tss", "hss", "bss", "roca", "tp"}
    model = load_model(out / "model.pt")
    assert model.config.mode == "full_disk" and model.config.calibration
    assert main(["forecast", "--checkpoint", str(out / "model.pt"), "--data",
                 str(root / "shards"), "--out", str(root / "fc_fd")]) == 0
    per = pd.read_csv(root / "fc_fd" / "per_sample.csv")
    assert len(per) == len(fr) and per["probability"].between(0, 1).all()
    test = pd.read_csv(out / "forecasts_test.csv")
    merged = test.merge(per, on="time", suffixes=("", "_cli"))
    assert len(merged) == 12
    assert (merged["probability"] - merged["probability_cli"]).abs().max() < 1e-6


def test_train_and_forecast_per_ar_in_process(ray_session, toy_inputs, capsys):
    root, fr = toy_inputs
    out = root / "ar"
    assert main(["train-fpnet", "--data", str(root / "shards"), "--table", str(root / "ar.parquet"),
                 "--mode", "ar", "--steps", "3", "--batch-size", "8", "--workers", "0",
                 "--image-size", "16", "--imbalance", "resample", "--calibration", "isotonic",
                 "--operating-point", "tss", "--out", str(out), "--storage", str(root / "runs"),
                 "--run-name", "ar"]) == 0
    capsys.readouterr()
    assert main(["forecast", "--checkpoint", str(out / "model.pt"), "--data",
                 str(root / "shards"), "--table", str(root / "ar.parquet"),
                 "--out", str(root / "fc_ar")]) == 0
    per_ar = pd.read_csv(root / "fc_ar" / "per_ar.csv")
    per_sample = pd.read_csv(root / "fc_ar" / "per_sample.csv")
    assert len(per_ar) == 3 * len(fr) and set(per_ar["ar"]) == {100, 101, 102}
    assert len(per_sample) == len(fr)
    # The disk probability combines the regions: 1 − Π(1 − p_i) ≥ max p_i.
    worst = per_ar.groupby("time")["probability"].max()
    assert (per_sample.set_index("time")["probability"] >= worst - 1e-9).all()
    assert main(["forecast", "--checkpoint", str(out / "model.pt"), "--data",
                 str(root / "shards"), "--out", str(root / "x")]) == 2
    assert "need --table" in capsys.readouterr().err


def test_cli_errors(ray_session, toy_inputs, tmp_path, capsys):
    root, _ = toy_inputs
    base = ["train-fpnet", "--data", str(root / "shards"), "--out", str(tmp_path / "o")]
    assert main(base[:2] + [str(tmp_path / "nope"), "--table", "t.csv", "--out", "o"]) == 2
    assert "no such directory" in capsys.readouterr().err
    assert main(base + ["--table", str(root / "disk.csv"), "--steps", "0"]) == 2
    assert "--steps must be" in capsys.readouterr().err
    assert main(base + ["--table", str(root / "disk.csv"), "--test-months", "13"]) == 2
    assert "--test-months" in capsys.readouterr().err
    assert main(base + ["--table", str(tmp_path / "missing.csv")]) == 2
    assert "not found" in capsys.readouterr().err
    assert main(base + ["--table", str(root / "disk.csv"), "--mode", "ar"]) == 2
    assert "per-AR" in capsys.readouterr().err
    assert main(base + ["--table", str(root / "disk.csv"), "--encoder", str(tmp_path / "x.pt")]) == 2
    with pytest.raises(SystemExit):  # argparse: --table and --synthetic are exclusive
        main(base + ["--table", "a.csv", "--synthetic", "b"])
    mae = build("mae_vit", preset="tiny", channels=("aia304", "hmi_m"), image_size=32)
    save_model(mae, tmp_path / "mae.pt")
    assert main(["forecast", "--checkpoint", str(tmp_path / "mae.pt"), "--data",
                 str(root / "shards"), "--out", str(tmp_path / "f")]) == 2
    assert "not fpnet" in capsys.readouterr().err
