"""A tiny real sweep: Tune + ASHA over Ray Train runs of the generic loop, interrupted and resumed,
with the ranked results and the best config round-tripped into `solarray pretrain --config`."""

from __future__ import annotations

import argparse
import json
import math
import os
import signal

import pytest

CH = ("aia171", "aia193", "hmi_m")
SMALL = {"preset": "tiny", "backbone_config": {"image_size": 32, "patch_size": 8,
                                               "embed_dim": 32, "decoder_dim": 32}}
STEPS = 12


def interrupt_at_first_result():
    """A Tune callback (driver side) sending SIGUSR1 — Tune's graceful stop, like Ctrl+C — at the
    first reported result, i.e. while the first trial is still training."""
    from ray import tune

    class InterruptAtFirstResult(tune.Callback):
        fired_at = None

        def on_trial_result(self, iteration, trials, trial, result, **info):
            if self.fired_at is None:
                self.fired_at = (trial.trial_id, result["step"])
                os.kill(os.getpid(), signal.SIGUSR1)

    return InterruptAtFirstResult()


def _wait_for_free_cpus(ray, cpus: float = 1.99, timeout: float = 90.0) -> None:
    """Stopped trials' Train workers and placement groups go away (Ray tears killed actors down
    asynchronously, so poll) — a leaked group would hold its CPU for the rest of the session."""
    import time

    from ray.util.placement_group import placement_group_table

    t0 = time.monotonic()
    while ray.available_resources().get("CPU", 0) < cpus:
        if time.monotonic() - t0 > timeout:
            live = {k: (v["state"], v["bundles"]) for k, v in placement_group_table().items()
                    if v["state"] != "REMOVED"}
            raise AssertionError(f"CPUs still held after {timeout} s: "
                                 f"{ray.available_resources()}; placement groups {live}")
        time.sleep(0.5)


def _tiny_sweep():
    from solarray.tune.space import parse_sweep

    return parse_sweep({
        "name": "tiny", "model": "solarchip_vit", "objective": "solarchip",
        "metric": "val_retrieval_mrr", "mode": "max",
        "space": {"objective_config.temperature": {"grid": [0.05, 0.5]}},
        "base": {"model_config": SMALL, "steps": STEPS, "batch_size": 16, "report_every": 4,
                 "checkpoint_every": 4, "warmup_steps": 2, "num_to_keep": 1, "torch_threads": 1,
                 "val_batches": 2},
        "asha": {"grace_period": 4, "reduction_factor": 2},
    }, source="tiny.yaml")


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_sweep_interrupt_resume_results_and_best_config(ray_session, tmp_path):
    from solarray.commands import pretrain
    from solarray.data.synthetic.toy import toy_dataset
    from solarray.train.config import TrainConfig
    from solarray.tune.experiment import TuneRun
    from solarray.tune.runner import SweepInterrupted, run_sweep
    from solarray.tune.space import SweepError

    train = toy_dataset(64, CH, size=32, seed=1).materialize()
    val = toy_dataset(32, CH, size=32, seed=2).materialize()
    sweep = _tiny_sweep()
    run = TuneRun(name="tiny", storage_path=str(tmp_path), verbose=0)
    interrupt = interrupt_at_first_result()
    with pytest.raises(SweepInterrupted, match="--resume"):
        run_sweep(sweep, run, train, val, CH, tune_callbacks=[interrupt], log=lambda *_: None)
    first_trial, interrupted_step = interrupt.fired_at
    assert interrupted_step == 4
    exp = tmp_path / "tiny"
    assert (exp / "sweep.json").exists() and not (exp / "results").exists()
    # the interrupted trial's Train run kept its checkpoint; nothing holds CPUs any more
    assert any((exp / "train" / first_trial).glob("checkpoint_*"))
    _wait_for_free_cpus(ray_session)

    with pytest.raises(SweepError, match="already exists.*--resume"):
        run_sweep(sweep, run, train, val, CH, log=lambda *_: None)
    with pytest.raises(SweepError, match="different steps"):
        run_sweep(sweep, TuneRun(name="tiny", storage_path=str(tmp_path), steps=8, resume=True),
                  train, val, CH, log=lambda *_: None)

    resumed = TuneRun(name="tiny", storage_path=str(tmp_path), resume=True, verbose=0)
    out = run_sweep(sweep, resumed, train, val, CH, log=lambda *_: None)
    assert out.resumed
    table = out.table
    print(table.to_string())
    assert len(table) == 2 and set(table["status"]) == {"TERMINATED"}
    assert sorted(table["objective_config.temperature"]) == [0.05, 0.5]
    # the interrupted trial resumed its Train run from the checkpoint instead of restarting:
    # its metrics log has each reported step once, up to the end
    steps = [json.loads(s)["step"] for s in
             (exp / "train" / first_trial / "metrics.jsonl").read_text().splitlines()]
    assert steps == sorted(set(steps)) and steps[0] == 4 and steps[-1] == STEPS
    first = table.set_index("trial_id").loc[first_trial]
    assert first["steps"] == STEPS and not first["stopped_early"]
    # ranked best first: by steps reached, then the validation metric; ASHA steps counted
    assert all(math.isfinite(v) and 0 < v <= 1 for v in table["val_retrieval_mrr"])
    keys = list(zip(-table["steps"], -table["val_retrieval_mrr"], strict=True))
    assert keys == sorted(keys) and table["rank"].tolist() == [1, 2]
    assert all(s in (4, 8, STEPS) for s in table["steps"])
    summary = json.loads(out.files["summary"].read_text())
    assert summary["trial_steps_run"] == int(table["steps"].sum())
    assert summary["trial_steps_saved"] == 2 * STEPS - summary["trial_steps_run"]
    for key in ("csv", "parquet", "plot", "best_yaml", "best_json"):
        assert out.files[key].exists() and out.files[key].parent == exp / "results"
    import pandas as pd

    assert pd.read_parquet(out.files["parquet"])["trial_id"].tolist() == table["trial_id"].tolist()
    _wait_for_free_cpus(ray_session)

    # best config → `solarray pretrain --config`: the same TrainConfig as the best trial's
    best_tau = float(table["objective_config.temperature"].iloc[0])
    parser = argparse.ArgumentParser()
    pretrain.add_arguments(parser)
    args = parser.parse_args(["--data", str(tmp_path), "--config", str(out.files["best_yaml"])])
    cfg = pretrain.build_config(args)
    assert cfg.objective_config == {"temperature": best_tau}
    assert cfg.model == "solarchip_vit" and cfg.model_config == SMALL and cfg.steps == STEPS
    assert cfg.run_name == "tiny-best" and cfg.num_workers == 1
    trial_state = TrainConfig.from_dict(
        __import__("torch").load(next((exp / "train" / table["trial_id"].iloc[0])
                                      .glob("checkpoint_*")) / "train_state.pt",
                                 weights_only=True)["config"])
    assert cfg == trial_state.replace(run_name="tiny-best", storage_path=cfg.storage_path,
                                      channels=())
    # and the command trains with it (2 steps in-process on toy samples)
    args = parser.parse_args(["--toy", "32", "--config", str(out.files["best_yaml"]), "--steps",
                              "2", "--workers", "0", "--storage", str(tmp_path / "pretrain")])
    result = pretrain.execute(args)
    assert result.final_step == 2 and result.run_dir == tmp_path / "pretrain" / "tiny-best"


def test_one_worker_trials_train_in_their_actor_and_several_in_a_train_run():
    from solarray.tune.experiment import TuneRun, resolve
    from solarray.tune.runner import DRIVER_RESOURCES, runs_in_trial, trial_resources

    one = resolve(_tiny_sweep(), TuneRun(name="t", storage_path="/x", trial_workers=1,
                                         cpus_per_worker=0.5))
    assert runs_in_trial(1) and trial_resources(one) == {"cpu": 0.5, "gpu": 0}
    two = resolve(_tiny_sweep(), TuneRun(name="t", storage_path="/x", trial_workers=2))
    assert not runs_in_trial(2) and trial_resources(two) == DRIVER_RESOURCES


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_a_two_worker_trial_is_a_ray_train_run(ray_session, tmp_path):
    """Trials with several workers run a Ray Train TorchTrainer each (its own worker group and
    checkpoints), reporting every step to Tune."""
    from solarray.data.synthetic.toy import toy_dataset
    from solarray.tune.experiment import TuneRun
    from solarray.tune.runner import run_sweep
    from solarray.tune.space import parse_sweep

    raw = _tiny_sweep().to_dict()
    raw["space"] = {"objective_config.temperature": {"grid": [0.1]}}
    raw["base"].update(steps=4, report_every=2, checkpoint_every=4, batch_size=8)
    sweep = parse_sweep(raw, source="two_workers.yaml")
    train = toy_dataset(32, CH, size=32, seed=1).materialize()
    val = toy_dataset(16, CH, size=32, seed=2).materialize()
    run = TuneRun(name="two", storage_path=str(tmp_path), verbose=0, trial_workers=2,
                  cpus_per_worker=0.5)
    out = run_sweep(sweep, run, train, val, CH, log=lambda *_: None)
    row = out.table.iloc[0]
    assert row["status"] == "TERMINATED" and row["steps"] == 4
    run_dir = tmp_path / "two" / "train" / row["trial_id"]
    assert any(run_dir.glob("checkpoint_*"))  # Ray Train's checkpoint, in the trial's run
    reports = [json.loads(s) for s in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in reports] == [2, 4] and reports[-1]["samples_per_s"] > 0
    _wait_for_free_cpus(ray_session)
