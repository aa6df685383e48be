"""The bad-input battery: every ``solarray`` command, given the inputs a user will get wrong,
answers with one line on stderr naming the path or flag and the fix, exit status 2, and leaves no
output that looks complete.

In-process (``solarray.cli.main(argv)``) and before Ray starts: each command validates its inputs
on the driver first, so none of these cases starts Ray. A new command without cases here fails
:func:`test_every_command_is_in_the_battery`.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import importlib
import json
import os
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from solarray.cli import build_parser, command_specs, main
from solarray.core import atomic

CHANNELS = ("hmi_m", "aia193", "aia304")


@dataclass(frozen=True)
class Case:
    command: str
    name: str
    argv: object  # (P, out) -> list[str]
    expect: tuple[str, ...]  # substrings of the one-line error (the path/flag, the fix)
    full_disk: int = 0  # k > 0: the disk fills at the k-th atomic write (ENOSPC)
    marker: str | None = None  # a multi-file output whose completeness marker must be absent

    @property
    def id(self) -> str:
        return f"{self.command}-{self.name}"


def _shards(out: Path, times: list[datetime], size: int = 32) -> Path:
    from solarray.data.shards import write_shard

    rng = np.random.default_rng(0)
    rows = []
    for t in times:
        sid = t.strftime("%Y-%m-%dT%H:%M:%S")
        meta = {"sample_id": sid, "channels": {ch: {"header": {
            "DATE-OBS": sid, "RSUN_OBS": 975.0, "DSUN_OBS": 1.47e11, "HGLN_OBS": 0.0,
            "HGLT_OBS": 0.0}} for ch in CHANNELS}}
        masks = np.zeros((3, size, size), np.uint8)
        masks[0, 10:16, 10:18] = 1
        rows.append({"t_obs": t, "sample_id": sid, "present": np.ones(3, bool),
                     "image": rng.uniform(-1, 1, (3, size, size)).astype(np.float32),
                     "meta": json.dumps(meta), "masks": masks, "labels": {}})
    out.mkdir(parents=True)
    write_shard(rows, str(out), CHANNELS)
    return out


@pytest.fixture(scope="module")
def P(tmp_path_factory):
    """The bad (and a few good) inputs, built once: no Ray."""
    import torch

    from solarray.models import build, save_model

    root = tmp_path_factory.mktemp("battery")
    p = SimpleNamespace(root=root, missing=str(root / "no_such_dir"))
    (root / "empty").mkdir()
    p.empty = str(root / "empty")
    p.a_file = str(root / "a_file.txt")
    Path(p.a_file).write_text("not a directory\n")
    corrupt = root / "corrupt"
    corrupt.mkdir()
    (corrupt / "shard_20240205T000000_20240205T120000.parquet").write_bytes(b"PAR1 truncated")
    p.corrupt = str(corrupt)
    # one week of January: every sample in the test split
    p.january = str(_shards(root / "january", [datetime(2024, 1, 8) + timedelta(hours=12 * i)
                                               for i in range(14)]))
    p.february = str(_shards(root / "february", [datetime(2024, 2, 8) + timedelta(hours=12 * i)
                                                 for i in range(4)]))
    torch.manual_seed(0)
    ck = root / "ckpt"
    p.spnet = str(save_model(build("spnet", preset="tiny", channels=CHANNELS, image_size=32),
                             ck / "spnet.pt"))
    p.spnet_aia94 = str(save_model(build("spnet", preset="tiny", channels=("aia94", "aia131"),
                                         image_size=32), ck / "spnet_aia94.pt"))
    p.fpnet_aia94 = str(save_model(build("fpnet", preset="tiny", channels=("aia94",)),
                                   ck / "fpnet_aia94.pt"))
    p.vae = str(save_model(build("sigma_vae", preset="tiny", channels=CHANNELS), ck / "vae.pt"))
    p.vae_aia94 = str(save_model(build("sigma_vae", preset="tiny", channels=("aia94",)),
                                 ck / "vae_aia94.pt"))
    wrong = root / "wrong_ckpt_dir"  # a role's file holding another model
    save_model(build("sigma_vae", preset="tiny", channels=CHANNELS), wrong / "spnet.pt")
    p.wrong_ckpt_dir = str(wrong)
    p.garbage_ckpt = str(ck / "garbage.pt")
    Path(p.garbage_ckpt).write_bytes(b"\x00not a torch file")
    p.latents = str(root / "latents.parquet")  # 14 samples × 3 channels when decoded
    assert main(["compress", "--checkpoint", p.vae, "--data", p.january, "--out", p.latents]) == 0
    p.forecasts = str(root / "forecasts.csv")
    Path(p.forecasts).write_text("observed,probability\n" + "".join(
        f"{i % 2},{0.2 + 0.6 * (i % 2)}\n" for i in range(20)))
    p.series = str(root / "series.csv")
    Path(p.series).write_text("date,f30\n" + "".join(
        f"{(datetime(2024, 1, 1) + timedelta(days=i)).date()},{80 + 10 * np.sin(i / 5):.2f}\n"
        for i in range(60)))
    p.garbage_csv = str(root / "garbage.csv")
    Path(p.garbage_csv).write_bytes(b"\x89\x00\xff binary, not a table")
    p.bad_yaml = str(root / "bad.yaml")
    Path(p.bad_yaml).write_text("applications: [unclosed\n")
    p.garbage_fits = str(root / "garbage.fits")
    Path(p.garbage_fits).write_bytes(b"SIMPLE  = garbage")
    p.garbage_parquet = str(root / "garbage.parquet")
    Path(p.garbage_parquet).write_bytes(b"PAR1 not really")
    p.synth_like = str(root / "synth_like")  # a directory without synth.json
    Path(p.synth_like).mkdir()
    return p


def _c(command, name, argv, *expect, full_disk=0, marker=None):
    return Case(command, name, argv, tuple(expect), int(full_disk), marker)


BATTERY = [
    # benchmark-sun
    _c("benchmark-sun", "out-is-file", lambda P, o: ["--out", P.a_file], "--out", "a_file"),
    _c("benchmark-sun", "bad-channels", lambda P, o: ["--out", o, "--channels", "aia999"],
       "channels"),
    # compress
    _c("compress", "missing-data", lambda P, o: ["--checkpoint", P.vae, "--data", P.missing,
                                                 "--out", o], "--data", "no_such_dir"),
    _c("compress", "empty-data", lambda P, o: ["--checkpoint", P.vae, "--data", P.empty,
                                               "--out", o], "--data", "solarray ingest"),
    _c("compress", "corrupt-shard", lambda P, o: ["--checkpoint", P.vae, "--data", P.corrupt,
                                                  "--out", o], "shard_2024", "re-run"),
    _c("compress", "wrong-model", lambda P, o: ["--checkpoint", P.spnet, "--data", P.january,
                                                "--out", o], "spnet", "sigma_vae"),
    _c("compress", "corrupt-checkpoint", lambda P, o: ["--checkpoint", P.garbage_ckpt,
                                                       "--data", P.january, "--out", o],
       "garbage.pt"),
    _c("compress", "channels-lacking", lambda P, o: ["--checkpoint", P.vae_aia94, "--data",
                                                     P.january, "--out", o], "aia94"),
    _c("compress", "full-disk", lambda P, o: ["--checkpoint", P.vae, "--data", P.january,
                                              "--out", f"{o}/latents.parquet"],
       "no space left", "latents.parquet", full_disk=1),
    # cycle
    _c("cycle", "missing-data", lambda P, o: ["--data", P.missing, "--out", o], "--data",
       "no_such_dir"),
    _c("cycle", "empty-data", lambda P, o: ["--data", P.empty, "--out", o], "solarray ingest"),
    _c("cycle", "corrupt-shard", lambda P, o: ["--data", P.corrupt, "--out", o], "shard_2024"),
    _c("cycle", "out-is-file", lambda P, o: ["--data", P.january, "--out", P.a_file], "--out"),
    _c("cycle", "wrong-model-in-checkpoint-dir", lambda P, o: [
        "--data", P.january, "--out", o, "--checkpoint-dir", P.wrong_ckpt_dir],
       "spnet.pt", "--checkpoint-dir"),
    _c("cycle", "missing-checkpoint-dir", lambda P, o: ["--data", P.january, "--out", o,
                                                        "--checkpoint-dir", P.missing],
       "--checkpoint-dir", "no_such_dir"),
    # decompress
    _c("decompress", "missing-latents", lambda P, o: ["--checkpoint", P.vae, "--latents",
                                                      P.missing, "--out", o], "--latents"),
    _c("decompress", "corrupt-latents", lambda P, o: ["--checkpoint", P.vae, "--latents",
                                                      P.garbage_parquet, "--out", o],
       "garbage.parquet"),
    _c("decompress", "full-disk-half-way", lambda P, o: [
        "--checkpoint", P.vae, "--latents", P.latents, "--out", o], "no space left",
       full_disk=5),
    _c("decompress", "wrong-model", lambda P, o: ["--checkpoint", P.spnet, "--latents",
                                                  P.garbage_parquet, "--out", o], "spnet",
       "sigma_vae"),
    # demo
    _c("demo", "out-is-file", lambda P, o: ["--out", P.a_file], "--out", "a_file"),
    _c("demo", "bad-size", lambda P, o: ["--out", o, "--size", "100"], "size"),
    # download
    _c("download", "bad-times", lambda P, o: ["--start", "2024-02-01", "--end", "2024-01-01",
                                              "--out", o], "--start/--end"),
    _c("download", "out-is-file", lambda P, o: ["--start", "2024-01-01", "--end",
                                                "2024-01-01T01:00", "--out", P.a_file],
       "--out", "a_file"),
    # embed
    _c("embed", "missing-checkpoint", lambda P, o: ["--checkpoint", P.missing, "--data",
                                                    P.january, "--out", o], "--checkpoint"),
    _c("embed", "empty-data", lambda P, o: ["--checkpoint", P.spnet, "--data", P.empty,
                                            "--out", o], "--data", "solarray ingest"),
    _c("embed", "corrupt-shard", lambda P, o: ["--checkpoint", P.spnet, "--data", P.corrupt,
                                               "--out", o], "shard_2024"),
    _c("embed", "channels-lacking", lambda P, o: ["--checkpoint", P.spnet_aia94, "--data",
                                                  P.january, "--out", o], "aia94"),
    _c("embed", "corrupt-checkpoint", lambda P, o: ["--checkpoint", P.garbage_ckpt, "--data",
                                                    P.january, "--out", o], "garbage.pt"),
    # evaluate
    _c("evaluate", "segmentation-missing-data", lambda P, o: [
        "segmentation", "--data", P.missing, "--checkpoint", P.spnet], "--data", "no_such_dir"),
    _c("evaluate", "segmentation-corrupt-shard", lambda P, o: [
        "segmentation", "--data", P.corrupt, "--checkpoint", P.spnet], "shard_2024"),
    _c("evaluate", "segmentation-wrong-model", lambda P, o: [
        "segmentation", "--data", P.january, "--checkpoint", P.vae], "sigma_vae", "spnet"),
    _c("evaluate", "segmentation-channels-lacking", lambda P, o: [
        "segmentation", "--data", P.january, "--checkpoint", P.spnet_aia94], "aia94",
       "spnet_aia94.pt"),
    _c("evaluate", "segmentation-baseline-held-out", lambda P, o: [
        "segmentation", "--data", P.january, "--baseline", "--split", "test"],
       "training split", "--baseline"),
    _c("evaluate", "reconstruction-empty-data", lambda P, o: [
        "reconstruction", "--data", P.empty, "--checkpoint", P.vae], "solarray ingest"),
    _c("evaluate", "reconstruction-wrong-model", lambda P, o: [
        "reconstruction", "--data", P.january, "--checkpoint", P.spnet], "spnet", "sigma_vae"),
    _c("evaluate", "reconstruction-full-disk", lambda P, o: [
        "reconstruction", "--data", P.january, "--checkpoint", P.vae, "--json", f"{o}/r.json"],
       "no space left", "r.json", full_disk=1),
    _c("evaluate", "translation-corrupt-shard", lambda P, o: [
        "translation", "--data", P.corrupt, "--checkpoint", P.spnet], "shard_2024"),
    _c("evaluate", "translation-wrong-model", lambda P, o: [
        "translation", "--data", P.january, "--checkpoint", P.vae], "sigma_vae"),
    # flares
    _c("flares", "missing-file", lambda P, o: ["--goes", P.missing], "--goes", "no_such_dir"),
    _c("flares", "corrupt-file", lambda P, o: ["--goes", P.garbage_fits], "--goes",
       "garbage.fits"),
    _c("flares", "empty-dir", lambda P, o: ["--goes", P.empty], "--goes"),
    # forecast
    _c("forecast", "missing-checkpoint", lambda P, o: ["--checkpoint", P.missing, "--data",
                                                       P.january, "--out", o], "--checkpoint"),
    _c("forecast", "wrong-model", lambda P, o: ["--checkpoint", P.spnet, "--data", P.january,
                                                "--out", o], "spnet", "fpnet"),
    _c("forecast", "channels-lacking", lambda P, o: ["--checkpoint", P.fpnet_aia94, "--data",
                                                     P.january, "--out", o], "aia94",
       "the shards in"),
    _c("forecast", "empty-data", lambda P, o: ["--checkpoint", P.spnet, "--data", P.empty,
                                               "--out", o], "--data", "solarray ingest"),
    _c("forecast", "corrupt-shard", lambda P, o: ["--checkpoint", P.spnet, "--data",
                                                  P.corrupt, "--out", o], "shard_2024"),
    # forecast-index
    # feature-tables
    _c("feature-tables", "missing-synthetic", lambda P, o: ["--synthetic", P.missing,
                                                           "--checkpoint-dir", P.empty, "--out", o],
       "--synthetic"),
    _c("feature-tables", "not-a-set", lambda P, o: ["--synthetic", P.empty, "--checkpoint-dir",
                                                   P.empty, "--out", o], "runs.json"),
    _c("forecast-index", "missing-series", lambda P, o: ["--series", P.missing], "--series"),
    _c("forecast-index", "corrupt-series", lambda P, o: ["--series", P.garbage_csv],
       "garbage.csv"),
    _c("forecast-index", "corrupt-features", lambda P, o: ["--series", P.series,
                                                           "--features", P.garbage_parquet],
       "garbage.parquet"),
    # ingest
    _c("ingest", "missing-input", lambda P, o: ["--input", P.missing, "--out", o], "--input",
       "no_such_dir"),
    _c("ingest", "empty-input", lambda P, o: ["--input", P.empty, "--out", o], "--input",
       "no FITS"),
    _c("ingest", "out-is-file", lambda P, o: ["--input", P.empty, "--out", P.a_file], "--out"),
    # label
    _c("label", "init-missing-data", lambda P, o: ["init", "--labels", o, "--data", P.missing],
       "--data", "no_such_dir"),
    _c("label", "init-empty-data", lambda P, o: ["init", "--labels", o, "--data", P.empty],
       "--data", "solarray ingest"),
    _c("label", "init-corrupt-shard", lambda P, o: ["init", "--labels", o, "--data", P.corrupt],
       "shard_2024"),
    _c("label", "init-held-out", lambda P, o: ["init", "--labels", o, "--data", P.january,
                                               "--split", "train"], "training split", "--split"),
    _c("label", "predict-wrong-model", lambda P, o: [
        "predict", "--labels", o, "--data", P.january, "--checkpoint", P.vae], "sigma_vae",
       "spnet"),
    _c("label", "predict-channels-lacking", lambda P, o: [
        "predict", "--labels", o, "--data", P.january, "--checkpoint", P.spnet_aia94], "aia94"),
    _c("label", "diff-empty-store", lambda P, o: ["diff", "--labels", P.empty, "v1", "v2"],
       "label init"),
    _c("label", "review-missing-corrections", lambda P, o: [
        "review", "--labels", P.empty, "--corrections", P.missing], "no_such_dir"),
    _c("label", "retrain-held-out", lambda P, o: ["retrain", "--labels", P.empty, "--data",
                                                  P.january, "--storage", o], "training split"),
    _c("label", "retrain-no-version", lambda P, o: ["retrain", "--labels", P.empty, "--data",
                                                    P.february, "--storage", o], "--version"),
    _c("label", "list-store-is-file", lambda P, o: ["list", "--labels", P.a_file], "--labels"),
    # pretrain
    _c("pretrain", "missing-data", lambda P, o: ["--data", P.missing, "--storage", o],
       "--data", "no_such_dir"),
    _c("pretrain", "empty-data", lambda P, o: ["--data", P.empty, "--storage", o], "--data",
       "solarray ingest"),
    _c("pretrain", "corrupt-shard", lambda P, o: ["--data", P.corrupt, "--storage", o],
       "shard_2024", "re-run"),
    _c("pretrain", "held-out-months", lambda P, o: ["--data", P.january, "--storage", o],
       "training split", "--no-split"),
    _c("pretrain", "channels-lacking", lambda P, o: ["--data", P.january, "--no-split",
                                                     "--channels", "aia94", "--storage", o],
       "aia94"),
    _c("pretrain", "bad-config", lambda P, o: ["--data", P.january, "--config", P.garbage_csv,
                                               "--storage", o], "--config"),
    # regions
    _c("regions", "missing-data", lambda P, o: ["--data", P.missing], "--data", "no_such_dir"),
    _c("regions", "empty-dir", lambda P, o: ["--data", P.empty], "--data"),
    _c("regions", "corrupt-mask", lambda P, o: ["--data", P.garbage_fits], "garbage.fits"),
    # sample
    _c("sample", "wrong-model", lambda P, o: ["--checkpoint", P.spnet, "--out", o], "spnet",
       "sigma_vae"),
    _c("sample", "missing-checkpoint", lambda P, o: ["--checkpoint", P.missing, "--out", o],
       "no_such_dir"),
    _c("sample", "out-is-file", lambda P, o: ["--checkpoint", P.vae, "--out", P.a_file],
       "--out"),
    _c("sample", "full-disk", lambda P, o: ["--checkpoint", P.vae, "--out", o, "--n", "2"],
       "no space left", full_disk=1),
    _c("sample", "full-disk-half-way", lambda P, o: ["--checkpoint", P.vae, "--out", o, "--n",
                                                     "2"], "no space left", full_disk=4),
    # search
    _c("search", "patches-missing-data", lambda P, o: ["patches", "--data", P.missing, "--out",
                                                       o], "--data", "no_such_dir"),
    _c("search", "patches-empty-data", lambda P, o: ["patches", "--data", P.empty, "--out", o],
       "solarray ingest"),
    _c("search", "patches-corrupt-shard", lambda P, o: ["patches", "--data", P.corrupt,
                                                        "--out", o], "shard_2024"),
    _c("search", "patches-full-disk", lambda P, o: ["patches", "--data", P.january, "--out", o],
       "no space left", full_disk=1),
    _c("search", "index-wrong-model", lambda P, o: ["index", "--checkpoint", P.spnet,
                                                    "--patches", P.empty, "--out", f"{o}/l.pq"],
       "spnet", "simsiam"),
    _c("search", "query-missing-index", lambda P, o: ["query", "--index", P.missing,
                                                      "--image", P.garbage_fits], "--index"),
    _c("search", "generate-wrong-model", lambda P, o: ["generate", "--gan", P.spnet, "--param",
                                                       "tuf", "--out", o], "spnet", "ar_gan"),
    # serve (its own helper owns serve.py: the checks it makes before Ray starts)
    _c("serve", "missing-config", lambda P, o: ["--config", P.missing], "--config",
       "no_such_dir"),
    _c("serve", "missing-checkpoint-dir", lambda P, o: ["--checkpoint-dir", P.missing],
       "--checkpoint-dir", "no_such_dir"),
    _c("serve", "corrupt-config", lambda P, o: ["--config", P.bad_yaml], "--config"),
    # synth
    _c("synth", "out-is-file", lambda P, o: ["--out", P.a_file, "--hours", "0.2", "--size", "16"],
       "--out", "a_file"),
    _c("synth", "full-disk", lambda P, o: ["--out", o, "--hours", "0.1", "--cadence", "12min",
                                           "--size", "16", "--channels", "aia171",
                                           "--no-preview"], "no space left", full_disk=1),
    _c("synth", "full-disk-half-way", lambda P, o: [
        "--out", o, "--hours", "0.4", "--cadence", "12min", "--size", "16", "--channels",
        "aia171", "--no-preview"], "no space left", full_disk=2, marker="synth.json"),
    # train-fpnet
    _c("train-fpnet", "missing-data", lambda P, o: ["--data", P.missing, "--synthetic", P.empty,
                                                    "--out", o], "--data", "no_such_dir"),
    _c("train-fpnet", "empty-data", lambda P, o: ["--data", P.empty, "--synthetic", P.empty,
                                                  "--out", o], "--data", "solarray ingest"),
    _c("train-fpnet", "corrupt-shard", lambda P, o: ["--data", P.corrupt, "--synthetic",
                                                     P.empty, "--out", o], "shard_2024"),
    _c("train-fpnet", "held-out-months", lambda P, o: ["--data", P.january, "--table",
                                                       P.forecasts, "--out", o],
       "training split", "--test-months"),
    _c("train-fpnet", "wrong-encoder", lambda P, o: ["--data", P.february, "--table",
                                                     P.forecasts, "--encoder", P.vae, "--out", o],
       "--encoder", "sigma_vae"),
    # translate
    _c("translate", "train-missing-data", lambda P, o: ["train", "--data", P.missing,
                                                        "--storage", o], "--data", "no_such_dir"),
    _c("translate", "train-empty-data", lambda P, o: ["train", "--data", P.empty, "--storage",
                                                      o], "solarray ingest"),
    _c("translate", "train-corrupt-shard", lambda P, o: ["train", "--data", P.corrupt,
                                                         "--storage", o], "shard_2024"),
    _c("translate", "train-channels-lacking", lambda P, o: [
        "train", "--data", P.january, "--inputs", "aia94", "--storage", o], "aia94"),
    _c("translate", "train-held-out", lambda P, o: ["train", "--data", P.january, "--storage",
                                                    o], "training split"),
    _c("translate", "train-wrong-pretrained", lambda P, o: [
        "train", "--data", P.february, "--model", "controlnet_translator", "--pretrained",
        P.vae, "--storage", o], "--pretrained", "sigma_vae"),
    _c("translate", "select-held-out", lambda P, o: ["select", "--data", P.january,
                                                     "--inputs-max", "1", "--storage", o],
       "training split"),
    # tune
    _c("tune", "missing-data", lambda P, o: ["--sweep", "masking", "--data", P.missing,
                                             "--storage", o], "--data", "no_such_dir"),
    _c("tune", "empty-data", lambda P, o: ["--sweep", "masking", "--data", P.empty,
                                           "--storage", o], "solarray ingest"),
    _c("tune", "corrupt-shard", lambda P, o: ["--sweep", "masking", "--data", P.corrupt,
                                              "--storage", o], "shard_2024"),
    _c("tune", "held-out-months", lambda P, o: ["--sweep", "masking", "--data", P.january,
                                                "--storage", o], "training split"),
    _c("tune", "unknown-sweep", lambda P, o: ["--sweep", "nope", "--data", P.february,
                                              "--storage", o], "--sweep"),
    _c("tune", "zero-trial-workers", lambda P, o: ["--sweep", "masking", "--data", P.february,
                                                   "--trial-workers", "0", "--storage", o],
       "--trial-workers", ">= 1"),
    # verify
    _c("verify", "missing-forecasts", lambda P, o: ["--forecasts", P.missing], "no_such_dir"),
    _c("verify", "corrupt-forecasts", lambda P, o: ["--forecasts", P.garbage_csv],
       "garbage.csv"),
    _c("verify", "missing-store", lambda P, o: ["--store", P.missing], "--store"),
    _c("verify", "full-disk", lambda P, o: ["--forecasts", P.forecasts, "--out", o],
       "no space left", full_disk=1),
    _c("verify", "full-disk-half-way", lambda P, o: ["--forecasts", P.forecasts, "--out", o],
       "no space left", full_disk=2),
    # watch
    _c("watch", "missing-input", lambda P, o: ["--input", P.missing, "--out", o, "--local"],
       "--input", "no_such_dir"),
    _c("watch", "missing-replay", lambda P, o: ["--replay", P.missing, "--out", o, "--local"],
       "--replay"),
    _c("watch", "replay-not-synth", lambda P, o: ["--replay", P.synth_like, "--out", o,
                                                  "--local"], "--replay"),
    _c("watch", "out-is-file", lambda P, o: ["--input", P.empty, "--out", P.a_file, "--local"],
       "--out"),
]


@contextlib.contextmanager
def _full_disk(monkeypatch, at: int = 1):
    """The disk fills at the ``at``-th atomic write (:mod:`solarray.core.atomic`, which every
    writer uses): it and every later one fail with ENOSPC after their bytes went to the
    temporary file; the earlier ones succeed (a run that fails half-way)."""
    original = atomic.atomic_path
    writes = [0]

    @contextlib.contextmanager
    def full(path, suffix=""):
        with original(path, suffix) as tmp:
            yield tmp
            writes[0] += 1
            if writes[0] >= at:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    for mod in list(sys.modules.values()):
        if getattr(mod, "atomic_path", None) is original:
            monkeypatch.setattr(mod, "atomic_path", full)
    yield


def _files(path: Path) -> list[Path]:
    if not path.exists():
        return []
    return [path] if path.is_file() else [f for f in path.rglob("*") if f.is_file()]


@pytest.mark.parametrize("case", BATTERY, ids=lambda c: c.id)
def test_bad_input_is_one_line_exit_2(case, P, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("SOLARRAY_DEBUG", raising=False)
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    monkeypatch.chdir(tmp_path)  # nothing lands in the checkout
    out = tmp_path / "out"
    argv = [case.command, *case.argv(P, str(out))]
    importlib.import_module(command_specs()[case.command].module)  # before patching writers
    ray_before = "ray" in sys.modules and sys.modules["ray"].is_initialized()
    with _full_disk(monkeypatch, case.full_disk) if case.full_disk else contextlib.nullcontext():
        code = main(argv)
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2, f"{argv}: exit {code}, stderr:\n{err}"
    assert len(lines) == 1 and "Traceback" not in err, f"{argv}: stderr:\n{err}"
    assert lines[0].startswith(f"solarray {case.command}: error: "), lines[0]
    for part in case.expect:
        assert part in lines[0], f"{argv}: {part!r} not in: {lines[0]}"
    if case.marker:  # files may stay (resumable), the marker of a complete output must not
        assert not (out / case.marker).exists(), f"{argv}: {case.marker} written after a failure"
    else:
        left = _files(out)
        assert not left, f"{argv}: left output behind: {left}"
    if not ray_before:
        assert not ("ray" in sys.modules and sys.modules["ray"].is_initialized()), \
            f"{argv}: started Ray for a bad input"


def _actions(command: str) -> list[str]:
    """The sub-actions of ``command`` (``evaluate segmentation``, ``label init``, ...), if any."""
    def subparsers(p):
        return [a for a in p._actions if isinstance(a, argparse._SubParsersAction)]

    top = subparsers(build_parser(only=[command]))[0].choices[command]
    return [name for sp in subparsers(top) for name in sp.choices]


def test_every_command_is_in_the_battery():
    covered = {c.command for c in BATTERY}
    missing = sorted(set(command_specs()) - covered)
    assert not missing, f"commands without bad-input cases in BATTERY: {missing}"
    assert len({c.id for c in BATTERY}) == len(BATTERY), "duplicate case ids"
    # and every action of a command with actions (evaluate KIND, label ACTION, search, ...)
    untried = [f"{cmd} {action}" for cmd in sorted(covered) for action in _actions(cmd)
               if not any(c.command == cmd and c.name.startswith(f"{action}-") for c in BATTERY)]
    assert not untried, f"actions without bad-input cases in BATTERY: {untried}"


# --- no silent hangs: the training watchdog ----------------------------------------------------


def test_stall_reason_names_the_missing_resource():
    from solarray.train.watchdog import stall_reason

    cluster = {"CPU": 2.0}
    data_starved = stall_reason(2, 1.0, False, cluster, {"CPU": 0.0})
    assert "backpressured" in data_starved and "--cpus-per-worker" in data_starved
    # the README's 2 workers × 0.75 CPU on 2 cores left 0.5 CPU: too little for one data task
    half_free = stall_reason(2, 0.75, False, cluster, {"CPU": 0.5})
    assert "backpressured" in half_free and "0.5 of 2 CPUs free" in half_free
    pending = stall_reason(4, 1.0, False, cluster, {"CPU": 2.0})
    assert "pending placement" in pending and "4 worker(s) × 1 CPU" in pending
    assert "GPU" in stall_reason(1, 1.0, True, cluster, {"CPU": 2.0})
    assert "look sufficient" in stall_reason(1, 0.5, False, cluster, {"CPU": 1.5})


def test_watchdog_speaks_after_a_stall_and_not_while_progressing(tmp_path):
    import time

    from solarray.train.config import TrainConfig
    from solarray.train.watchdog import Watchdog, file_progress, training_watchdog

    metrics = tmp_path / "metrics.jsonl"
    said: list[str] = []
    with Watchdog(file_progress(metrics), lambda: "Ray Data has no CPU", timeout_s=0.05,
                  log=said.append, poll_s=0.01):
        time.sleep(0.3)  # no metrics file at all: stalled
    assert said and all("no training step reported for 0.05 s: Ray Data has no CPU" in s
                        for s in said)

    said.clear()
    with Watchdog(file_progress(metrics), lambda: "stalled", timeout_s=0.2, log=said.append,
                  poll_s=0.01):
        for i in range(12):  # a report every 25 ms
            with open(metrics, "a") as fh:
                fh.write(f'{{"step": {i}}}\n')
            time.sleep(0.025)
    assert said == []

    # URIs have no metrics file to watch; 0 turns the watchdog off
    cfg = TrainConfig.from_dict({"storage_path": str(tmp_path)}, source="test")
    assert isinstance(training_watchdog(cfg, timeout_s=1.0), Watchdog)
    assert not isinstance(training_watchdog(cfg, timeout_s=0), Watchdog)
    assert not isinstance(training_watchdog(cfg.replace(storage_path="s3://b/runs"),
                                            timeout_s=1.0), Watchdog)
