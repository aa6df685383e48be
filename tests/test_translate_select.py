"""Channel selection (Lim 2021) as parallel Ray Tune trials on a 3-channel toy set: one trial
per input combination, two at a time, ranked by average and minimum CC."""

from __future__ import annotations

import math

import numpy as np
import pytest

from solarray.data.synthetic.toy import toy_dataset, toy_samples
from solarray.translate.selection import combinations_of

CH = ("aia171", "aia193", "aia304")
#: Two candidates: two single-input trials, one wave at two concurrent trials (the parallelism
#: and the ranking are what the selection test checks; a third trial only adds a second wave).
PAIR = CH[:2]


def test_combinations_and_bad_sizes():
    assert combinations_of(CH, 2) == [["aia171"], ["aia193"], ["aia304"], ["aia171", "aia193"],
                                      ["aia171", "aia304"], ["aia193", "aia304"]]
    with pytest.raises(ValueError, match="lower --inputs-max"):
        combinations_of(CH, 3)
    with pytest.raises(ValueError, match="duplicate"):
        combinations_of(("aia171", "aia171", "aia193"), 1)


def _concurrency_probe():
    from ray import tune

    class MaxRunning(tune.Callback):
        running = 0
        peak = 0

        def on_trial_start(self, iteration, trials, trial, **info):
            type(self).running += 1
            type(self).peak = max(type(self).peak, type(self).running)

        def on_trial_complete(self, iteration, trials, trial, **info):
            type(self).running -= 1

    return MaxRunning()


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_selection_runs_parallel_tune_trials_and_ranks_by_cc(ray_session, tmp_path):
    from solarray.tune.channel_selection import SelectionSettings, run_selection
    from solarray.tune.experiment import TuneRun
    from solarray.tune.space import SweepError

    train = toy_dataset(48, PAIR, size=32, seed=1).materialize()
    val = toy_dataset(16, PAIR, size=32, seed=2).materialize()
    images = toy_samples(16, PAIR, size=32, seed=3)["image"]
    settings = SelectionSettings(candidates=PAIR, inputs_max=1, model_config={"image_size": 32},
                                 steps=10, batch_size=8, lr=2e-3, report_every=5,
                                 val_batches=1, trial_workers=1, cpus_per_worker=0.5,
                                 name="sel")
    probe = _concurrency_probe()
    run = TuneRun(name="sel", storage_path=str(tmp_path), max_concurrent=2, verbose=0)
    table, outcome = run_selection(settings, run, train, val, PAIR, images,
                                   log=lambda *_: None, tune_callbacks=[probe])
    print(table.to_string())
    assert probe.peak == 2  # two trials trained at the same time
    assert len(table) == 2 and set(table["status"]) == {"TERMINATED"}
    assert sorted(table["inputs"]) == list(PAIR)
    assert table["rank"].tolist() == [1, 2]
    assert list(table["cc_mean"]) == sorted(table["cc_mean"], reverse=True)
    for _, row in table.iterrows():
        predicted = [c for c in PAIR if c != row["inputs"]]
        ccs = [row[f"cc_{c}"] for c in predicted]
        assert all(math.isfinite(v) for v in ccs) and math.isnan(row[f"cc_{row['inputs']}"])
        assert row["cc_mean"] == pytest.approx(np.mean(ccs))
        assert row["cc_min"] == pytest.approx(min(ccs))
        assert math.isfinite(row["val_cc_mean"])
    out = outcome.resolved.results_dir
    assert (out / "selection.csv").exists() and (out / "selection.json").exists()
    # like every sweep: a second start needs --resume
    with pytest.raises(SweepError, match="--resume"):
        run_selection(settings, run, train, val, PAIR, images, log=lambda *_: None)
    with pytest.raises(ValueError, match=r"lacks candidate channel\(s\) \['aia94'\]"):
        run_selection(SelectionSettings(candidates=(*CH, "aia94")), run, train, val, CH, images)
