"""`solarray pretrain` / `solarray embed` end to end on Ray Train with 2 workers, a worker failure,
a resumed second run and embedding export.

The commands read shards through ``solarray.data.dataset`` (read_shards, channels_of,
split_by_time, to_training). This test installs a minimal stand-in with that API over Parquet
files it writes, so it checks the training side without depending on ingest's on-disk layout.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from solarray.cli import main

CH = ("aia171", "aia304", "hmi_m")


def _write_shards(data_dir: Path, n: int) -> None:
    import ray.data

    from solarray.data.synthetic.toy import toy_samples

    cols = toy_samples(n, CH, size=32, seed=5)
    rows = [{"t_obs": cols["t_obs"][i].astype("datetime64[us]").item(),
             "sample_id": str(cols["sample_id"][i]), "image": cols["image"][i],
             "present": cols["present"][i], "flare_m24": int(cols["flare_m24"][i])}
            for i in range(n)]
    ray.data.from_items(rows, override_num_blocks=2).write_parquet(str(data_dir / "shards"))
    (data_dir / "channels.json").write_text(json.dumps(list(CH)))


def _install_data_api(monkeypatch) -> None:
    """Swap the four functions of :mod:`solarray.data.dataset` the commands use (patched on the
    module, so every ``from solarray.data import dataset`` importer sees the stand-ins)."""
    import ray.data

    from solarray.data import dataset as api

    # ``d``: a directory, or the ShardSet the command's checks opened (its ``path``)
    monkeypatch.setattr(api, "read_shards", lambda d: ray.data.read_parquet(
        str(Path(getattr(d, "path", d)) / "shards")))
    monkeypatch.setattr(api, "channels_of",
                        lambda d: json.loads((Path(d) / "channels.json").read_text()))
    # Every toy sample is in June: the real split (val March, test January) keeps all for training.
    monkeypatch.setattr(api, "split_by_time",
                        lambda ds, **kw: {"train": ds, "val": ds.limit(0), "test": ds.limit(0)})
    monkeypatch.setattr(api, "to_training",
                        lambda ds: ds.select_columns(["image", "present", "flare_m24"]))


def test_cli_rejects_bad_values(tmp_path, capsys):
    assert main(["pretrain", "--data", str(tmp_path), "--workers", "-1"]) == 2
    assert "--workers must be an integer >= 0, got -1" in capsys.readouterr().err
    assert main(["pretrain", "--data", str(tmp_path / "nope")]) == 2
    assert "--data: no such directory" in capsys.readouterr().err
    assert main(["pretrain", "--data", str(tmp_path), "--model", "resnet"]) == 2
    assert "unknown model 'resnet'" in capsys.readouterr().err
    (tmp_path / "bad.yaml").write_text("stepz: 3\n")
    assert main(["pretrain", "--data", str(tmp_path), "--config", str(tmp_path / "bad.yaml")]) == 2
    assert "unknown training config key(s) stepz" in capsys.readouterr().err
    assert main(["embed", "--checkpoint", str(tmp_path), "--data", str(tmp_path),
                 "--out", str(tmp_path / "e.parquet")]) == 2
    assert "no model checkpoint" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.timeout(900)  # three worker-group starts: minutes on an overloaded 2-core machine
def test_pretrain_two_workers_survives_failure_resumes_and_embeds(ray_session, tmp_path,
                                                                   monkeypatch, capsys):
    import pyarrow.parquet as pq

    from solarray.models import load_model
    from solarray.train.checkpoints import list_checkpoints

    data = tmp_path / "data"
    _write_shards(data, 48)
    _install_data_api(monkeypatch)
    config = tmp_path / "train.yaml"
    config.write_text(
        "model_config:\n  preset: tiny\n"
        "  backbone_config: {image_size: 32, patch_size: 8, embed_dim: 32, decoder_dim: 32}\n"
        "fail_at_step: 6\nmax_failures: 1\nreport_every: 2\n"
        "torch_threads: 1\nwarmup_steps: 2\n"
    )
    storage = tmp_path / "runs"
    base = ["pretrain", "--model", "solarchip_vit", "--data", str(data), "--workers", "2",
            "--run-name", "cli", "--storage", str(storage), "--config", str(config),
            "--checkpoint-every", "4", "--batch-size", "8"]

    # Run 1 (the README's 2 workers with the default CPUs per worker, fitted to leave Ray Data a
    # whole CPU): rank 1 raises at step 6 (once); Ray Train restarts the group from checkpoint 4.
    assert main([*base, "--steps", "10"]) == 0
    out = capsys.readouterr().out
    assert "using 0.5 CPU per worker" in out
    assert "Starting run 'cli'" in out
    assert "Finished run 'cli' at step 10 (resumed from step 4)" in out
    assert (storage / "cli" / ".injected_failure_step_6").exists()
    ckpts = list_checkpoints(storage / "cli")
    assert [s for s, _ in ckpts] == [8, 10]  # num_to_keep=2
    for step, d in ckpts:  # every kept checkpoint is complete and loads alone
        state = torch.load(d / "train_state.pt", weights_only=True)
        assert state["step"] == step and state["config"]["channels"] == list(CH)
        assert load_model(d).config.channels == CH
    metrics = [json.loads(s) for s in (storage / "cli" / "metrics.jsonl").read_text().splitlines()]
    assert metrics[-1]["step"] == 10 and all(m["loss"] > 0 for m in metrics)

    # (A second run with the same name resuming from the last checkpoint: tests/test_train_loop.py
    # and the interrupted sweep of tests/test_tune_run.py.)

    # Embeddings of every sample with Ray Data batch inference.
    emb = tmp_path / "emb.parquet"
    latest = list_checkpoints(storage / "cli")[-1][1]
    assert main(["embed", "--checkpoint", str(latest), "--data", str(data),
                 "--out", str(emb), "--batch-size", "16"]) == 0
    assert "Wrote 48 embeddings" in capsys.readouterr().out
    table = pq.read_table(emb)
    assert table.num_rows == 48
    assert {"sample_id", "t_obs", "embedding", "cls_aia", "cls_hmi", "z_aia"} <= set(table.column_names)
    assert len(table.column("embedding")[0].as_py()) == 64  # two 32-d class tokens
    assert sorted(table.column("sample_id").to_pylist()) == sorted(set(table.column("sample_id").to_pylist()))


def test_pretrain_refuses_data_without_a_training_split(tmp_path, capsys):
    """A week of January (the test month) leaves no training rows: one line naming --no-split,
    not an AttributeError from inside Ray Data."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    ids = [f"2024-01-{d:02d}T00:00:00" for d in range(3, 10)]
    pq.write_table(pa.table({"sample_id": ids}), tmp_path / "shard_20240103_20240109.parquet")
    assert main(["pretrain", "--data", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "none of the 7 samples" in err and "test 7" in err and "--no-split" in err


def test_workers_are_fitted_to_leave_ray_data_a_cpu(capsys):
    from solarray.core.errors import UsageError
    from solarray.train.config import TrainConfig
    from solarray.train.resources import fit_workers_to_cluster

    cfg = TrainConfig(num_workers=2, cpus_per_worker=1.0)
    fitted = fit_workers_to_cluster(cfg, 2.0)
    assert fitted.cpus_per_worker == 0.5 and "leave Ray Data none" in capsys.readouterr().out
    assert fit_workers_to_cluster(cfg, 8.0) is cfg  # room to spare: unchanged
    assert fit_workers_to_cluster(cfg.replace(num_workers=0), 2.0).cpus_per_worker == 1.0
    with pytest.raises(UsageError, match="too few"):
        fit_workers_to_cluster(cfg.replace(num_workers=64), 2.0)
