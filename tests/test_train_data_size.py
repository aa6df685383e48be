"""Training runs on the data a user has: `solarray pretrain` and the shipped sweeps take the image
size (and channels) from ingest's shards — here 128², twice the `tiny` presets' 64 px — or refuse
in one line before Ray starts.

Every family that trains from shards is pretrained for 2 steps (in-process, Ray Train local mode,
so no worker start-up is paid per model); every shipped sweep's trial configuration, sized by the
sweep runner, trains 2 steps and reports the metric ASHA watches; `solarray tune` sizes (or
refuses) a sweep before Ray starts (the Tune machinery itself: tests/test_tune_run.py).
"""

from __future__ import annotations

import json
import math
from datetime import datetime, timedelta

import numpy as np
import pytest

from solarray.cli import main
from solarray.core.errors import UsageError
from solarray.models import list_models
from solarray.train.config import TrainConfig
from solarray.train.data_size import pinned_image_size, sized_model_config, with_image_size
from solarray.tune.space import SweepError, load_sweep, shipped_sweeps
from tests.spnet_helpers import CHANNELS, make_samples

SIZE = 128
TINY = {"preset": "tiny"}
#: Families trained from ingest's shards, each with a model config that can take 128 px (the AR
#: GAN's generator doubles a 4-px map once per width: five widths make 128 px).
FROM_SHARDS = {"solarchip_vit": TINY, "solarchip_cnn": TINY, "mae_vit": TINY, "vit_ae": TINY,
               "cnn_ae": TINY, "sigma_vae": TINY, "spnet": TINY, "pix2pix": TINY,
               "simsiam": TINY, "ar_gan": {"preset": "tiny", "widths": [32, 16, 16, 8, 8]}}
#: Families trained from their own tables, refused on shards before Ray starts.
OWN_TABLES = ("fpnet", "ar_classifier")


def _write_shards(out_dir, n_train: int = 16, n_val: int = 16, size: int = SIZE):
    """Ingest-layout shards at ``size``² with masks: ``n_train`` samples in February (training
    split), ``n_val`` in late March (validation split)."""
    from solarray.data.shards import write_shard

    data = make_samples(n_train + n_val, size, seed=3)
    times = [datetime(2024, 2, 5) + timedelta(hours=8 * i) for i in range(n_train)]
    times += [datetime(2024, 3, 10) + timedelta(hours=8 * i) for i in range(n_val)]
    rows = []
    for i, t in enumerate(times):
        sid = t.strftime("%Y-%m-%dT%H:%M:%S")
        rows.append({"t_obs": t, "sample_id": sid, "image": data["image"][i],
                     "present": np.ones(3, bool), "meta": json.dumps({"sample_id": sid}),
                     "masks": data["masks"][i], "labels": {}})
    out_dir.mkdir(parents=True, exist_ok=True)
    write_shard(rows[:n_train], str(out_dir), CHANNELS)
    write_shard(rows[n_train:], str(out_dir), CHANNELS)
    return out_dir


@pytest.fixture(scope="module")
def shards128(tmp_path_factory):
    return _write_shards(tmp_path_factory.mktemp("shards128") / "shards")


def test_size_goes_where_the_model_keeps_it():
    assert with_image_size("mae_vit", {"preset": "tiny"}, 128) == {"preset": "tiny",
                                                                   "image_size": 128}
    assert with_image_size("solarchip_vit", {"preset": "tiny"}, 128) == {
        "preset": "tiny", "backbone_config": {"image_size": 128}}
    assert pinned_image_size("solarchip_cnn", {"backbone_config": {"image_size": 96}}) == 96
    assert pinned_image_size("mae_vit", {"preset": "tiny"}) is None  # the preset's is not pinned
    # sized: the preset's 64 px is replaced by the data's; a pinned equal size is kept
    assert sized_model_config("mae_vit", {"preset": "tiny"}, 128, CHANNELS, "x")["image_size"] == 128
    assert sized_model_config("mae_vit", {"image_size": 128}, 128, CHANNELS, "x") == {
        "image_size": 128}
    assert sized_model_config("mae_vit", {"preset": "tiny"}, 0, CHANNELS, "x") == {
        "preset": "tiny"}  # unknown size: unchanged


def test_pinned_or_impossible_sizes_are_refused_in_one_line():
    with pytest.raises(UsageError) as err:
        sized_model_config("mae_vit", {"preset": "tiny", "image_size": 64}, 128, CHANNELS,
                           "the shards in D")
    msg = str(err.value)
    assert "64-px" in msg and "128-px" in msg and "the shards in D" in msg and "\n" not in msg
    with pytest.raises(UsageError) as err:  # the AR GAN's generator is built for one size
        sized_model_config("ar_gan", {"preset": "tiny"}, 128, ("hmi_m",), "the shards in D")
    assert "tiny 32 px" in str(err.value) and "paper 128 px" in str(err.value)
    with pytest.raises(UsageError, match="patch_size"):  # 100 px does not split into 8-px patches
        sized_model_config("vit_ae", {"preset": "tiny"}, 100, CHANNELS, "the shards in D")


def test_every_model_is_either_trained_from_shards_or_refused():
    assert set(FROM_SHARDS) | set(OWN_TABLES) | {"controlnet_translator"} == set(list_models())


@pytest.mark.timeout(600)
@pytest.mark.parametrize("model", sorted(FROM_SHARDS))
def test_pretrain_each_family_two_steps_on_128px_shards(ray_session, shards128, tmp_path, model):
    from solarray.train.pretraining import run_pretraining

    cfg = TrainConfig(model=model, model_config=dict(FROM_SHARDS[model]), steps=2,
                      batch_size=4, warmup_steps=0, report_every=1, checkpoint_every=2,
                      num_workers=0, run_name=model, storage_path=str(tmp_path))
    result = run_pretraining(cfg, data=str(shards128), log=lambda *_: None)
    assert result.final_step == 2
    losses = [v for k, v in result.metrics.items() if k.startswith("loss")]
    assert losses and all(math.isfinite(float(v)) for v in losses), result.metrics
    config = __import__("torch").load(result.checkpoint / "train_state.pt",
                                      weights_only=True)["config"]
    size = config["model_config"].get("image_size") or \
        config["model_config"]["backbone_config"]["image_size"]
    assert size == SIZE


@pytest.mark.parametrize("model", OWN_TABLES)
def test_models_of_other_tables_are_refused_before_ray(shards128, tmp_path, capsys, model):
    import ray

    started = ray.is_initialized()
    assert main(["pretrain", "--data", str(shards128), "--model", model, "--steps", "2",
                 "--workers", "0", "--storage", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"--model {model}" in err[0] and "trains on" in err[0], err
    assert ray.is_initialized() == started  # refused before Ray was joined or started


def test_a_pinned_size_is_refused_before_ray(shards128, tmp_path, capsys):
    assert main(["pretrain", "--data", str(shards128), "--model", "mae_vit", "--image-size", "64",
                 "--steps", "2", "--workers", "0", "--storage", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "64-px" in err and "128-px" in err


@pytest.mark.timeout(600)
@pytest.mark.parametrize("sweep_name", shipped_sweeps())
def test_each_shipped_sweep_trains_a_trial_on_128px_shards(ray_session, shards128, tmp_path,
                                                           sweep_name):
    """The runner sizes the sweep to the data; one trial configuration (an example point of the
    space) trains 2 steps as a one-worker trial does (in this process) and reports the metric
    ASHA watches."""
    from solarray.train.loop import fit_in_process
    from solarray.tune.runner import datasets_from_dir, first_image_size, sized_to_data
    from solarray.tune.trials import train_values, validate_sweep

    train, val, channels, _ = datasets_from_dir(shards128, log=lambda *_: None)
    assert first_image_size(train) == SIZE
    sweep = sized_to_data(load_sweep(sweep_name), first_image_size(train), channels)
    validate_sweep(sweep, channels)
    point = {p.path: p.example() for p in sweep.space}
    values = train_values(sweep, point, channels=channels, num_workers=1, steps=2,
                          report_every=1, checkpoint_every=2, batch_size=4, val_batches=1,
                          warmup_steps=0, run_name="trial", storage_path=str(tmp_path))
    reports = []
    result = fit_in_process(TrainConfig.from_dict(values), train, val_ds=val,
                            report=reports.append)
    assert result.final_step == 2
    assert math.isfinite(float(result.metrics[sweep.metric])), result.metrics
    assert [r["step"] for r in reports] == [1, 2]  # every report reaches Tune's report function


def test_a_sweep_whose_trials_all_failed_ends_quoting_their_error():
    import pandas as pd

    from solarray.tune.experiment import TuneRun, resolve
    from solarray.tune.results import best_config

    resolved = resolve(load_sweep("masking"), TuneRun(storage_path="/tmp/x"))
    table = pd.DataFrame([{"trial_id": "a", "status": "ERROR", "val_loss": math.nan,
                           "steps": 0, "error": "ValueError: mae_vit expects 64 px"}])
    with pytest.raises(SweepError) as err:
        best_config(table, resolved, CHANNELS)
    assert "1 of 1 trial(s) failed: ValueError: mae_vit expects 64 px" in str(err.value)


def test_a_sweep_pinning_another_size_is_refused():
    from solarray.tune.runner import sized_to_data

    sweep = load_sweep("masking")
    pinned = type(sweep)(**{**sweep.__dict__, "base": {
        **sweep.base, "model_config": {"preset": "tiny", "image_size": 64}}})
    with pytest.raises(SweepError, match="64-px.*128-px"):
        sized_to_data(pinned, SIZE, CHANNELS)


def test_tune_command_sizes_the_sweep_before_ray(shards128, tmp_path, capsys):
    """The command sizes the shipped sweep to the shards before Ray starts: a sweep file that
    pins 64 px is refused in one line on 128² shards, with no Ray instance started."""
    import ray
    import yaml

    sweep = load_sweep("masking").to_dict()
    sweep["base"]["model_config"] = {"preset": "tiny", "image_size": 64}
    path = tmp_path / "pinned.yaml"
    path.write_text(yaml.safe_dump(sweep))
    started = ray.is_initialized()
    assert main(["tune", "--sweep", str(path), "--data", str(shards128), "--samples", "1",
                 "--steps", "2", "--storage", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "64-px" in err[0] and "128-px" in err[0], err
    assert ray.is_initialized() == started
