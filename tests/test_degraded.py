"""Degrade, don't stop: an observation missing a channel is forecast from the channels present,
marked degraded with the missing inputs named (response, page, map, store, CCMC export); without
the magnetogram the full disk comes from the flare history. The watcher forecasts an incomplete
set after its grace period instead of waiting for ever. No Ray: the cycle runs as a library."""

from __future__ import annotations

import argparse
import json
import math
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from solarray.live.ccmc import ccmc_rows
from solarray.live.store import ForecastStore
from solarray.live.watcher import WatchConfig, Watcher
from solarray.pipeline.cycle import run_cycle, stage_channels
from solarray.pipeline.degraded import (
    CLIMATOLOGY,
    FLARE_HISTORY,
    NO_FALLBACK,
    Fallback,
    InputStatus,
    assess,
    full_disk_fallback,
    history_fallback,
    rate_probability,
    status_warnings,
)
from solarray.pipeline.flare_history import FlareHistory
from solarray.pipeline.inputs import InputConfig, sample_from_fits
from solarray.pipeline.model_set import load_models
from solarray.serve.page import render_index_html

CHANNELS = ("aia193", "aia304", "hmi_m")  # what the tiny untrained stand-ins read
SIZE = 64
T0 = pd.Timestamp("2024-01-04T00:00:00")
STAGES = {"perception": ("hmi_m", "aia193", "aia304"), "forecast": ("hmi_m", "aia304")}


# ---------------------------------------------------------------------------------------------
# The decision and the fallback: pure functions on hand-made inputs
# ---------------------------------------------------------------------------------------------


def test_assess_names_the_missing_channels_and_decides_the_stages():
    full = assess(("aia304", "aia193", "hmi_m", "aia171"), STAGES)
    assert full == InputStatus((), True, True) and not full.degraded
    no304 = assess(("hmi_m", "aia193"), STAGES)
    assert no304.missing == ("aia304",) and no304.degraded
    assert no304.perceive and no304.models_forecast  # FPNet runs from the channels present
    no_b = assess(("aia193", "aia304"), STAGES)
    assert no_b.missing == ("hmi_m",) and no_b.perceive and not no_b.models_forecast
    only193 = assess(("aia193",), STAGES)  # the models' order, SPNet's channels first
    assert only193.missing == ("hmi_m", "aia304") and not only193.models_forecast
    blind = assess(("aia171",), {"perception": ("hmi_m",), "forecast": ("hmi_m",)})
    assert blind.missing == ("hmi_m",) and not blind.perceive and not blind.models_forecast
    # FPNet without any of its channels does not forecast, even with the magnetogram there
    fp_blind = assess(("hmi_m",), {"perception": ("hmi_m",), "forecast": ("aia304",)})
    assert fp_blind.perceive and not fp_blind.models_forecast
    # a model set that does not read HMI is not degraded without it
    assert not assess(("aia193",), {"perception": ("aia193",), "forecast": ()}).degraded


def test_rate_probability_hand_computed():
    # 0 C flares in 72 h: rate (0 + ½)/72 h × 10^-0.8 (C1 → M1 under γ = 1.8)
    assert rate_probability(0, 72.0) == pytest.approx(1 - math.exp(-0.5 / 72 * 10**-0.8 * 24))
    # 11.5 C flares a day, γ = 2: one M flare a day → 1 − 1/e
    assert rate_probability(11, 24.0, size_index=2.0) == pytest.approx(1 - math.exp(-1.15))
    assert rate_probability(3, 48.0, horizon_hours=48.0) > rate_probability(3, 48.0)
    with pytest.raises(ValueError, match="hours must be > 0"):
        rate_probability(1, 0.0)


def test_full_disk_fallback_history_then_climatology_then_unknown():
    fb = full_disk_fallback(4, 72.0)
    assert fb.method == FLARE_HISTORY and fb.p_m24 == pytest.approx(rate_probability(4, 72.0))
    assert fb.detail["n_flares_c1_or_above"] == 4 and fb.detail["hours"] == 72.0
    short = full_disk_fallback(4, 10.0, min_hours=24.0, climatology=0.2)
    assert short == Fallback(CLIMATOLOGY, 0.2, {"why": short.detail["why"]})
    assert "10.0 h" in short.detail["why"]
    none = full_disk_fallback(None, None)
    assert none.method == NO_FALLBACK and none.p_m24 is None
    assert "no flare history configured" in none.detail["why"]


def test_history_fallback_counts_c1_flares_of_the_lookback_and_the_coverage():
    peaks = [T0 - pd.Timedelta(hours=h) for h in (1, 5, 30, 80, -2)]
    events = pd.DataFrame({"peak": peaks, "goes_class": ["C2.0", "B5.0", "M1.0", "X1.0", "M3.0"],
                           "hgs_lon": np.nan, "hgs_lat": np.nan})
    # C2 and M1 count (B5 is below C1, X1 is older than 72 h, M3 is after t_obs)
    h = FlareHistory(events=events, source="test", xrs_start=T0 - pd.Timedelta(hours=100))
    fb = history_fallback(h, T0.tz_localize("UTC").to_pydatetime(), lookback_hours=72.0)
    assert fb.method == FLARE_HISTORY and fb.detail["n_flares_c1_or_above"] == 2
    assert fb.p_m24 == pytest.approx(rate_probability(2, 72.0))
    # a GOES record that starts 36 h before t_obs: the rate over the 36 h it covers
    h36 = FlareHistory(events=events, source="test", xrs_start=T0 - pd.Timedelta(hours=36))
    assert history_fallback(h36, T0).p_m24 == pytest.approx(rate_probability(2, 36.0))
    h12 = FlareHistory(events=events, source="test", xrs_start=T0 - pd.Timedelta(hours=12))
    assert history_fallback(h12, T0, climatology=0.3).method == CLIMATOLOGY
    assert history_fallback(FlareHistory(), T0).method == NO_FALLBACK


def test_status_warnings_say_what_is_missing_and_what_was_done():
    assert status_warnings(InputStatus(), None) == []
    (w,) = status_warnings(InputStatus(("aia304",)), None)
    assert w.startswith("DEGRADED: missing input(s) aia304") and "channels present" in w
    (w,) = status_warnings(InputStatus(("hmi_m",), True, False), Fallback(FLARE_HISTORY, 0.25))
    assert "hmi_m" in w and "no per-region forecasts" in w and "0.250" in w
    assert "flare history" in w


# ---------------------------------------------------------------------------------------------
# The cycle, the page, the map, the store and the CCMC export
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def step(tmp_path_factory):
    """One synthetic time step (``CHANNELS``, 128²) with its GOES tables."""
    from solarray.data.synthetic import SynthConfig, generate

    out = tmp_path_factory.mktemp("synth")
    generate(SynthConfig(start="2024-01-01T00:00", hours=0, size=128, seed=3, channels=CHANNELS,
                         preview=False), out)
    return out, {ch: sorted((out / "fits" / ch).glob("*.fits"))[0] for ch in CHANNELS}


def _sample(files, channels):
    return sample_from_fits([(files[c].name, files[c].read_bytes()) for c in channels],
                            InputConfig(size=SIZE, accepted=CHANNELS))


def test_cycle_without_a_channel_forecasts_degraded(step, tmp_path, one_torch_thread):
    from solarray.viz.forecast_map import map_png

    out, files = step
    models = load_models(checkpoint_dir=tmp_path)  # tiny stand-ins reading CHANNELS
    assert set(stage_channels(models)["perception"]) == set(CHANNELS)
    history = FlareHistory.load(xrs=str(out))
    full = run_cycle(_sample(files, CHANNELS), models, history=history).to_json()
    assert full["degraded"] is False and full["missing"] == [] and full["fallback"] is None

    r = run_cycle(_sample(files, ("aia193", "hmi_m")), models, history=history)
    body = r.to_json()
    assert body["degraded"] is True and body["missing"] == ["aia304"]
    assert body["fallback"] is None and body["full_disk"]["p_m24"] is not None
    assert all(row["p_m24"] is not None for row in body["regions"])  # FPNet, 304 Å absent
    assert any("DEGRADED: missing input(s) aia304" in w for w in body["warnings"])
    assert r.map_inputs().degraded == "DEGRADED: no aia304"

    r = run_cycle(_sample(files, ("aia193", "aia304")), models, history=history)
    body = r.to_json()
    assert body["degraded"] is True and body["missing"] == ["hmi_m"]
    assert body["fallback"] == FLARE_HISTORY
    expect = history_fallback(history, r.sample.t_obs)
    assert body["full_disk"]["p_m24"] == pytest.approx(expect.p_m24)
    assert body["fallback_detail"] == json.loads(json.dumps(expect.detail))
    assert body["regions"] and all(row["p_m24"] is None for row in body["regions"])
    assert body["full_disk"]["p_m24_from_regions"] is None
    assert "hmi_m" in r.map_inputs().degraded and map_png(r.map_inputs())[:4] == b"\x89PNG"
    page = render_index_html(body)
    assert "id='degraded'" in page and "data-missing='hmi_m'" in page
    assert "data-fallback='flare history'" in page and "not FPNet" in page


def test_cycle_when_spnet_reads_none_of_the_channels_present(step, tmp_path, one_torch_thread):
    """Models that read the magnetogram alone, given AIA only: no perception, no regions, the
    flare-history full disk — an answer, not an exception."""
    out, files = step
    models = load_models(checkpoint_dir=tmp_path, channels=("hmi_m",))
    sample = _sample(files, ("aia193", "aia304"))
    r = run_cycle(sample, models, history=FlareHistory.load(xrs=str(out)))
    body = r.to_json()
    assert r.inputs == InputStatus(("hmi_m",), False, False)
    assert body["regions"] == [] and body["fallback"] == FLARE_HISTORY
    assert "SPNet has none of its channels" in body["warnings"][1]  # after UNTRAINED


def _response(t: pd.Timestamp, p: float | None, **extra) -> dict:
    return {"observation_time": t.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "full_disk": {"p_m24": p, "p_m24_from_regions": None},
            "regions": [{"number": 1, "hgs_lon": 1.0, "hgs_lat": 2.0, "area_msh": 100.0,
                         "p_m24": None if extra.get("fallback") else 0.1}],
            "model_versions": {"fpnet_full_disk": "fpnet@abc"}, **extra}


def test_degraded_flag_reaches_the_store_and_the_ccmc_export(tmp_path):
    store = ForecastStore(tmp_path / "s")
    # a row written before the degraded columns existed reads as complete
    old = {"observation_time": T0.to_pydatetime(), "issued_at": T0.to_pydatetime(),
           "latency_s": 1.0, "p_full_disk": 0.5, "p_from_regions": float("nan"),
           "model_version": "fpnet_full_disk=fpnet@abc", "n_regions": 0, "regions": "[]",
           "inputs": "[]", "response": "{}"}
    store._write_row("forecasts", T0, old)
    store.add_forecast(_response(T0 + pd.Timedelta(hours=1), 0.4, degraded=True,
                                 missing=["aia304"], fallback=None), ["a.fits"], latency_s=1)
    store.add_forecast(_response(T0 + pd.Timedelta(hours=2), 0.2, degraded=True,
                                 missing=["hmi_m"], fallback=FLARE_HISTORY), ["b.fits"],
                       latency_s=1)
    fc = store.forecasts()
    assert fc["degraded"].tolist() == [False, True, True]
    assert [json.loads(m) for m in fc["missing"]] == [[], ["aia304"], ["hmi_m"]]
    assert fc["fallback"].tolist() == ["", "", FLARE_HISTORY]
    # the fallback's forecasts are scored apart from FPNet's (their own model version)
    assert fc["model_version"].iloc[2].endswith(";fallback=flare history")
    assert fc["model_version"].iloc[1] == fc["model_version"].iloc[0]

    rows = ccmc_rows(fc)
    disk = rows[rows["forecast_type"] == "full_disk"].reset_index(drop=True)
    assert disk["degraded"].tolist() == [False, True, True]
    assert disk["missing_inputs"].tolist() == ["", "aia304", "hmi_m"]
    assert disk["fallback"].tolist() == ["", "", FLARE_HISTORY]
    regions = rows[rows["forecast_type"] == "region"]
    assert regions["missing_inputs"].tolist() == ["aia304"]  # no region forecast without HMI


# ---------------------------------------------------------------------------------------------
# The watcher: a set missing a channel is forecast degraded after the grace period
# ---------------------------------------------------------------------------------------------


def test_watcher_forecasts_an_incomplete_set_after_the_grace_period(tmp_path, one_torch_thread):
    from solarray.commands.watch import _config, add_arguments
    from solarray.data.synthetic import SynthConfig, generate

    synth = tmp_path / "synth"  # the input never delivers aia304, which the models read
    generate(SynthConfig(start="2024-01-01T00:00", hours=0, size=128, seed=4,
                         channels=("aia193", "hmi_m"), preview=False), synth)
    models = load_models(checkpoint_dir=tmp_path / "none")
    landed = max(os.stat(p).st_mtime for p in (synth / "fits").rglob("*.fits"))
    logs: list[str] = []
    cfg = WatchConfig(input=str(synth / "fits"), store=str(tmp_path / "store"),
                      goes=str(synth), settle_s=0.0, cadence_minutes=12.0, size=SIZE)
    assert cfg.grace == 720.0  # one cadence step
    w = Watcher(cfg, models=models, log=logs.append)
    assert w.poll_once(landed + 60)["forecasts"] == 0  # still waited for ...
    assert not w.store.forecasts().shape[0] and not w.store.skipped()
    assert w.poll_once(landed + 721)["forecasts"] == 1  # ... then forecast, degraded
    (row,) = w.store.forecasts().to_dict("records")
    response = json.loads(row["response"])
    assert row["degraded"] and json.loads(row["missing"]) == ["aia304"]
    assert response["degraded"] and response["missing"] == ["aia304"]
    assert any("DEGRADED: no aia304" in line and "720 s" in line for line in logs)
    assert w.poll_once(landed + 2000)["forecasts"] == 0  # never twice

    # --grace sets the wait; 0 forecasts at once (a replay's steps land whole)
    p = argparse.ArgumentParser()
    add_arguments(p)
    args = p.parse_args(["--input", str(synth), "--out", str(tmp_path / "s2"), "--grace", "30min"])
    assert _config(args).grace == 1800.0
    now = WatchConfig(**{**cfg.__dict__, "store": str(tmp_path / "s3"), "grace_s": 0.0,
                         "every_s": 0.1})
    assert Watcher(now, models=models, log=logs.append).run(max_polls=1) == 1
    with pytest.raises(ValueError, match="grace_s"):
        WatchConfig(input="x", store="y", grace_s=-1)
    assert Path(now.store).is_dir()


# ---------------------------------------------------------------------------------------------
# The benchmark's pieces (benchmarks/degraded_inputs.py), on hand-made inputs
# ---------------------------------------------------------------------------------------------


def test_benchmark_removes_a_channel_and_scores_arms_by_hand():
    from solarray.benchmarks.degraded_inputs import paired, score, without
    from solarray.core.frame_header import sample_frame_header
    from solarray.pipeline.sample import Sample

    img = np.ones((3, 16, 16), np.float32)
    s = Sample(img, CHANNELS, T0.to_pydatetime(), sample_frame_header(16, T0.to_pydatetime()),
               b_los=np.ones((16, 16), np.float32))
    no_b = without(s, "hmi_m")
    assert no_b.present_channels == ("aia193", "aia304") and np.isnan(no_b.image[2]).all()
    assert no_b.b_los is None and no_b.magnetogram() is None
    assert s.present.all() and np.isfinite(s.image).all()  # the original is untouched
    assert without(s, "aia304").b_los is not None

    times = pd.date_range(T0, periods=8, freq="6h")
    y = np.array([0, 0, 1, 1, 0, 0, 1, 1])
    disk = pd.DataFrame({"arm": ["all"] * 8 + ["no_x"] * 8, "run": "r", "time": list(times) * 2,
                         "observed": list(y) * 2,
                         "probability": list(0.2 + 0.6 * y) + list(0.5 - 0.4 * y)})
    best = score(disk[disk["arm"] == "all"], False, n_boot=50)
    assert best["n"] == 8 and best["events"] == 4 and best["roca"]["value"] == 1.0
    assert best["bss"]["value"] == pytest.approx(1 - 0.04 / 0.25)  # Brier 0.2² vs 0.5·0.5
    assert score(disk[disk["arm"] == "no_x"], False, n_boot=50)["roca"]["value"] == 0.0
    d = paired(disk, "no_x", n_boot=50)
    assert d["n"] == 8 and d["roca"]["difference"] == 1.0
    assert score(disk.iloc[:0], True, n_boot=10) == {"n": 0}
