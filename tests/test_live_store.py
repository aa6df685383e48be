"""The forecast store, outcomes of a forecast window (hand-made flare lists) and the running
scores (equal to ``solarray verify`` on the same forecasts)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from solarray.cli import main
from solarray.core.geometry import synodic_rate
from solarray.live.ccmc import ccmc_rows
from solarray.live.outcomes import verify_pending, window_outcome
from solarray.live.scores import running_scores, verified_pairs
from solarray.live.store import ForecastStore, StoreError
from solarray.pipeline.flare_history import FlareHistory

T0 = pd.Timestamp("2024-01-01T00:00:00")


def _response(t: pd.Timestamp, p: float, regions=(), version="fpnet@abc") -> dict:
    return {"observation_time": t.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "full_disk": {"p_m24": p, "p_m24_from_regions": None},
            "regions": [dict(r) for r in regions],
            "model_versions": {"fpnet_full_disk": version}}


def test_store_keys_by_time_refuses_duplicates_and_reads_back(tmp_path):
    store = ForecastStore(tmp_path / "s")
    store.add_forecast(_response(T0, 0.3), ["/x/hmi.fits"], latency_s=1.5)
    assert store.has_forecast(T0.to_pydatetime())
    with pytest.raises(StoreError, match="already stored"):
        store.add_forecast(_response(T0, 0.9), ["/x/hmi.fits"], latency_s=1.0)
    store.add_forecast(_response(T0 + pd.Timedelta(hours=30), 0.7), ["a.fits"], latency_s=2)
    fc = store.forecasts()
    assert list(fc["p_full_disk"]) == [0.3, 0.7]  # the duplicate did not replace the first
    assert json.loads(fc["inputs"][0]) == ["hmi.fits"]
    days = sorted(p.name for p in (tmp_path / "s" / "forecasts").iterdir())
    assert days == ["day=2024-01-01", "day=2024-01-02"]
    assert len(store.forecasts(since=T0 + pd.Timedelta(hours=1))) == 1
    assert not list((tmp_path / "s").rglob("*.tmp*"))  # atomic writes leave no temp files


def test_window_outcome_hand_made_flares():
    regions = [{"number": 1, "hgs_lon": 0.0, "hgs_lat": 10.0, "area_msh": 300.0},
               {"number": 2, "hgs_lon": 40.0, "hgs_lat": -15.0, "area_msh": 300.0}]
    # An M2 flare 23 h later where region 1 has rotated to (~12.6° at 10°N: without the
    # rotation it would be outside region 1's reach of 1.4° + 5°); a C5 in region 2 (below M);
    # an X1 before the window; an M5 after it.
    rate = float(synodic_rate(10.0))
    assert 12.5 < rate < 13.5  # deg/day
    ev = pd.DataFrame({
        "peak": [T0 + pd.Timedelta(hours=23), T0 + pd.Timedelta(hours=3),
                 T0 - pd.Timedelta(hours=1), T0 + pd.Timedelta(hours=24)],
        "goes_class": ["M2.0", "C5.0", "X1.0", "M5.0"],
        "hgs_lon": [rate * 23 / 24, 40.0, 0.0, 0.0], "hgs_lat": [10.0, -15.0, 10.0, 10.0]})
    out = window_outcome(ev, T0, regions)
    assert out.observed and out.max_class == "M2.0"
    assert out.regions == {1: 1, 2: 0}
    quiet = window_outcome(ev.iloc[[1]], T0, regions)
    assert not quiet.observed and quiet.max_class == "C5.0" and quiet.regions == {1: 0, 2: 0}
    # Without positions the per-region outcome is unknown, the disk outcome is not.
    blind = window_outcome(ev.assign(hgs_lon=np.nan), T0, regions)
    assert blind.observed and blind.regions == {}


def test_verify_pending_waits_for_xrs_coverage_and_scores_equal_verify(tmp_path, capsys):
    store = ForecastStore(tmp_path / "s")
    rng = np.random.default_rng(0)
    times = [T0 + pd.Timedelta(hours=6 * k) for k in range(12)]
    peaks = [T0 + pd.Timedelta(hours=h) for h in (5, 31, 50)]
    for t in times:
        store.add_forecast(_response(t, float(rng.uniform())), ["f.fits"], latency_s=0.1)
    events = pd.DataFrame({"peak": peaks, "goes_class": ["M1.0", "X2.0", "C3.0"],
                           "hgs_lon": np.nan, "hgs_lat": np.nan})
    history = FlareHistory(events=events, source="test", xrs_end=T0 + pd.Timedelta(hours=48))
    assert verify_pending(store, history) == 5  # windows ending by hour 48: t = 0, 6, ..., 24
    assert verify_pending(store, history) == 0  # idempotent
    assert verify_pending(store, FlareHistory(events=events)) == 0  # no XRS: nothing decided
    history.xrs_end = T0 + pd.Timedelta(days=10)
    assert verify_pending(store, history) == 7
    oc = store.outcomes()
    want = [int(any(t <= p < t + pd.Timedelta(hours=24) for p in peaks[:2])) for t in times]
    assert list(oc["observed"]) == want

    scores = running_scores(store, last_days=(1.0,))
    pairs = verified_pairs(store)["full_disk"]
    csv = tmp_path / "pairs.csv"
    pairs[["observed", "probability"]].to_csv(csv, index=False)
    assert main(["verify", "--forecasts", str(csv), "--json", "--out", str(tmp_path)]) == 0
    one_off = json.loads(capsys.readouterr().out)
    since = scores["full_disk"]["all"]["since_start"]
    for key in ("tss", "hss", "bss", "roca", "tp", "fn"):
        assert since[key] == pytest.approx(one_off[key]), key
    assert scores["full_disk"]["all"]["last_1d"]["n"] == 4  # t in (newest − 1 d, newest]
    assert main(["verify", "--store", str(tmp_path / "s"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["full_disk"]["all"]["since_start"]["n"] == 12

    rows = ccmc_rows(store.forecasts())
    assert len(rows) == 12 and set(rows["class_range"]) == {"M+"}
    assert rows["prediction_window_end"][0] == "2024-01-02T00:00Z"


def test_verify_store_errors(tmp_path, capsys):
    assert main(["verify", "--store", str(tmp_path / "none")]) == 2
    assert "no such directory" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["verify", "--store", str(tmp_path / "empty")]) == 2
    assert "holds no forecasts" in capsys.readouterr().err


def test_store_refuses_a_file_path(tmp_path):
    f = tmp_path / "f"
    f.write_text("x")
    with pytest.raises(StoreError, match="not a directory"):
        ForecastStore(f)
