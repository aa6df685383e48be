"""`solarray translate train` and `solarray evaluate translation` on tiny toy shards: the
training entry through the generic loop, Park 2019's table with the baselines, the PNGs, and
the one-line errors for channels a checkpoint or the data lack."""

from __future__ import annotations

import argparse
import json
from datetime import datetime, timedelta

import numpy as np
import pytest

from solarray.commands import translate
from solarray.commands._eval_translation import TRANSLATION
from solarray.core.errors import UsageError
from solarray.data.shards import write_shard
from solarray.data.synthetic.toy import toy_samples

CH = ("hmi_m", "aia171", "aia193")


def _shards(out, n: int = 12, size: int = 32):
    image = toy_samples(3 * n, CH, size=size, seed=4)["image"]
    rows = []
    for k, month in enumerate((1, 2, 3)):  # test, train, val months
        for i in range(n):
            t = datetime(2024, month, 3) + timedelta(hours=6 * i)
            sid = t.strftime("%Y-%m-%dT%H:%M:%S")
            rows.append({"t_obs": t, "sample_id": sid, "image": image[k * n + i],
                         "present": np.ones(len(CH), bool), "meta": "{}", "masks": None,
                         "labels": {}})
    out.mkdir(parents=True)
    write_shard(rows, str(out), CH)
    return out


def _parse(add, argv):
    p = argparse.ArgumentParser()
    add(p)
    return p.parse_args(argv)


def test_train_then_evaluate_translation(ray_session, tmp_path, capsys):
    data = _shards(tmp_path / "shards")
    args = _parse(translate.add_arguments, [
        "train", "--data", str(data), "--outputs", "aia171,aia193", "--steps", "3",
        "--batch-size", "4", "--storage", str(tmp_path / "runs"), "--name", "a"])
    assert translate.run(args) == 0
    ckpt = next((tmp_path / "runs" / "a").glob("checkpoint_*"))
    help_, add, run = TRANSLATION
    out = tmp_path / "eval"
    args = _parse(add, ["--checkpoint", str(ckpt), "--data", str(data), "--baselines",
                        "--json", str(out / "rows.json"), "--out", str(out), "--figures", "1"])
    assert run(args) == 0
    rows = json.loads((out / "rows.json").read_text())
    models = {r["model"] for r in rows}
    assert models == {"a", "mean training image", "linear on |B|"}
    assert {r["passband"] for r in rows} == {"aia171", "aia193", "average"}
    assert all(-1 <= r["cc"] <= 1 and 0 <= r["ppe10"] <= 1 for r in rows)
    # the mean |RE| over images is never below the signed mean's size
    assert all(r["re_abs"] >= abs(r["re_signed"]) - 1e-12 for r in rows)
    assert all("re_park" in r for r in rows if r["passband"] == "average")
    assert len(list(out.glob("a_*.png"))) == 1
    capsys.readouterr()
    assert run(_parse(add, ["--checkpoint", str(ckpt), "--data", str(data), "--json"])) == 0
    printed = json.loads(capsys.readouterr().out)  # stdout is one JSON document
    assert [(r["model"], r["passband"]) for r in printed] == \
        [(r["model"], r["passband"]) for r in rows if r["model"] == "a"]

    with pytest.raises(UsageError, match=r"not trained to generate \['aia304'\]"):
        run(_parse(add, ["--checkpoint", str(ckpt), "--data", str(data), "--outputs",
                         "aia304"]))
    with pytest.raises(UsageError, match=r"channels \['aia304'\] are not in --data"):
        translate.run(_parse(translate.add_arguments, [
            "train", "--data", str(data), "--outputs", "aia304", "--storage", str(tmp_path)]))
    with pytest.raises(UsageError, match="lower --inputs-max"):
        translate.run(_parse(translate.add_arguments, [
            "select", "--data", str(data), "--channels", "aia171,aia193", "--inputs-max", "2"]))
