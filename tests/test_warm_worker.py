"""The warm trainer: when a one-worker run goes to it, and the actor's run protocol (reports,
result, busy, stop, a vanished command) exercised on the class itself in the test Ray session.
The real path — a second ``ray job submit`` of ``pretrain`` reusing the first's trainer — is in
tests/test_jobs_submit.py (rehearsal tier)."""

from __future__ import annotations

import json

import pytest

from solarray.core.ray_connect import joined_running_cluster
from solarray.data.synthetic.toy import toy_dataset
from solarray.train import warm_worker
from solarray.train.config import TrainConfig
from solarray.train.warm_worker import (
    RunStopped,
    WarmTrainer,
    actor_name,
    code_fingerprint,
    progress_line,
    warm_worker_applies,
)


def _cfg(tmp_path, **kw) -> TrainConfig:
    base = {"model": "solarchip_vit",
            "model_config": {"preset": "tiny", "backbone_config": {"image_size": 32}},
            "channels": ("aia171", "hmi_m"), "steps": 3, "batch_size": 4, "report_every": 1,
            "checkpoint_every": 3, "run_name": "warm", "storage_path": str(tmp_path / "runs")}
    return TrainConfig(**{**base, **kw})


@pytest.mark.parametrize("change, nodes, joined, why", [
    ({}, 1, True, ""),
    ({"reuse_worker": False}, 1, True, "reuse_worker is off"),
    ({"num_workers": 2}, 1, True, "2 workers"),
    ({"num_workers": 0}, 1, True, "0 workers"),
    ({}, 2, True, "2 nodes"),
    ({"max_failures": 1}, 1, True, "max_failures > 0"),
    ({"storage_path": "s3://bucket/runs"}, 1, True, "not a filesystem path"),
    ({}, 1, False, "started its own Ray"),
])
def test_when_a_run_goes_to_the_warm_trainer(tmp_path, change, nodes, joined, why):
    ok, reason = warm_worker_applies(_cfg(tmp_path, **change), nodes, joined)
    assert ok == (why == "")
    assert why in reason


def test_the_trainer_name_changes_with_code_resources_and_environment(tmp_path):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "a.py").write_text("x = 1\n")
    before = code_fingerprint(pkg)
    assert code_fingerprint(pkg) == before
    assert code_fingerprint(pkg, {"pip": ["astropy"]}) != before
    (pkg / "a.py").write_text("x = 22\n")
    assert code_fingerprint(pkg) != before
    cfg = _cfg(tmp_path)
    name = actor_name(cfg, "ab" * 28, "f1")
    assert name.startswith(warm_worker.ACTOR_PREFIX + "f1-abababababab-1cpu-0gpu")
    assert actor_name(cfg.replace(cpus_per_worker=0.5), "ab" * 28, "f1") != name
    assert actor_name(cfg.replace(use_gpu=True), "ab" * 28, "f1").endswith("1gpu")


def test_progress_line_shows_losses():
    line = progress_line({"step": 4, "loss": 0.5, "loss_rec": 0.25, "lr": 1e-3, "note": "x"}, 10)
    assert line == "step 4/10: loss 0.5, loss_rec 0.25"


def test_the_test_session_started_its_own_ray(ray_session):
    assert not joined_running_cluster()  # so pretrain in tests never leaves a warm trainer


def _trainer() -> WarmTrainer:
    return WarmTrainer(idle_s=3600.0)


def test_a_run_yields_its_reports_then_its_result(ray_session, tmp_path):
    cfg = _cfg(tmp_path)
    ds = toy_dataset(16, cfg.channels, size=32)
    items = list(_trainer().fit(cfg.to_dict(), ds))
    kinds = [k for k, _ in items]
    assert kinds == ["report"] * 3 + ["result"]
    assert [m["step"] for k, m in items if k == "report"] == [1, 2, 3]
    result = items[-1][1]
    assert result.final_step == 3 and (result.checkpoint / "model.pt").exists()
    lines = (cfg.run_dir / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(s)["step"] for s in lines] == [1, 2, 3]


def test_a_busy_trainer_says_so_and_a_second_run_reuses_it(ray_session, tmp_path):
    trainer = _trainer()
    cfg = _cfg(tmp_path, steps=1)
    ds = toy_dataset(8, cfg.channels, size=32)
    trainer._run_lock.acquire()  # another run holds it
    assert list(trainer.fit(cfg.to_dict(), ds)) == [("busy", None)]
    trainer._run_lock.release()
    assert list(trainer.fit(cfg.to_dict(), ds))[-1][0] == "result"
    again = cfg.replace(run_name="warm2")
    assert list(trainer.fit(again.to_dict(), ds))[-1][1].final_step == 1


def test_stop_ends_the_run_at_its_next_report_and_frees_the_trainer(ray_session, tmp_path):
    trainer = _trainer()
    cfg = _cfg(tmp_path, steps=50)
    run = trainer.fit(cfg.to_dict(), toy_dataset(16, cfg.channels, size=32))
    assert next(run)[0] == "report"
    trainer.stop()
    with pytest.raises(RunStopped, match="stopped by its command"):
        list(run)
    assert not trainer._run_lock.locked()
    first = json.loads((cfg.run_dir / "metrics.jsonl").read_text().splitlines()[0])
    assert first["step"] == 1


def test_a_run_whose_command_is_gone_stops(ray_session, tmp_path, monkeypatch):
    monkeypatch.setattr(warm_worker, "HEARTBEAT_TIMEOUT_S", -1.0)
    cfg = _cfg(tmp_path, steps=50)
    with pytest.raises(RunStopped, match="no heartbeat"):
        list(_trainer().fit(cfg.to_dict(), toy_dataset(16, cfg.channels, size=32)))
