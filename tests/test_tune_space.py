"""Sweep definitions: parsing, errors naming the field, Tune domains, paths, best-config export."""

from __future__ import annotations

import argparse
import json

import pytest
import yaml

from solarray.tune.space import (
    Param,
    SweepError,
    SweepUnavailable,
    load_sweep,
    param_space,
    parse_sweep,
    shipped_sweeps,
)
from solarray.tune.trials import apply_params, check_available, train_values, validate_sweep

CH = ("aia171", "aia193", "hmi_m")


def minimal(**changes):
    values = {"name": "s", "model": "solarchip_vit", "objective": "solarchip",
              "metric": "val_retrieval_mrr", "mode": "max",
              "space": {"objective_config.temperature": {"choice": [0.1, 0.2]}}}
    values.update(changes)
    return values


def test_shipped_sweeps_parse():
    assert set(shipped_sweeps()) >= {"contrastive_weights", "masking", "spnet_class_weights"}
    cw = load_sweep("contrastive_weights")
    assert cw.model == "solarchip_vit" and cw.objective == "solarchip" and cw.mode == "max"
    assert cw.param_paths == ["objective_config.lambda_global", "objective_config.lambda_local",
                              "objective_config.lambda_intra", "objective_config.temperature"]
    assert [p.kind for p in cw.space] == ["loguniform", "loguniform", "loguniform", "choice"]
    assert cw.steps == 200 and cw.asha.grace(cw.steps) == 40 and cw.asha.reduction_factor == 2
    masking = load_sweep("masking")
    assert masking.model == "mae_vit" and "model_config.masking.ratio" in masking.param_paths
    assert next(p for p in masking.space if p.path.endswith("strategy")).values == \
        ["random", "ppam", "latitude"]
    spnet = load_sweep("spnet_class_weights")
    assert spnet.objective == "spnet" and spnet.metric == "val_dice" and len(spnet.space) == 3
    assert apply_params(spnet.base, {p.path: 9.0 for p in spnet.space[:1]})[
        "objective_config"]["fg_weights"] == [9.0, 4.0, 2.0]
    # the file form round-trips through parse_sweep
    assert parse_sweep(cw.to_dict(), source=cw.source) == cw
    # the contrastive sweep's objective and model exist here: its trial configs validate
    check_available(cw)
    validate_sweep(cw, CH)


def test_ray_tune_domains():
    from ray import tune
    from ray.tune.search.sample import Categorical, Float, Integer

    s = parse_sweep(minimal(space={
        "lr": {"loguniform": [1e-4, 1e-2]},
        "objective_config.lambda_global": {"uniform": [0.5, 2]},
        "objective_config.local_max_patches": {"randint": [4, 17]},
        "objective_config.temperature": {"choice": [0.05, 0.1]},
        "batch_size": {"grid": [8, 16]},
    }))
    space = param_space(s)
    assert isinstance(space["lr"], Float) and space["lr"].lower == 1e-4
    assert isinstance(space["lr"].get_sampler(), tune.search.sample.Float._LogUniform)
    assert isinstance(space["objective_config.lambda_global"], Float)
    assert isinstance(space["objective_config.local_max_patches"], Integer)
    assert space["objective_config.local_max_patches"].upper == 17
    assert isinstance(space["objective_config.temperature"], Categorical)
    assert space["batch_size"] == {"grid_search": [8, 16]}
    for _ in range(20):
        v = space["lr"].sample()
        assert 1e-4 <= v <= 1e-2
        assert 4 <= space["objective_config.local_max_patches"].sample() < 17
    assert Param("x", "loguniform", (1.0, 100.0)).example() == pytest.approx(10.0)


@pytest.mark.parametrize("changes, message", [
    ({"space": {"objective_config.temperature": {"loguniform": [0, 1]}}},
     r"space\.objective_config\.temperature: loguniform needs 0 < low"),
    ({"space": {"lr": {"uniform": [2, 1]}}}, r"space\.lr: uniform needs low < high"),
    ({"space": {"lr": {"uniform": [1]}}}, r"space\.lr: uniform needs \[low, high\]"),
    ({"space": {"lr": {"uniform": ["a", 1]}}}, r"space\.lr\.uniform: expected a number"),
    ({"space": {"lr": {"gaussian": [0, 1]}}}, r"space\.lr: unknown domain 'gaussian'"),
    ({"space": {"lr": {"choice": []}}}, r"space\.lr: choice needs a non-empty list"),
    ({"space": {"lr": 0.1}}, r"space\.lr: expected one of"),
    ({"space": {"batch_size": {"randint": [1.5, 4]}}}, r"randint needs integer bounds"),
    ({"space": {"lrr": {"choice": [1]}}}, r"space\.lrr: 'lrr' is not a TrainConfig field"),
    ({"space": {"run_name": {"choice": ["a"]}}}, r"space\.run_name: run_name is set by the tuner"),
    ({"space": {"lr.x": {"choice": [1]}}}, r"only model_config and objective_config"),
    ({"space": {}}, r"space must be a non-empty mapping"),
    ({"mode": "maximise"}, r"mode must be 'min' or 'max'"),
    ({"samples": 0}, r"samples must be an integer >= 1"),
    ({"score": "loss"}, r"score must be one of"),
    ({"metrik": "x"}, r"unknown sweep key\(s\) metrik"),
    ({"base": {"stepz": 3}}, r"base: unknown training config key\(s\) stepz"),
    ({"base": {"steps": 0}}, r"steps must be a positive integer"),
    ({"base": {"channels": ["aia171"]}}, r"base\.channels is set by the tuner"),
    ({"asha": {"grace_period": -1}}, r"asha\.grace_period must be an integer >= 0"),
    ({"asha": {"reduction_factor": 1}}, r"asha\.reduction_factor must be > 1"),
    ({"asha": {"brackets": 2}}, r"asha takes grace_period and reduction_factor"),
    ({"resources": {"gpus": 1}}, r"resources takes cpus_per_worker, trial_workers, use_gpu"),
    ({"resources": {"trial_workers": 0}}, r"resources\.trial_workers must be an integer >= 1"),
])
def test_parse_errors_name_the_file_and_field(changes, message):
    with pytest.raises(SweepError, match=r"my\.yaml: .*" + message):
        parse_sweep(minimal(**changes), source="my.yaml")


def test_missing_keys_and_files(tmp_path):
    values = minimal()
    del values["metric"]
    with pytest.raises(SweepError, match="x.yaml: missing required key 'metric'"):
        parse_sweep(values, source="x.yaml")
    with pytest.raises(SweepError, match="unknown sweep 'nope'; shipped sweeps: contrastive_w"):
        load_sweep("nope")
    with pytest.raises(SweepError, match="sweep file not found"):
        load_sweep(tmp_path / "absent.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed\n")
    with pytest.raises(SweepError, match="bad.yaml: cannot parse"):
        load_sweep(bad)
    good = tmp_path / "mine.yaml"
    good.write_text(yaml.safe_dump(minimal(name="mine")))
    assert load_sweep(str(good)).name == "mine"
    (tmp_path / "mine.json").write_text(json.dumps(minimal(name="j")))
    assert load_sweep(tmp_path / "mine.json").name == "j"


def test_apply_params_nested_paths_do_not_touch_the_base():
    base = {"model_config": {"preset": "tiny"}, "steps": 10}
    out = apply_params(base, {"model_config.masking.ratio": 0.6, "lr": 0.01,
                              "objective_config.class_weights.ar": 6.0})
    assert out == {"model_config": {"preset": "tiny", "masking": {"ratio": 0.6}}, "steps": 10,
                   "lr": 0.01, "objective_config": {"class_weights": {"ar": 6.0}}}
    assert base == {"model_config": {"preset": "tiny"}, "steps": 10}
    with pytest.raises(SweepError, match="model_config.preset is str, not a mapping"):
        apply_params(base, {"model_config.preset.x": 1})
    # numeric parts index lists given in the base (SPNet's per-class fg_weights)
    base = {"objective_config": {"fg_weights": [6.0, 4.0, 2.0]}}
    out = apply_params(base, {"objective_config.fg_weights.2": 3.5})
    assert out["objective_config"]["fg_weights"] == [6.0, 4.0, 3.5]
    assert base["objective_config"]["fg_weights"] == [6.0, 4.0, 2.0]
    with pytest.raises(SweepError, match="'3' is not an index of a list of 3"):
        apply_params(base, {"objective_config.fg_weights.3": 1.0})


def test_unregistered_objective_is_unavailable_not_invalid():
    for name in ("masking", "spnet_class_weights"):
        sweep = load_sweep(name)  # defined and parsed now ...
        from solarray.train.objectives import list_objectives

        if sweep.objective in list_objectives():
            validate_sweep(sweep, ("aia171", "aia304", "hmi_m"))
            continue
        with pytest.raises(SweepUnavailable, match=f"needs .*objective '{sweep.objective}'"):
            check_available(sweep)  # ... but only runs when its objective is registered


def test_validate_catches_wrong_parameter_names():
    s = parse_sweep(minimal(space={"objective_config.lambda_glob": {"choice": [1.0]}}),
                    source="w.yaml")
    with pytest.raises(SweepError, match=r"w.yaml: a trial config is invalid "
                                         r"\(objective_config.lambda_glob=1.0\).*lambda_glob"):
        validate_sweep(s, CH)
    s = parse_sweep(minimal(space={"model_config.proj_dimm": {"choice": [8]}}), source="m.yaml")
    with pytest.raises(SweepError, match=r"m.yaml: a trial config is invalid.*proj_dimm"):
        validate_sweep(s, CH)
    # every value of a finite domain is checked, not only the first
    s = parse_sweep(minimal(space={"objective_config.temperature": {"grid": [0.1, -1.0]}}),
                    source="t.yaml")
    with pytest.raises(SweepError, match=r"temperature=-1.0.*temperature must be > 0"):
        validate_sweep(s, CH)


def _resolved(tmp_path, sweep):
    from solarray.tune.experiment import TuneRun, resolve

    return resolve(sweep, TuneRun(name="exp", storage_path=str(tmp_path), steps=12,
                                  trial_workers=1))


def test_best_config_file_round_trips_into_pretrain(tmp_path):
    """The exporter picks the top-ranked trial and writes keys `solarray pretrain --config` reads
    into the same TrainConfig (channels from the data, run name/storage from the command)."""
    import pandas as pd

    from solarray.commands import pretrain
    from solarray.train.config import TrainConfig
    from solarray.tune.results import best_config, rank, write_results

    sweep = load_sweep("contrastive_weights")
    resolved = _resolved(tmp_path, sweep)
    rows = []
    for i, (tau, mrr, steps) in enumerate([(0.05, 0.31, 12), (0.2, 0.52, 12), (0.5, 0.60, 3),
                                           (0.1, 0.55, 6), (0.3, float("nan"), 12)]):
        rows.append({"trial_id": f"t{i}", "status": "TERMINATED",
                     "objective_config.lambda_global": 1.0 + i,
                     "objective_config.lambda_local": 0.5, "objective_config.lambda_intra": 0.1,
                     "objective_config.temperature": tau, "val_retrieval_mrr": mrr,
                     "steps": steps, "stopped_early": steps < 12, "time_s": 1.0, "checkpoint": "", "error": ""})
    table = rank(pd.DataFrame(rows), resolved)
    # equal training first (ASHA-stopped trials below those that went further), then the metric
    assert table["trial_id"].tolist() == ["t1", "t0", "t4", "t3", "t2"]
    assert table["rank"].tolist() == [1, 2, 3, 4, 5]
    best = best_config(table, resolved, CH)
    files = write_results(table, resolved, best)
    assert (tmp_path / "exp" / "results" / "trials.csv").exists() and files["plot"].stat().st_size
    assert json.loads(files["summary"].read_text())["trial_steps_saved"] == 9 + 6
    expected = TrainConfig.from_dict(train_values(
        sweep, {"objective_config.lambda_global": 2.0, "objective_config.lambda_local": 0.5,
                "objective_config.lambda_intra": 0.1, "objective_config.temperature": 0.2},
        steps=12, num_workers=1, cpus_per_worker=1.0, use_gpu=False, run_name="exp-best"))
    for key in ("best_yaml", "best_json"):
        parser = argparse.ArgumentParser()
        pretrain.add_arguments(parser)
        args = parser.parse_args(["--data", str(tmp_path), "--config", str(files[key])])
        cfg = pretrain.build_config(args)
        assert cfg == expected.replace(storage_path=cfg.storage_path), key
        assert cfg.objective_config["temperature"] == 0.2 and cfg.steps == 12


@pytest.mark.parametrize("argv, message", [
    (["--sweep", "nope"], r"--sweep: unknown sweep 'nope'; shipped sweeps"),
    (["--sweep", "contrastive_weights", "--samples", "0"], r"--samples must be an integer >= 1"),
    (["--sweep", "contrastive_weights", "--max-concurrent", "0"], r"--max-concurrent must be"),
    (["--sweep", "contrastive_weights", "--cpus-per-worker", "0"], r"--cpus-per-worker must be"),
    (["--sweep", "contrastive_weights", "--name", "a/b"], r"--name must be a plain name"),
])
def test_cli_usage_errors(tmp_path, capsys, argv, message):
    import re

    from solarray.cli import main

    assert main(["tune", "--data", str(tmp_path), *argv]) == 2
    assert re.search(r"solarray tune: error: " + message, capsys.readouterr().err)


def test_cli_unavailable_sweep_and_missing_data(tmp_path, capsys):
    from solarray.cli import main
    from solarray.train.objectives import list_objectives

    assert main(["tune", "--sweep", "contrastive_weights", "--data", str(tmp_path / "no")]) == 2
    assert "--data: no such directory" in capsys.readouterr().err
    if "spnet" not in list_objectives():
        assert main(["tune", "--sweep", "spnet_class_weights", "--data", str(tmp_path)]) == 2
        assert "needs model 'spnet'" in capsys.readouterr().err


def test_downstream_probe_scores_a_checkpoint(tmp_path):
    """The probe loads a checkpoint, embeds class tokens and returns a TSS in [-1, 1]; a probe
    set without both classes is refused."""
    import numpy as np
    import torch

    from solarray.data.synthetic.toy import toy_samples
    from solarray.models import save_model
    from solarray.train.objectives import get_objective
    from solarray.tune.downstream import ProbeData, class_token_features, probe_score

    small = {"preset": "tiny", "backbone_config": {"image_size": 32, "patch_size": 8,
                                                   "embed_dim": 32, "decoder_dim": 32}}
    torch.manual_seed(0)
    model = get_objective("solarchip").build_model("solarchip_vit", small, CH)
    ckpt = tmp_path / "checkpoint_00000004"
    ckpt.mkdir()
    save_model(model, ckpt / "model.pt")
    tr, te = toy_samples(96, CH, size=32, seed=1), toy_samples(64, CH, size=32, seed=2)
    probe = ProbeData(tr["image"], tr["flare_m24"], te["image"], te["flare_m24"])
    feats = class_token_features(model, te["image"][:5])
    assert feats.shape == (5, 2 * 32)  # cls_aia + cls_hmi
    score = probe_score(ckpt, probe)
    assert -1.0 <= score <= 1.0 and np.isfinite(score)
    with pytest.raises(ValueError, match="probe test: labels need both classes"):
        ProbeData(tr["image"], tr["flare_m24"], te["image"], np.zeros(64, int))


def test_sweeps_start_one_way():
    """A sweep is data (``solarray/tune/sweeps/<name>.yaml``), started only by ``solarray tune``
    / ``python -m jobs.tune``: no per-sweep launcher modules; tune/README.md and the command's
    ``--help`` list every shipped sweep."""
    from pathlib import Path

    from solarray.commands import tune as tune_command

    repo = Path(__file__).resolve().parents[1]
    assert not list((repo / "tune").glob("*.py"))
    readme = (repo / "tune" / "README.md").read_text()
    parser = argparse.ArgumentParser()
    tune_command.add_arguments(parser)
    text = parser.format_help()
    for name in shipped_sweeps():
        assert f"`{name}`" in readme and name in text
    assert "python -m jobs.tune --sweep" in readme
