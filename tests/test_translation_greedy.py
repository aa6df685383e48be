"""Lim 2021's greedy channel selection: the rounds' candidate sets, the best set carried into the
next round, and the table of the path — on constructed rankings (no training), and through
``run_greedy`` with the sweep replaced by a scorer whose best sets are known."""

from __future__ import annotations

import argparse
import json
import math
from datetime import datetime

import numpy as np
import pandas as pd
import pytest

from solarray.commands import translate
from solarray.core.errors import UsageError
from solarray.data.shards import write_shard
from solarray.data.synthetic.toy import toy_samples
from solarray.translate.selection import (
    best_inputs,
    best_per_target,
    format_greedy,
    greedy_candidates,
    greedy_table,
)
from solarray.tune import channel_selection
from solarray.tune.channel_selection import SelectionSettings, run_greedy
from solarray.tune.experiment import TuneRun

CH = ("aia94", "aia131", "aia171", "aia304", "aia1600")
#: a made-up skill per channel: a set's CC for a target is 1 − 0.1 / (1 + Σ skill of its inputs)
SKILL = {"aia94": 0.2, "aia131": 1.0, "aia171": 0.4, "aia304": 0.6, "aia1600": 0.8}


def test_greedy_candidates():
    assert greedy_candidates(CH, []) == [[c] for c in CH]
    assert greedy_candidates(CH, ["aia131"]) == [["aia131", c] for c in CH if c != "aia131"]
    assert len(greedy_candidates(CH, ["aia131", "aia1600"])) == 3
    with pytest.raises(ValueError, match="lower --inputs-max"):
        greedy_candidates(CH[:3], ["aia94", "aia131"])
    with pytest.raises(ValueError, match="not candidates"):
        greedy_candidates(CH, ["hmi_m"])


def _ranked(combos) -> pd.DataFrame:
    rows = []
    for ins in combos:
        cc = {f"cc_{c}": (np.nan if c in ins else 1 - 0.1 / (1 + sum(SKILL[i] for i in ins)
                                                            + 0.05 * SKILL[c]))
              for c in CH}
        vals = [v for v in cc.values() if np.isfinite(v)]
        rows.append({"inputs": "+".join(ins), "n_inputs": len(ins), "cc_mean": np.mean(vals),
                     "cc_min": min(vals), **cc})
    t = pd.DataFrame(rows).sort_values("cc_mean", ascending=False).reset_index(drop=True)
    t.insert(0, "rank", np.arange(1, len(t) + 1))
    return t


def test_greedy_table_and_best_per_target_hand_values():
    r1 = _ranked(greedy_candidates(CH, []))
    assert best_inputs(r1) == ["aia131"]
    r2 = _ranked(greedy_candidates(CH, ["aia131"]))
    assert best_inputs(r2) == ["aia131", "aia1600"]
    path = greedy_table([r1, r2])
    assert [p["inputs"] for p in path] == ["aia131", "aia131+aia1600"]
    assert [p["n_trials"] for p in path] == [5, 4]
    # round 1, aia131 → aia94: 1 − 0.1 / (1 + 1.0 + 0.05·0.2) = 1 − 0.1 / 2.01
    assert path[0]["cc_aia94"] == pytest.approx(1 - 0.1 / 2.01)
    assert math.isnan(path[0]["cc_aia131"]) and math.isnan(path[1]["cc_aia1600"])
    assert path[1]["cc_mean"] > path[0]["cc_mean"]
    per = {r["target"]: r for r in best_per_target([r1, r2])}
    # aia131's own best single predictor is the most skilful other channel, aia1600
    assert per["aia131"]["best_1"] == "aia1600" and per["aia94"]["best_1"] == "aia131"
    assert per["aia131"]["best_2"] == "" and math.isnan(per["aia131"]["cc_2"])
    text = format_greedy([r1, r2])
    assert "aia131+aia1600" in text and "best input set per target" in text
    nan = r1.assign(cc_mean=np.nan)
    with pytest.raises(ValueError, match="no trial"):
        best_inputs(nan)


def test_run_greedy_runs_one_sweep_per_round(monkeypatch, tmp_path):
    seen = []

    def fake_selection(settings, run, train, val, channels, images, log=print,
                       tune_callbacks=()):
        seen.append((run.name, settings.name, [list(c) for c in settings.combos]))
        # the sweep the round would run: its grid holds exactly the round's sets
        (param,) = settings.sweep().space
        assert param.path == channel_selection.PARAM
        grid = param.values
        assert sorted(map(tuple, grid)) == sorted(settings.combos)
        return _ranked(settings.combos), None

    monkeypatch.setattr(channel_selection, "run_selection", fake_selection)
    settings = SelectionSettings(candidates=CH, name="g")
    run = TuneRun(name="g", storage_path=str(tmp_path), max_concurrent=2)
    tables = run_greedy(settings, run, None, None, CH, np.zeros((1, 5, 8, 8)), rounds=3,
                        log=lambda *_: None)
    assert [s[0] for s in seen] == ["g_r1", "g_r2", "g_r3"]
    assert [len(s[2]) for s in seen] == [5, 4, 3]
    assert all(c[:1] == ["aia131"] for c in seen[1][2])
    assert all(c[:2] == ["aia131", "aia1600"] for c in seen[2][2])
    saved = json.loads((tmp_path / "g_greedy.json").read_text())
    assert [p["inputs"] for p in saved["path"]] == ["aia131", "aia131+aia1600",
                                                    "aia131+aia1600+aia304"]
    assert len(tables) == 3 and len(saved["rounds"][2]) == 3
    with pytest.raises(ValueError, match="lower --inputs-max"):
        run_greedy(settings, run, None, None, CH, np.zeros(1), rounds=5)


def test_select_greedy_checks_rounds_before_ray(tmp_path):
    ch = ("hmi_m", "aia171", "aia193", "aia304")
    image = toy_samples(2, ch, size=16, seed=0)["image"]
    rows = [{"t_obs": datetime(2024, 2, 3, h), "sample_id": f"2024-02-03T{h:02d}:00:00",
             "image": image[i], "present": np.ones(len(ch), bool), "meta": "{}",
             "masks": None, "labels": {}} for i, h in enumerate((0, 6))]
    (tmp_path / "shards").mkdir()
    write_shard(rows, str(tmp_path / "shards"), ch)
    p = argparse.ArgumentParser()
    translate.add_arguments(p)
    args = p.parse_args(["select", "--greedy", "--data", str(tmp_path / "shards"),
                         "--inputs-max", "3", "--storage", str(tmp_path / "runs")])
    # three AIA candidates: a third round would leave nothing to predict
    with pytest.raises(UsageError, match="lower --inputs-max"):
        translate.run(args)
    args.inputs_max = 0
    with pytest.raises(UsageError, match="--inputs-max must be >= 1"):
        translate.run(args)
