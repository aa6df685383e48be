"""The generator's oracle (the ceiling of any forecast on the synthetic Sun) against the flares
the generator actually makes."""

import numpy as np
import pandas as pd

from solarray.data.synthetic.activity import m_rate, simulate_flares, visible_weight
from solarray.data.synthetic.model import build_sun
from solarray.data.synthetic.oracle import (
    disk_oracle,
    expected_m_flares,
    m_rate_seen,
    oracle_columns,
)


def _sun():
    return build_sun(seed=7, days=4.0, year=2024.5, activity=1.2)


def test_rate_is_the_full_strength_rate_times_strength_on_the_disk_and_zero_behind_it():
    sun = _sun()
    r = max(sun.active_regions, key=lambda a: a.pil_flux)
    t = np.linspace(0, 4, 41)
    w = visible_weight(r, t)
    s = np.asarray(r.strength(t))
    got = m_rate_seen(r, t)
    on = (w >= 1) & (s > 0)
    assert on.any()
    np.testing.assert_allclose(got[on], m_rate(r.pil_flux) * s[on], rtol=1e-9)
    assert np.all(got[w == 0] == 0)


def test_expected_count_matches_the_generators_flares():
    """Mean number of ≥M1 flares GOES records (excess × visible weight at peak) peaking in
    (1, 2] days, over 300 realisations of the flare process of one Sun, against Σ Λ."""
    sun = _sun()
    regions = {r.number: r for r in sun.active_regions}
    want = sum(expected_m_flares(r, 1.0, 1.0) for r in regions.values())
    counts = []
    for k in range(300):
        n = 0
        for f in simulate_flares(sun, -1.0, 5.0, seed=1000 + k):
            w = float(visible_weight(regions[f.ar_number], np.array([f.peak_time]))[0])
            n += 1.0 < f.peak_time <= 2.0 and f.excess_flux * w >= 1e-5
        counts.append(n)
    assert want > 0.3
    se = np.std(counts) / np.sqrt(len(counts))
    assert abs(np.mean(counts) - want) < max(4 * se, 0.05 * want), (np.mean(counts), want)


def test_oracle_columns_and_disk_sum():
    sun = _sun()
    t0 = pd.Timestamp("2024-07-01")
    suns = {"runA": (sun, t0)}
    big = max(sun.active_regions, key=lambda a: expected_m_flares(a, 1.0)).number
    rows = pd.DataFrame({"run": ["runA"] * 3, "truth_ar": [big, -1, big],
                         "t_obs": [t0 + pd.Timedelta(hours=h) for h in (24, 24, 48)]})
    out = oracle_columns(rows, suns)
    lam = expected_m_flares(sun.region(big), 1.0)
    assert out["oracle"].iloc[0] == 1 - np.exp(-lam)
    assert out["oracle"].iloc[1] == 0 and np.isnan(out["true_r"].iloc[1])
    assert lam > 0.05 and out["true_r"].iloc[0] > 0
    disk = disk_oracle(rows.iloc[:1], suns)[0]
    total = sum(expected_m_flares(r, 1.0) for r in sun.active_regions)
    assert np.isclose(disk, 1 - np.exp(-total)) and disk >= out["oracle"].iloc[0]


def test_synth_sun_rebuilds_the_sun_a_generator_directory_was_made_from(tmp_path):
    """The Sun rebuilt from ``synth.json`` puts its regions where the directory's truth table
    says they were (a wrong seed, activity or start would move or drop them)."""
    from solarray.data.synthetic import SynthConfig, generate
    from solarray.data.synthetic.oracle import synth_sun

    generate(SynthConfig(start="2024-03-05T00:00", hours=12, cadence_minutes=360, size=64,
                         seed=21, activity=0.65, channels=("hmi_m",), preview=False), tmp_path)
    sun, t0 = synth_sun(tmp_path)
    assert t0 == pd.Timestamp("2024-03-05T00:00")
    truth = pd.read_parquet(tmp_path / "tables" / "ar.parquet")
    assert len(truth)
    t = pd.to_datetime(truth["t_obs"], utc=True).dt.tz_localize(None)
    days = ((t - t0) / pd.Timedelta(days=1)).to_numpy()
    lon = [float(sun.region(int(n)).lon(d)) for n, d in zip(truth["ar_number"], days,
                                                              strict=True)]
    np.testing.assert_allclose(lon, truth["hgs_lon"].to_numpy(float), atol=1e-6)
