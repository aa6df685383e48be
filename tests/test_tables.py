"""Table sources (:mod:`solarray.data.tables`): the shared reader's errors and each reader's
documented columns (real GOES-15 XRS and NOAA SRS files from ``sunpy.data.test``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sunpy.data.test import get_test_filepath

from solarray.data import tables as T

SRS_DIR = Path(get_test_filepath("go1520110607.fits")).parent / "SRS"


def test_read_table_errors_name_the_file(tmp_path):
    with pytest.raises(T.TableError, match=r"series .*none\.csv: no such file"):
        T.read_table(tmp_path / "none.csv", "series")
    junk = tmp_path / "junk.parquet"
    junk.write_bytes(b"not parquet at all")
    with pytest.raises(T.TableError, match=r"junk\.parquet: cannot read it as CSV/Parquet"):
        T.read_table(junk, "events")
    ok = tmp_path / "t.csv"
    pd.DataFrame({"a": [1]}).to_csv(ok, index=False)
    with pytest.raises(T.TableError, match=r"t\.csv: needs columns \['a', 'b'\], lacks \['b'\]"):
        T.read_table(ok, columns=("a", "b"))
    assert isinstance(T.TableError("x"), ValueError)
    assert list(T.read_table(ok)["a"]) == [1]


def test_goes_xrs_columns_on_a_real_goes15_file():
    data = T.read_xrs(get_test_filepath("go1520110607.fits"))
    flux = data.flux
    assert list(flux.columns) == ["xrsa", "xrsb"]
    assert isinstance(flux.index, pd.DatetimeIndex) and flux.index.tz is None
    assert (np.diff(flux.index.to_numpy()) == np.timedelta64(60, "s")).all()
    assert flux.index[0] <= pd.Timestamp("2011-06-07 00:00") < flux.index[-1]
    assert 1e-9 < np.nanmedian(flux["xrsb"]) < 1e-4  # W m⁻²
    assert data.source.endswith("go1520110607.fits")


def test_srs_columns_on_a_real_file():
    df = T.read_srs_table(SRS_DIR / "20020624SRS.txt")
    assert list(df.columns) == T.SRS_COLUMNS and len(df)
    assert df["t_obs"].eq(pd.Timestamp("2002-06-24")).all()
    assert df["mag_type"].dropna().str.isupper().all()  # 'Beta-Gamma' → 'BETA-GAMMA'


def test_flare_events_and_indices(tmp_path):
    ev = tmp_path / "events.csv"
    pd.DataFrame({"start": ["2024-01-01T10:00:00Z", "2024-01-01T09:00:00+00:00"],
                  "peak": ["2024-01-01T10:05:00Z", "2024-01-01T09:07:00Z"],
                  "goes_class": ["M2.5", None], "ar_number": [3, 4]}).to_csv(ev, index=False)
    df = T.read_flare_events(ev)
    for c in ("start", "peak", "goes_class", "peak_flux", "hgs_lon", "hgs_lat", "ar_number"):
        assert c in df.columns, c
    assert df["peak"].dt.tz is None and df["peak"].iloc[0] == pd.Timestamp("2024-01-01 10:05")
    assert list(df["goes_class"]) == ["M2.5", ""] and list(df["peak_flux"]) == [2.5e-5, 0.0]
    assert df[["hgs_lon", "hgs_lat"]].isna().all().all()
    with pytest.raises(T.TableError, match=r"events\.csv: needs columns"):
        T.read_flare_events(ev, required=("peak", "end"))
    truth = T.read_truth_events(tmp_path)
    assert list(truth["start"]) == sorted(truth["start"])
    assert T.read_truth_indices(tmp_path) is None

    ix = tmp_path / "indices.parquet"
    pd.DataFrame({"date": ["2024-01-02", "2024-01-01", "2024-01-01"], "f107": [150.0, 140.0, 142.0],
                  "f30": [120.0, None, 118.0]}).to_parquet(ix)
    table = T.read_indices(ix, ("f107", "f30"))
    assert table.index.name == "date" and list(table.columns) == ["f107", "f30"]
    assert list(table.index) == [pd.Timestamp("2024-01-01")] * 2 + [pd.Timestamp("2024-01-02")]
    assert list(T.read_indices(ix, None).columns) == ["f107", "f30"]
    series = T.read_index_series(ix, "f30")
    assert list(series) == [118.0, 120.0] and series.index[0] == pd.Timestamp("2024-01-01")
    with pytest.raises(T.TableError, match=r"indices\.parquet: needs a day column"):
        T.read_indices(ix, ("kp",))
    with pytest.raises(T.TableError, match="no column 'kp'"):
        T.read_index_series(ix, "kp")
