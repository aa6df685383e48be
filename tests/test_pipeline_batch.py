"""Batch forecasting: the cycle over a shard directory (library and ``solarray cycle``)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from solarray.cli import main
from solarray.data.shard_reader import iter_rows, read_row, sample_ids
from solarray.data.shards import write_shard
from solarray.data.synthetic import SynthConfig, generate
from solarray.pipeline.batch import forecast_shards
from solarray.pipeline.cycle import run_cycle
from solarray.pipeline.flare_history import FlareHistory
from solarray.pipeline.inputs import InputConfig, sample_from_dataset, sample_from_fits
from solarray.pipeline.model_set import load_models

CHANNELS = ("aia193", "aia304", "hmi_m")
SIZE = 64


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    """Three synthetic time steps (30 min apart) as FITS, their tables, and one shard directory."""
    root = tmp_path_factory.mktemp("batch")
    synth = root / "synth"
    generate(SynthConfig(start="2024-01-01T00:00", hours=1, cadence_minutes=30, size=96, seed=5,
                         channels=CHANNELS, preview=False), synth)
    rows = []
    icfg = InputConfig(size=SIZE, min_pixels=32)
    for k in range(3):
        files = [(p.name, p.read_bytes()) for ch in CHANNELS
                 for p in [sorted((synth / "fits" / ch).glob("*.fits"))[k]]]
        s = sample_from_fits(files, icfg)
        meta = json.dumps({"preprocess": {"frame": 1.1}, "channels": {
            ch: {"header": v["header"]} for ch, v in s.source["files"].items()}})
        rows.append({"t_obs": s.t_obs, "sample_id": s.sample_id, "image": s.image,
                     "present": s.present, "meta": meta, "labels": {}})
    shards = root / "shards"
    shards.mkdir()
    write_shard(rows[::-1], str(shards), CHANNELS)  # stored newest first: the batch must sort
    return synth, shards, [r["sample_id"] for r in rows]


def test_batch_runs_the_service_cycle_on_every_sample_oldest_first(archive, tmp_path):
    synth, shards, ids = archive
    assert sample_ids(shards) == sorted(ids) and read_row(shards, ids[0]).image.shape[-1] == SIZE
    assert read_row(shards, "nope") is None
    models = load_models(checkpoint_dir=tmp_path)  # tiny untrained stand-ins
    history = FlareHistory.load(xrs=str(synth))
    seen = []
    results = list(forecast_shards(shards, models, history=history,
                                   progress=lambda i, n, r: seen.append((i, n))))
    assert [r.sample.sample_id for r in results] == sorted(ids)
    assert seen == [(1, 3), (2, 3), (3, 3)]
    # Each batch result is exactly what the service's dataset request gives for that sample.
    direct = sample_from_dataset(str(shards), ids[1], InputConfig(
        size=SIZE, min_pixels=32, dataset_roots=(str(shards),)))
    expect = run_cycle(direct, models, history=history).to_json()
    got = results[1].to_json()
    for body in (expect, got):
        for k in ("id", "timings_s", "map_url"):
            body.pop(k)
    assert got == expect
    newest = list(forecast_shards(shards, models, history=history, last=2))
    assert [r.sample.sample_id for r in newest] == sorted(ids)[-2:]
    with pytest.raises(ValueError, match="last"):
        next(forecast_shards(shards, models, last=0))
    with pytest.raises(KeyError, match="nope"):
        next(forecast_shards(shards, models, sample_ids=[ids[0], "nope"]))


def test_rows_stream_oldest_first_and_match_single_reads(archive):
    _, shards, ids = archive
    rows = list(iter_rows(shards, batch_rows=2))
    assert [r.sample_id for r in rows] == sorted(ids)
    one = read_row(shards, ids[2])
    streamed = next(r for r in rows if r.sample_id == ids[2])
    assert streamed.image.shape == (len(CHANNELS), SIZE, SIZE)
    assert np.array_equal(streamed.image, one.image, equal_nan=True) and streamed.t_obs == one.t_obs
    assert [r.sample_id for r in iter_rows(shards, wanted=[ids[1]])] == [ids[1]]


def test_cycle_command_writes_forecasts_regions_and_disk(archive, tmp_path, capsys):
    synth, shards, ids = archive
    out = tmp_path / "out"
    empty = tmp_path / "no_checkpoints"  # an existing directory without checkpoints: untrained
    empty.mkdir()
    code = main(["cycle", "--data", str(shards), "--out", str(out), "--checkpoint-dir",
                 str(empty), "--history", str(synth), "--last", "2"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "UNTRAINED" in printed and "[2/2]" in printed
    lines = (out / "forecasts.jsonl").read_text().splitlines()
    bodies = [json.loads(x) for x in lines]
    assert [b["sample_id"] for b in bodies] == sorted(ids)[-2:]
    disk = pd.read_csv(out / "disk.csv")
    assert list(disk["sample_id"]) == sorted(ids)[-2:]
    assert list(disk["n_regions"]) == [len(b["regions"]) for b in bodies]
    n_regions = sum(len(b["regions"]) for b in bodies)
    if n_regions:
        regions = pd.read_csv(out / "regions.csv")
        assert len(regions) == n_regions and {"sample_id", "number", "p_m24"} <= set(regions)


def test_cycle_command_bad_inputs_exit_2(tmp_path, capsys):
    assert main(["cycle", "--data", str(tmp_path / "missing"), "--out", str(tmp_path)]) == 2
    assert "--data" in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["cycle", "--data", str(empty), "--out", str(tmp_path)]) == 2
    assert "no shard" in capsys.readouterr().err
    assert not (tmp_path / "forecasts.jsonl").exists()


def test_batch_of_a_missing_directory_names_it(tmp_path):
    with pytest.raises(FileNotFoundError, match=str(tmp_path)):
        sample_ids(Path(tmp_path))
