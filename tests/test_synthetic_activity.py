"""The synthetic Sun's activity: no model input sees the future (flares from their start, daily
indices from their measurement hour, McIntosh at t, nothing from behind the limb), the Hale class
is what the magnetogram shows, and flare productivity follows the PIL flux continuously."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from solarray.core.classes import HALE_CLASSES
from solarray.core.geometry import earth_observer, grid_geometry
from solarray.data.synthetic import activity, model, productivity, render
from solarray.data.synthetic.benchmark_sun import LOOKAHEAD_CHECKS, flare_productivity
from solarray.data.synthetic.generator import SynthConfig
from solarray.data.synthetic.level1 import instrument_grid
from solarray.data.tables.indices import MEASURED_HOUR_UTC, index_at
from solarray.metrics.verification import roc_auc


def _bipole_region(number=1, lon0=0.0, t_birth=0.0, t_grow=0.05, flux=1e22, sep=3.0):
    poles = [model.Pole(sep / 2, 0.0, 0.6 * flux, 0.8), model.Pole(-sep / 2, 0.0, -0.6 * flux, 0.8)]
    return model.ActiveRegion(number, lon0, 10.0, t_birth, t_grow, 20.0, "beta", poles, flux, sep,
                              (0.0, 0.0))


def test_no_flare_flux_before_its_start():
    f = model.Flare(1, 1.0, 5e-5, 5.0, 15.0, (0.0, 0.0))
    minute = 1.0 / 1440.0
    before = np.array([f.start_time - 10 * minute, f.start_time - 1e-9])
    assert np.all(f.profile(before) == 0.0)
    assert 0.0 < f.profile(np.array([f.start_time + minute]))[0] < 0.1 * f.excess_flux
    assert f.profile(np.array([f.peak_time]))[0] == pytest.approx(f.excess_flux)
    # GOES: both channels equal the flare-free Sun's until the start, differ after it.
    region = _bipole_region()
    quiet = model.SunModel([region], [], [])
    flaring = model.SunModel([region], [], [], flares=[f])
    t = np.arange(0.9, 1.1, minute)
    qa, qb = activity.xrs_series(quiet, t, seed=1)
    fa, fb = activity.xrs_series(flaring, t, seed=1)
    pre, post = t < f.start_time, t > f.start_time + 2 * minute
    np.testing.assert_array_equal(fa[pre], qa[pre])
    np.testing.assert_array_equal(fb[pre], qb[pre])
    assert np.all(fa[post] > qa[post]) and np.all(fb[post] > qb[post])
    # Images: no flare brightening before the start, some just after it.
    obs = earth_observer("2024-01-01T00:00")
    grid = instrument_grid("AIA", 64, obs, np.random.default_rng(0))
    geom = grid_geometry(grid, obs)
    early = render.render_fields(flaring, f.start_time - minute, grid, obs, geom)
    late = render.render_fields(flaring, f.start_time + 3 * minute, grid, obs, geom)
    assert not early.flare.any() and late.flare.max() > 0


def test_flares_behind_the_limb_are_not_seen_by_goes():
    behind = _bipole_region(lon0=150.0)
    f = model.Flare(1, 0.5, 1e-4, 5.0, 15.0, (0.0, 0.0))
    sun = model.SunModel([behind], [], [], flares=[f])
    t = np.linspace(0.4, 0.6, 200)
    _, with_flare = activity.xrs_series(sun, t, seed=2)
    _, without = activity.xrs_series(model.SunModel([behind], [], []), t, seed=2)
    np.testing.assert_array_equal(with_flare, without)
    assert activity.seen_by_goes(sun, f) == 0.0
    front = model.SunModel([_bipole_region()], [], [], flares=[f])
    assert activity.seen_by_goes(front, f) == 1.0


def test_an_observation_never_reads_an_index_describing_the_sun_after_it():
    """F10.7 as attached to an observation (the latest value measured by then, index_at) is the
    same with and without a region emerging after the observation: one at 07:12 UT of day 0
    shows from day 0's measurement (20 UT) on, one emerging just after 20 UT not on day 0."""
    days = np.array([-1.0, 0.0, 1.0])  # midnights, days since the start
    dates = pd.DatetimeIndex(["2023-12-31", "2024-01-01", "2024-01-02"])
    start = pd.Timestamp("2024-01-01T00:00")
    measured = MEASURED_HOUR_UTC / 24.0

    def f107(*regions):
        values, _ = activity.f107_series(model.SunModel(list(regions), [], []), days, seed=0)
        return pd.Series(values, index=dates)

    def at(series, t_day):
        return index_at(series, [start + pd.Timedelta(days=t_day)])[0]

    quiet, morning = f107(), f107(_bipole_region(t_birth=0.3))
    for t_day in (0.25, 0.35, measured - 1e-3):
        assert at(quiet, t_day) == at(morning, t_day), t_day
    assert at(morning, measured + 1e-3) > at(quiet, measured + 1e-3) + 1.0
    evening = f107(_bipole_region(t_birth=measured + 0.01, t_grow=0.01))
    assert at(evening, measured + 0.05) == at(quiet, measured + 0.05)
    assert at(evening, 1.0 + measured + 1e-3) > at(quiet, 1.0 + measured + 1e-3) + 1.0


def test_mcintosh_penumbrae_grow_with_the_field_not_before():
    spots = [model.Pole(3.0, 0.0, 0.6e22, 0.5), model.Pole(-3.0, 0.0, -0.6e22, 0.5)]
    assert all(p.peak_gauss > 1.2 * model.PENUMBRA_GAUSS for p in spots)
    region = model.ActiveRegion(1, 0.0, 10.0, 0.0, 2.0, 20.0, "beta", spots, 1e22, 6.0, (0, 0))
    assert region.mcintosh_at(0.2) == "B"  # 10 % grown: no penumbra yet
    assert region.mcintosh_at(2.0) == "D"  # full strength: two penumbrae, extent ≤ 10°


def test_hale_class_is_the_delta_spot_in_the_magnetogram():
    """beta-x exactly when the full-strength field has opposite-polarity umbrae closer than
    DELTA_MAX_DEG; compact bipoles, with substantial PIL flux, are never δ-spots."""
    seen = {h: 0 for h in HALE_CLASSES}
    compact_beta = 0
    for seed in range(12):
        for r in model.build_sun(seed, 5.0, 2024.2).active_regions:
            assert bool(model.delta_spots(r)) == (r.hale == "beta-x"), (seed, r.number, r.hale)
            seen[r.hale] += 1
            compact_beta += r.hale == "beta" and r.separation < 4.0
    assert min(seen.values()) >= 5 and compact_beta >= 5, (seen, compact_beta)


def test_productivity_follows_pil_flux_continuously_not_the_class():
    """Over long active Suns: beta-x give most ≥M flares but not all (compact beta bipoles give a
    good share, alpha almost none), PIL flux ranks regions by their ≥M flares better than the
    Hale class, and the expected ≥M rate grows continuously with it."""
    hale, pil, big, n_big = [], [], [], {h: 0 for h in HALE_CLASSES}
    for seed in range(11, 17):
        sun = model.build_sun(seed, 30.0, 2024.0, activity=3.0)
        flares = activity.simulate_flares(sun, 0.0, 30.0, seed=seed)
        count = {r.number: 0 for r in sun.active_regions}
        for f in flares:
            if f.excess_flux >= 1e-5:
                count[f.ar_number] += 1
                n_big[sun.region(f.ar_number).hale] += 1
        for r in sun.active_regions:
            hale.append(r.hale)
            pil.append(r.pil_flux)
            big.append(int(count[r.number] > 0))
    total = sum(n_big.values())
    share = {h: n / total for h, n in n_big.items()}
    assert total >= 300, total
    assert 0.5 <= share["beta-x"] <= 0.8 and 0.2 <= share["beta"] <= 0.5, share
    assert share["alpha"] < 0.1, share
    rank = np.array([HALE_CLASSES.index(h) for h in hale]) / 2.0
    x = np.array(pil)
    assert roc_auc(big, x / x.max()) > roc_auc(big, rank) + 0.03
    xs = np.linspace(0.0, 3.0, 301)
    rates = np.array([activity.m_rate(v) for v in xs])
    assert np.all(np.diff(rates) > 0) and np.max(np.diff(rates)) < 0.05  # no class switch


def test_share_by_class_on_a_hand_made_flare_list():
    classes = ["beta-x", "beta", "beta-x", "alpha", "beta-x", "beta", "unknown"]
    flux = [2e-5, 1e-5, 5e-4, 9.9e-6, 1e-6, 3e-5, 1.2e-5]
    # ≥M1: beta-x twice, beta twice, one of a class outside the vocabulary (counted in the total)
    assert productivity.share_by_class(classes, flux) == {"alpha": 0.0, "beta": 0.4,
                                                          "beta-x": 0.4}
    share = productivity.share_by_class(classes, flux, min_flux=1e-6)
    assert share["beta-x"] == pytest.approx(3 / 7)
    assert productivity.share_by_class(["beta"], [1e-6]) == {h: None for h in HALE_CLASSES}


def test_region_samples_are_deterministic_and_labelled_from_the_future_only():
    cfg = SynthConfig(start="2024-02-10T00:00", hours=24, cadence_minutes=360, size=64, seed=5)
    a, fa = productivity.region_samples(cfg)
    b, fb = productivity.region_samples(cfg)
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(fa, fb)
    assert len(a) and set(a["label"]) <= {0, 1} and set(a["hale"]) <= set(HALE_CLASSES)
    auc = productivity.ranking_auc(a)
    assert set(auc) == {"hale", "pil_flux", "area_msh"}


def test_benchmark_description_recomputes_productivity_from_each_run_config(tmp_path):
    cfg = SynthConfig(start="2024-02-10T00:00", hours=24, cadence_minutes=360, size=64, seed=5)
    (tmp_path / "synth" / "r0").mkdir(parents=True)
    (tmp_path / "synth" / "r0" / "synth.json").write_text(json.dumps({"config": cfg.to_dict()}))
    (tmp_path / "runs.json").write_text(json.dumps({"runs": [{"name": "r0"}]}))
    got = flare_productivity(tmp_path)
    assert got == productivity.productivity([cfg])
    assert got["suns"] == 1 and got["region_rows"] > 0
    assert set(got["m_flare_share_by_hale"]) == set(HALE_CLASSES)


def test_the_lookahead_checks_are_listed():
    assert len(LOOKAHEAD_CHECKS) >= 10 and all(isinstance(c, str) and c for c in LOOKAHEAD_CHECKS)
    assert any("F10.7" in c for c in LOOKAHEAD_CHECKS)
