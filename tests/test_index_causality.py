"""Daily indices attached to observations are causal: an observation at t reads the latest value
*measured* at or before t (F10.7 at 20 UT), never a value measured after it — in the shared rule
(:func:`solarray.data.tables.indices.index_at`) and in every consumer that attaches an index to an
observation: ingest labels, the per-AR feature table and the forecaster's flare history."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
import pytest

from solarray.data.tables.indices import MEASURED_HOUR_UTC, index_at
from solarray.data.truth import Truth
from solarray.forecast.features import synthetic_ar_table
from solarray.pipeline.flare_history import FlareHistory

#: Day d's value is 100 + d (d = day of March 2024), so a value tells when it was measured.
DAYS = pd.date_range("2024-03-01", "2024-03-20", freq="D")
VALUES = 100.0 + DAYS.day.to_numpy()


def _measured(value: float) -> pd.Timestamp:
    return pd.Timestamp(f"2024-03-{int(value) - 100:02d}") + pd.Timedelta(hours=MEASURED_HOUR_UTC)


#: (observation time, the value it must read)
CASES = [("2024-03-10T00:00", 109.0), ("2024-03-10T19:59", 109.0), ("2024-03-10T20:00", 110.0),
         ("2024-03-10T23:30", 110.0), ("2024-03-11T06:00", 110.0)]


def test_index_at_reads_the_latest_value_measured_at_or_before_the_observation():
    series = pd.Series(VALUES, index=DAYS)
    for t, want in CASES:
        assert index_at(series, [t])[0] == want, t
    rng = np.random.default_rng(0)
    t = pd.Timestamp("2024-03-02") + pd.to_timedelta(rng.uniform(0, 17 * 86400, 500), unit="s")
    got = index_at(series, t)
    measured = pd.DatetimeIndex([_measured(v) for v in got])
    assert (measured <= t).all()  # never a value measured after the observation
    assert (t - measured < pd.Timedelta(days=1)).all()  # and the latest one
    # Missing days: the last finite value, up to the age limit; before the first one: unknown.
    gappy = series.copy()
    gappy.iloc[9:12] = np.nan  # 10–12 March missing
    assert index_at(gappy, ["2024-03-12T10:00"])[0] == 109.0
    assert np.isnan(index_at(gappy, ["2024-03-12T10:00"], max_age_days=2.0)[0])
    assert np.isnan(index_at(series, ["2024-03-01T19:00"])[0])
    assert np.isnan(index_at(series, [None])[0])
    pacific = pd.Timestamp("2024-03-10T13:30", tz="US/Pacific")  # 20:30 UT
    assert index_at(series, [pacific])[0] == 110.0


@pytest.fixture()
def tables(tmp_path):
    d = tmp_path / "tables"
    d.mkdir()
    pd.DataFrame({"date": DAYS.date, "f107": VALUES, "f30": VALUES - 50}).to_parquet(
        d / "indices.parquet")
    times = pd.to_datetime([t for t, _ in CASES], utc=True)
    pd.DataFrame({"t_obs": times, "ar_number": 1, "hgs_lon": 0.0, "hgs_lat": 10.0,
                  "area_msh": 100.0, "hale": "beta", "mcintosh": "C"}).to_parquet(d / "ar.parquet")
    pd.DataFrame({"start": pd.to_datetime(["2024-03-10T03:00"], utc=True),
                  "peak": pd.to_datetime(["2024-03-10T03:10"], utc=True),
                  "goes_class": ["M1.0"], "peak_flux": [1e-5], "ar_number": [1]}).to_parquet(
        d / "events.parquet")
    return d


def test_ingest_labels_read_the_index_measured_by_the_sample_time(tables):
    truth = Truth(str(tables))
    for t, want in CASES:
        lab = truth.labels_for(datetime.fromisoformat(t))
        assert (lab["f107"], lab["f30"]) == (want, want - 50), t


def test_feature_table_reads_the_index_measured_by_t_obs(tables):
    tab = synthetic_ar_table(tables.parent)
    assert list(tab["f107"]) == [want for _, want in CASES]


def test_flare_history_reads_the_index_measured_by_t_obs(tables):
    history = FlareHistory.load(indices=str(tables / "indices.parquet"))
    for t, want in CASES:
        assert history.f107_at(pd.Timestamp(t)) == want, t
