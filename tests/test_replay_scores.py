"""The oracle beside each replayed forecast: a detected region gets the chance of the true region
it sits on, one that sits on none gets 0, the full disk gets the sum over every region."""

import numpy as np
import pandas as pd

from solarray.data.synthetic import SynthConfig, generate
from solarray.data.synthetic.oracle import expected_m_flares, synth_sun
from solarray.live.replay_scores import replay_pairs
from solarray.live.store import ForecastStore


def test_replay_pairs_put_the_matched_true_regions_oracle_beside_each_forecast(tmp_path):
    synth = tmp_path / "synth"
    generate(SynthConfig(start="2024-01-01T00:00", hours=12, cadence_minutes=360, size=64,
                         seed=3, activity=1.35, channels=("hmi_m",), preview=False), synth)
    sun, t0 = synth_sun(synth)
    truth = pd.read_parquet(synth / "tables" / "ar.parquet")
    t = pd.Timestamp("2024-01-01T06:00")
    now = truth[pd.to_datetime(truth["t_obs"], utc=True).dt.tz_localize(None) == t]
    big = now.sort_values("area_msh").iloc[-1]
    on = {"number": 1, "hgs_lon": float(big["hgs_lon"]) + 1.0, "hgs_lat": float(big["hgs_lat"]),
          "area_msh": 300.0, "p_m24": 0.4}
    # A detection far from every true region (its nearest is more than 5° + its radius away).
    lon = np.linspace(-80, 80, 161)
    far = lon[np.argmax([min(np.hypot(x - now["hgs_lon"], -60 - now["hgs_lat"])) for x in lon])]
    off = {"number": 2, "hgs_lon": float(far), "hgs_lat": -60.0, "area_msh": 10.0, "p_m24": 0.1}
    store = ForecastStore(tmp_path / "store")
    store.add_forecast({"observation_time": t.isoformat(), "full_disk": {"p_m24": 0.3},
                        "regions": [on, off]}, [], 0.1)
    store.add_outcome(t, True, "M2.0", {1: 1, 2: 0}, "test")

    pairs = replay_pairs(store, synth)
    day = (t - t0) / pd.Timedelta(days=1)
    want_on = 1 - np.exp(-expected_m_flares(sun.region(int(big["ar_number"])), day))
    regions = pairs["regions"]
    assert regions["probability"].tolist() == [0.4, 0.1]
    assert regions["observed"].tolist() == [1.0, 0.0]
    np.testing.assert_allclose(regions["oracle"], [want_on, 0.0], rtol=1e-12)
    want_disk = 1 - np.exp(-sum(expected_m_flares(r, day) for r in sun.active_regions))
    disk = pairs["full_disk"]
    assert disk["probability"].tolist() == [0.3] and disk["observed"].tolist() == [1.0]
    np.testing.assert_allclose(disk["oracle"], [want_disk], rtol=1e-12)
    assert want_disk >= want_on > 0
