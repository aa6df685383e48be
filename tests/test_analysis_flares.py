"""Flare detection: the NOAA/SEPC rule on hand-made light curves, real GOES-15 days, bad files,
GOES classes, the flare index and AIA 193 Å localisation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import sunpy.map
from astropy.io import fits
from sunpy.data.test import get_test_filepath

from solarray.analysis import coords as C
from solarray.analysis import flares as F
from solarray.core import goes
from solarray.data.tables import goes_xrs as X
from tests.analysis_maps import make_header


def _series(values, start="2024-01-01 00:00"):
    return pd.Series(np.asarray(values, dtype=float) * 1e-6,
                     index=pd.date_range(start, periods=len(values), freq="1min"))


# --------------------------------------------------------------------------- classes
@pytest.mark.parametrize("flux,cls", [(2.5554e-5, "M2.5"), (1e-4, "X1.0"), (9.99e-6, "C9.9"),
                                      (3.4e-6, "C3.4"), (1.2e-3, "X12.0"), (2.5e-5, "M2.5"),
                                      (1e-7, "B1.0"), (5e-9, "A0.5")])
def test_goes_class(flux, cls):
    assert goes.goes_class(flux) == cls


def test_parse_class_and_errors():
    assert goes.parse_class("m2.5") == ("M", 2.5)
    assert goes.class_to_flux("X1.2") == pytest.approx(1.2e-4)
    with pytest.raises(ValueError, match="GOES class"):
        goes.parse_class("Q1")
    with pytest.raises(ValueError, match="positive"):
        goes.goes_class(-1.0)


# --------------------------------------------------------------------------- the rule
BG = [1.0] * 5


def test_exactly_four_rising_minutes_at_1p4_is_a_flare():
    # 4 rising values, 4th = 1.4 × 1st, then decay: the start is the first of the four.
    ev = F.detect_flares(_series(BG + [1.0, 1.1, 1.25, 1.4, 1.3, 1.25, 1.19, 1.1] + BG))
    assert len(ev) == 1
    e = ev.iloc[0]
    t0 = pd.Timestamp("2024-01-01 00:00")
    assert e["start"] == t0 + pd.Timedelta(minutes=5)  # the flat 1.0 before is not rising
    assert e["peak"] == t0 + pd.Timedelta(minutes=8) and e["peak_flux"] == pytest.approx(1.4e-6)
    # Halfway back from 1.4 to the pre-flare 1.0 is 1.2: first value ≤ 1.2 after the peak.
    assert e["end"] == t0 + pd.Timedelta(minutes=11) and e["end_reason"] == "half"
    assert e["goes_class"] == "C1.4" and e["complete"]


def test_1p39_is_not_a_flare():
    assert len(F.detect_flares(_series(BG + [1.0, 1.1, 1.25, 1.39, 1.3, 1.2] + BG))) == 0


def test_three_rising_minutes_are_not_enough():
    # 1.0 → 2.0 in three rising values, then flat: the 4-value window is not monotonic.
    assert len(F.detect_flares(_series(BG + [1.0, 1.5, 2.0, 2.0, 2.0] + BG))) == 0


def test_second_flare_during_decay():
    rise1 = [1.0, 2.0, 4.0, 10.0]
    decay = [9.0, 8.0, 7.0, 6.0]  # above halfway (5.5): the first flare has not ended
    rise2 = [6.5, 7.0, 8.0, 10.0, 20.0]  # 6.5→10.0 is ×1.54 over four rising minutes
    tail = [15.0, 12.0, 9.0, 5.0, 3.0, 2.0]
    ev = F.detect_flares(_series(BG + rise1 + decay + rise2 + tail + BG))
    assert len(ev) == 2
    first, second = ev.iloc[0], ev.iloc[1]
    assert first["end_reason"] == "next_flare" and first["end"] == second["start"]
    assert first["peak_flux"] == pytest.approx(1e-5) and first["goes_class"] == "M1.0"
    assert second["start_flux"] == pytest.approx(6.5e-6)  # 6.0→8.0 is only ×1.33
    assert second["peak_flux"] == pytest.approx(2e-5) and second["goes_class"] == "M2.0"
    # Second flare: halfway between 20 and 6.5 is 13.25 → ends at the 12.0 minute.
    assert second["end"] - second["peak"] == pd.Timedelta(minutes=2)


def test_event_running_at_data_end_and_nan_window():
    ev = F.detect_flares(_series(BG + [1.0, 1.2, 1.5, 2.0, 3.0]))
    assert len(ev) == 1 and not ev.iloc[0]["complete"] and pd.isna(ev.iloc[0]["end"])
    assert F.events_to_records(ev)[0]["end"] is None
    # A missing minute inside the rising window prevents the start there.
    assert len(F.detect_flares(_series(BG + [1.0, np.nan, 1.5, 2.0, 1.0] + BG))) == 0


# --------------------------------------------------------------------------- cleaning
def test_clean_xrs_removes_bad_samples_and_reports_gaps():
    idx = pd.date_range("2024-01-01", periods=60 * 30, freq="2s")  # 1 h at 2 s
    xrsb = np.full(len(idx), 1e-6)
    xrsb[10] = np.nan
    xrsb[20] = -99999.0
    xrsb[30] = 0.0
    q = np.zeros(len(idx), dtype=int)
    q[40] = 4
    xrsb[40] = 1.0  # absurd value, flagged: must not reach the minute mean
    xrsb[300:360] = np.nan  # minutes 10-11 missing (2 min): interpolated
    xrsb[900:1200] = np.nan  # minutes 30-39 missing (10 min): stays a gap
    df = pd.DataFrame({"xrsa": xrsb / 10, "xrsb": xrsb, "xrsb_quality": q}, index=idx)
    out = X.clean_xrs(df, max_interp_minutes=3)
    r = out.report
    assert r["xrsb_nonfinite"] == 1 + 60 + 300 and r["xrsb_nonpositive"] == 2
    assert r["xrsb_flagged"] == 1
    assert r["missing_minutes"] == 12 and r["interpolated_minutes"] == 2
    assert r["long_gaps"] == [{"start": "2024-01-01T00:30:00", "minutes": 10}]
    assert out.flux["xrsb"].max() == pytest.approx(1e-6)
    assert out.flux["xrsb"].isna().sum() == 10
    with pytest.raises(X.XRSReadError, match="no valid"):
        X.clean_xrs(pd.DataFrame({"xrsb": [np.nan, -1.0]}, index=idx[:2]))


# --------------------------------------------------------------------------- real GOES-15 days
def test_real_day_2011_06_07_m25():
    ev, data = F.detect_from_file(get_test_filepath("go1520110607.fits"))
    x = data.flux["xrsb"]
    assert data.report["missing_minutes"] == 0 and len(x) == 1441
    # One event: the M2.5 of 2011-06-07 (NOAA: start 06:16, peak 06:41, end 06:59).
    assert len(ev) == 1
    e = ev.iloc[0]
    assert e["goes_class"] == "M2.5"
    assert e["start"] == pd.Timestamp("2011-06-07 06:16")
    assert e["peak"] == pd.Timestamp("2011-06-07 06:41") == x.idxmax()
    assert e["end"] == pd.Timestamp("2011-06-07 06:59")
    _check_rule(x, ev)


def test_real_day_2012_06_01_c_flares():
    ev, data = F.detect_from_file(get_test_filepath("go1520120601.fits.gz"))
    x = data.flux["xrsb"]
    assert list(ev["goes_class"]) == ["C2.1", "C1.1", "C2.4", "C1.8", "C3.3"]
    # The day's largest flare is the 22:41 C3.3 (raw 2 s maximum 3.40e-6 at 22:42:07).
    assert ev.iloc[-1]["peak"] == x.idxmax() == pd.Timestamp("2012-06-01 22:41")
    _check_rule(x, ev)


def _check_rule(x: pd.Series, ev: pd.DataFrame) -> None:
    """Each event starts where the rule fires (and not a minute earlier), peaks at its maximum
    and ends at the first minute halfway back."""
    f = x.to_numpy()
    for e in ev.itertuples():
        i = x.index.get_loc(e.start)
        w = f[i:i + 4]
        assert np.all(np.diff(w) > 0) and w[3] >= 1.4 * w[0]
        p = f[i - 1:i + 3]
        assert not (np.all(np.diff(p) > 0) and p[3] >= 1.4 * p[0])
        j = x.index.get_loc(e.end)
        assert f[i:j + 1].max() == pytest.approx(e.peak_flux)
        k = x.index.get_loc(e.peak)
        half = (e.peak_flux + e.start_flux) / 2
        assert f[j] <= half and np.all(f[k + 1:j] > half)


def test_damaged_real_file_gaps_negative_nan(tmp_path):
    src = get_test_filepath("go1520110607.fits")
    with fits.open(src) as h:
        time = h[2].data["TIME"][0].copy()
        flux = h[2].data["FLUX"][0].copy()  # [N, 2]: xrsb (1-8 Å), xrsa
        flux[100:130, 0] = np.nan
        flux[200:210, 0] = -1e-7
        flux[300:305, 0] = -99999.0  # the fill value: sunpy turns it into NaN itself
        keep = np.ones(len(time), dtype=bool)
        keep[20000:20600] = False  # ~20 min of missing samples around 11:07 UT
        cols = fits.ColDefs([
            fits.Column(name="TIME", format=f"{keep.sum()}D", unit="s", array=time[keep][None]),
            fits.Column(name="FLUX", format=f"{2 * keep.sum()}E", unit="W /m**2",
                        dim=f"(2,{keep.sum()})", array=flux[keep][None]),
        ])
        hdu = fits.BinTableHDU.from_columns(cols, header=h[2].header)
        out = fits.HDUList([h[0].copy(), h[1].copy(), hdu, h[3].copy()])
        path = tmp_path / "go1520110607_damaged.fits"
        out.writeto(path)
    ev, data = F.detect_from_file(path)
    r = data.report
    assert r["xrsb_nonfinite"] == 35 and r["xrsb_nonpositive"] == 10
    assert r["long_gaps"] and r["long_gaps"][0]["minutes"] >= 15
    assert list(ev["goes_class"]) == ["M2.5"]


def test_unreadable_file_is_a_clear_error(tmp_path):
    bad = tmp_path / "not_goes.fits"
    fits.PrimaryHDU(np.zeros((4, 4))).writeto(bad)
    with pytest.raises(X.XRSReadError, match="not_goes.fits"):
        X.read_xrs(bad)
    with pytest.raises(X.XRSReadError, match="no such file"):
        X.read_xrs(tmp_path / "missing.fits")


# --------------------------------------------------------------------------- flare index
def _fi_events():
    return pd.DataFrame({
        "peak": pd.to_datetime(["2024-01-02 10:00", "2024-01-02 11:00", "2024-01-02 12:00",
                                "2024-01-02 12:10", "2024-01-02 12:20", "2024-01-01 12:30",
                                "2024-01-02 12:30", "2024-01-02 13:30"]),
        "goes_class": ["M2.5", "C3.0", "X1.0", "C6.0", "B5.0", "C9.0", "C5.0", "M1.0"],
        "ar_number": [1, 1, 2, 1, 2, 1, None, 2],
    })


def test_flare_weights_count_magnitude_and_minimum_class():
    classes = ["M2.5", "C3.0", "X1.0", "C6.0", "B5.0", "C5", "X12.0"]
    assert F.flare_weights(classes).tolist() == [10, 0, 100, 1, 0, 1, 100]
    assert F.flare_weights(classes, weighting="magnitude").tolist() == [25, 0, 100, 6, 0, 5, 1200]
    assert F.flare_weights(classes, min_class="C1.0").tolist() == [10, 1, 100, 1, 0, 1, 100]
    assert F.flare_weights(classes, min_class="M1").tolist() == [10, 0, 100, 0, 0, 0, 100]
    with pytest.raises(ValueError, match="weighting"):
        F.flare_weights(classes, weighting="sum")
    with pytest.raises(ValueError, match="min_class"):
        F.flare_weights(classes, min_class="Q5")


def test_flare_index_24h_counts_flares_at_least_c5():
    ev = _fi_events()
    disk, per_ar = F.flare_index(ev, "2024-01-02 12:30")
    # Window (01-01 12:30, 01-02 12:30]: the C9.0 at exactly −24 h is out, the C5.0 at t_ref in.
    # Counts ≥ C5.0: M2.5, X1.0, C6.0 and the unlocated C5.0 (C3.0 and B5.0 are below C5).
    assert disk == {"fi": 100 * 1 + 10 * 1 + 1 * 2, "n_c": 2, "n_m": 1, "n_x": 1, "n": 4}
    ar = per_ar.set_index("ar_number")
    assert ar.loc[1, "fi"] == 10 + 1 and ar.loc[2, "fi"] == 100  # the C5.0 counts for the disk only
    assert ar["fi"].sum() == 111  # the brief's M2.5, C3.0, X1.0, C6.0, B5.0 → 100 + 10 + 1
    later, per = F.flare_index(ev, "2024-01-02 14:00")
    assert later["fi"] == 112 + 10 and per.set_index("ar_number").loc[2, "fi"] == 110
    empty, table = F.flare_index(ev.iloc[:0], "2024-01-02")
    assert empty["fi"] == 0 and len(table) == 0


def test_flare_index_options_magnitude_and_min_class():
    ev = _fi_events()
    t = "2024-01-02 12:30"
    mag, per = F.flare_index(ev, t, weighting="magnitude")
    assert mag["fi"] == pytest.approx(25 + 100 + 6 + 5)
    assert per.set_index("ar_number").loc[1, "fi"] == pytest.approx(31.0)
    low, per = F.flare_index(ev, t, min_class="C1.0")
    assert low["fi"] == 113 and low["n_c"] == 3 and per.set_index("ar_number").loc[1, "fi"] == 12
    old, _ = F.flare_index(ev, t, min_class="C1.0", weighting="magnitude")
    assert old["fi"] == pytest.approx(139.0)  # the former magnitude sum over all C flares
    m_only, _ = F.flare_index(ev, t, min_class="M1.0")
    assert m_only == {"fi": 110, "n_c": 0, "n_m": 1, "n_x": 1, "n": 2}
    with pytest.raises(ValueError, match="weighting"):
        F.flare_index(ev, t, weighting="flux")


def test_flare_index_series_equals_flare_index_and_knows_unknown():
    rng = np.random.default_rng(3)
    n = 60
    ev = pd.DataFrame({
        "peak": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.uniform(0, 96, n), unit="h"),
        "goes_class": [f"{rng.choice(list('BCMX'))}{rng.uniform(1, 9.9):.1f}" for _ in range(n)],
        "ar_number": rng.choice([1, 2, 3], n).astype(float),
    })
    ev.loc[:4, "ar_number"] = np.nan  # unlocated: disk only
    times = pd.date_range("2024-01-01", periods=17, freq="6h")
    regions = rng.choice([1, 2, 3, 4], len(times))
    for opts in ({}, {"weighting": "magnitude", "min_class": "C1.0"}):
        disk = F.flare_index_series(ev, times, **opts)
        per = F.flare_index_series(ev, times, regions=regions, **opts)
        for i, t in enumerate(times):
            d, table = F.flare_index(ev, t, **opts)
            assert disk[i] == pytest.approx(d["fi"])
            hit = table[table["ar_number"] == regions[i]]
            assert per[i] == pytest.approx(hit["fi"].iloc[0] if len(hit) else 0.0)
    assert (disk > 0).sum() >= 8 and (per > 0).sum() >= 4  # the data exercise the sums
    # Unknown, not 0: flares without regions, a null region id, no history at all.
    no_loc = ev.drop(columns="ar_number")
    assert np.isnan(F.flare_index_series(no_loc, times, regions=regions)).all()
    assert np.isnan(F.flare_index_series(ev.assign(ar_number=np.nan), times,
                                         regions=regions)).all()
    assert np.isfinite(F.flare_index_series(no_loc, times)).all()  # the disk stays known
    got = F.flare_index_series(ev, times[:2], regions=[1, None])
    assert np.isfinite(got[0]) and np.isnan(got[1])
    assert np.isnan(F.flare_index_series(None, times)).all()
    assert F.flare_index_series(ev.iloc[:0], times[:3], regions=[1, 2, 3]).tolist() == [0, 0, 0]
    with pytest.raises(ValueError, match="regions"):
        F.flare_index_series(ev, times, regions=[1])


# --------------------------------------------------------------------------- localisation
def test_localise_flare_to_ar():
    size = 96
    hdr = make_header(size)
    grid = sunpy.map.Map(np.zeros((size, size)), hdr)
    g = C.map_geometry(grid)
    labels = np.zeros((size, size), dtype=np.int32)
    a1 = (C.great_circle_deg(g.lon, g.lat, -30, 15) < 5) & g.on_disk
    a2 = (C.great_circle_deg(g.lon, g.lat, 25, -10) < 5) & g.on_disk
    labels[a1], labels[a2] = 1, 2
    table = pd.DataFrame({"label": [1, 2], "number": [101, 102], "hgs_lon": [-30.0, 25.0],
                          "hgs_lat": [15.0, -10.0]})
    rng = np.random.default_rng(0)
    base = 800 + rng.normal(0, 5, (size, size))
    # AIA-like images on a different, rolled grid (EXPTIME 2 s → DN).
    aia_hdr = make_header(80, fov_rsun=1.25) | {"exptime": 2.0}
    aia = sunpy.map.Map(np.zeros((80, 80)), aia_hdr)
    start = sunpy.map.Map(2.0 * C.resample_to(sunpy.map.Map(base, hdr), aia), aia_hdr)
    flare = base + 5000 * ((C.great_circle_deg(g.lon, g.lat, 25, -10) < 2) & g.on_disk)
    peak = sunpy.map.Map(2.0 * C.resample_to(sunpy.map.Map(flare, hdr), aia), aia_hdr)
    loc = F.localise_flare(start, peak, grid, labels, table, geometry=g)
    assert loc["ar_number"] == 102 and loc["method"] == "inside"
    assert loc["hgs_lon"] == pytest.approx(25, abs=4) and loc["hgs_lat"] == pytest.approx(-10, abs=4)
    # A brightening away from every AR is credited to the nearest one only within the limit.
    far = base + 5000 * ((C.great_circle_deg(g.lon, g.lat, 0, 40) < 2) & g.on_disk)
    peak2 = sunpy.map.Map(2.0 * C.resample_to(sunpy.map.Map(far, hdr), aia), aia_hdr)
    loc2 = F.localise_flare(start, peak2, grid, labels, table, geometry=g, max_distance_deg=10)
    assert loc2["ar_number"] is None and loc2["method"] == "none"


def test_flare_index_with_no_event_in_the_window():
    import pandas as pd

    events = pd.DataFrame({"peak": pd.to_datetime(["2024-01-01T00:00"]), "goes_class": ["M2.5"],
                           "number": [3]})
    disk, per = F.flare_index(events, "2024-01-05T00:00", by="number")
    assert disk["fi"] == 0.0 and disk["n"] == 0 and len(per) == 0
    disk, per = F.flare_index(events, "2024-01-01T06:00", by="number")
    assert disk["fi"] == 10.0 and per.loc[0, "fi"] == 10.0  # one M flare counts 10
