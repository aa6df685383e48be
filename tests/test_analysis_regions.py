"""Entities from masks: DBSCAN in physical units, CH/FL merging, filtering, coordinates, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage
from sklearn.metrics import adjusted_rand_score

from solarray.analysis import coords as C
from solarray.analysis import fast_coords as FC
from solarray.analysis import regions as R
from solarray.analysis.grid_dbscan import grid_dbscan, neighbour_counts
from tests.analysis_maps import make_map


@pytest.fixture(scope="module")
def grid():
    m = make_map(np.zeros((256, 256)))  # ~5.98 Mm per pixel at disk centre
    return m, C.map_geometry(m)


def _cap(g, lon, lat, radius):
    return (C.great_circle_deg(g.lon, g.lat, lon, lat) < radius) & g.on_disk


def test_unit_conversion(grid):
    m, g = grid
    assert g.km_per_pixel == pytest.approx(5980, rel=0.01)
    assert R.length_to_pixels("59.8 Mm", m, g) == pytest.approx(10.0, rel=0.01)
    scale = m.scale.axis1.value
    assert R.length_to_pixels(f"{3 * scale} arcsec", m, g) == pytest.approx(3.0)
    assert R.area_to_pixels(f"{(g.km_per_pixel / 1e3) ** 2 * 4} Mm2", m, g) == pytest.approx(4.0)
    with pytest.raises(ValueError, match="length"):
        R.length_to_pixels("3 s", m, g)


def test_dbscan_eps_in_mm_groups_nearby_pieces(grid):
    m, g = grid
    ar = np.zeros((256, 256), dtype=bool)
    ar[100:110, 100:110] = True
    ar[100:110, 113:123] = True  # 3 px (≈18 Mm) gap: one AR with eps 30 Mm, two with 12 Mm
    ar[160:170, 60:70] = True
    masks = {"AR": ar}
    wide = R.find_entities(masks, m, config=R.RegionConfig(ar_eps="30 Mm", ar_min_area_msh=1))
    narrow = R.find_entities(masks, m, config=R.RegionConfig(ar_eps="12 Mm", ar_min_area_msh=1))
    assert len(wide.table) == 2 and len(narrow.table) == 3
    assert wide.labels["AR"].max() == 2
    # Labels are ordered by area: the merged pair is entity 1.
    assert wide.table.iloc[0]["n_pixels"] == 200
    # The same eps in arcsec gives the same answer.
    arcsec = 30e3 / g.km_per_pixel * m.scale.axis1.value
    same = R.find_entities(masks, m, config=R.RegionConfig(ar_eps=f"{arcsec} arcsec",
                                                           ar_min_area_msh=1))
    assert len(same.table) == 2


def test_dbscan_noise_and_small_area_filter(grid):
    m, _ = grid
    ar = np.zeros((256, 256), dtype=bool)
    ar[120:130, 120:130] = True
    ar[40, 200] = True  # an isolated pixel: DBSCAN noise when min_samples > 1
    res = R.find_entities({"AR": ar}, m, config=R.RegionConfig(ar_min_density="150 Mm2",
                                                               ar_min_area_msh=1))
    assert len(res.table) == 1 and res.labels["AR"][40, 200] == 0
    res = R.find_entities({"AR": ar}, m, config=R.RegionConfig(ar_min_area_msh=1e5))
    assert len(res.table) == 0 and any("filtered" in n for n in res.notes)


def test_ar_centre_area_and_magnetics(grid):
    m, g = grid
    ar = _cap(g, 30.0, 20.0, 6.0)
    b = np.zeros((256, 256))
    west = ar & (g.lon > 30.0)
    b[west] = -400.0
    b[ar & ~west] = 400.0
    res = R.find_entities({"AR": ar}, m, b_los=b, config=R.RegionConfig(ar_min_area_msh=1))
    row = res.table.iloc[0]
    assert row["hgs_lon"] == pytest.approx(30.0, abs=0.3)
    assert row["hgs_lat"] == pytest.approx(20.0, abs=0.3)
    assert row["area_msh"] == pytest.approx(1e6 * (1 - np.cos(np.deg2rad(6.0))), rel=0.05)
    assert row["flux_pos"] > 0 > row["flux_neg"]
    assert row["flux_pos"] == pytest.approx(-row["flux_neg"], rel=0.15)
    assert row["log_r"] > 3
    assert 30 < row["psep_mm"] < 80  # centroids ~ 4R/3π·6° apart ≈ 62 Mm
    l0 = m.meta["crln_obs"]  # = L0 of the date for an observer at HGLN_OBS = 0
    assert row["carr_lon"] == pytest.approx((l0 + row["hgs_lon"]) % 360, abs=0.01)
    assert row["mask_area_msh"] == row["area_msh"]  # the default area is the mask's
    # the field's footprint: only the western half is strong enough at 300 G
    b[ar & ~west] = 200.0
    field = R.find_entities({"AR": ar}, m, b_los=b, config=R.RegionConfig(
        ar_min_area_msh=1, ar_area="field", ar_area_gauss=300.0)).table.iloc[0]
    assert field["mask_area_msh"] == pytest.approx(row["area_msh"])
    assert field["area_msh"] == pytest.approx(float(g.area_msh[west].sum()), rel=0.02)
    assert 0.3 < field["area_msh"] / row["area_msh"] < 0.7
    with pytest.raises(ValueError, match="ar_area"):
        R.RegionConfig(ar_area="outline")


def test_ch_merge_polarity_and_span(grid):
    m, g = grid
    ch = np.zeros((256, 256), dtype=bool)
    ch[60:90, 100:120] = True
    ch[60:90, 123:143] = True  # 3 px apart (≈18 Mm)
    b = np.where(ch, -6.0, 0.0)
    merged = R.find_entities({"CH": ch}, m, b_los=b,
                             config=R.RegionConfig(ch_merge="30 Mm", ch_min_area_msh=1))
    apart = R.find_entities({"CH": ch}, m, b_los=b,
                            config=R.RegionConfig(ch_merge="10 Mm", ch_min_area_msh=1))
    assert len(merged.table) == 1 and len(apart.table) == 2
    row = merged.table.iloc[0]
    assert row["polarity"] == -1 and row["mean_b"] == pytest.approx(-6.0)
    assert row["lon_span"] == pytest.approx(row["lon_max"] - row["lon_min"]) and row["lon_span"] > 15


def test_filament_end_points(grid):
    m, g = grid
    fl = (np.abs(g.lat - 10.0) < 0.8) & (np.abs(g.lon) < 20.0) & g.on_disk
    res = R.find_entities({"FL": fl}, m, config=R.RegionConfig(fl_min_area_msh=1))
    row = res.table.iloc[0]
    ends = sorted([(row["end1_lon"], row["end1_lat"]), (row["end2_lon"], row["end2_lat"])])
    assert ends[0][0] == pytest.approx(-20.0, abs=1.5) and ends[1][0] == pytest.approx(20.0, abs=1.5)
    assert abs(ends[0][1] - 10) < 1.5 and abs(ends[1][1] - 10) < 1.5
    assert row["length_mm"] == pytest.approx(np.deg2rad(40 * np.cos(np.deg2rad(10))) * 696, rel=0.08)


def test_empty_masks_and_off_disk_pixels(grid):
    m, _ = grid
    masks = np.zeros((3, 256, 256), dtype=np.uint8)
    masks[0, 0:5, 0:5] = 1  # off the disk: ignored
    res = R.find_entities(masks, m)
    assert len(res.table) == 0 and list(res.table.columns)[:3] == ["kind", "label", "number"]
    assert any("AR: mask has no on-disk pixels" in n for n in res.notes)
    assert all(lab.max() == 0 for lab in res.labels.values())


def test_bad_inputs_are_reported(grid):
    m, _ = grid
    with pytest.raises(ValueError, match=r"\[3, H, W\]"):
        R.find_entities(np.zeros((2, 256, 256)), m)
    with pytest.raises(ValueError, match="does not match"):
        R.find_entities({"AR": np.zeros((10, 10))}, m)
    nobs = make_map(np.zeros((32, 32)), observer=False)
    with pytest.raises(C.MissingObserverError):
        R.find_entities({"AR": np.ones((32, 32))}, nobs)


@pytest.mark.parametrize("eps,min_samples", [(1.0, 1), (1.5, 3), (3.2, 7), (5.7, 12)])
def test_component_dbscan_is_sklearns_partition(eps, min_samples):
    rng = np.random.default_rng(int(eps * 10) + min_samples)
    mask = ndimage.gaussian_filter(rng.random((96, 96)), 2.5) > 0.52
    mask |= rng.random((96, 96)) < 0.01  # isolated pixels: noise for min_samples > 1
    ref = R.cluster_dbscan(mask, eps, min_samples)  # sklearn over every pixel
    got = grid_dbscan(mask, eps, min_samples)
    assert ref.max() > 1 and got.max() == ref.max()
    assert np.array_equal(got > 0, ref > 0)  # the same noise
    assert adjusted_rand_score(ref[mask], got[mask]) == pytest.approx(1.0)


def test_neighbour_counts_match_a_disk_convolution():
    mask = np.random.default_rng(0).random((40, 50)) < 0.3
    eps = 2.5
    yy, xx = np.mgrid[-2:3, -2:3]
    ref = ndimage.convolve(mask.astype(int), (yy**2 + xx**2 <= eps**2).astype(int),
                           mode="constant")
    assert np.array_equal(neighbour_counts(mask, eps), ref)


def test_ar_method_pixels_and_components_give_the_same_entities(grid):
    m, g = grid
    ar = _cap(g, 30.0, 20.0, 4.0) | _cap(g, 38.0, 22.0, 2.0) | _cap(g, -40.0, -10.0, 3.0)
    res = {meth: R.find_entities({"AR": ar}, m, config=R.RegionConfig(ar_eps="25 Mm",
                                                                       ar_method=meth))
           for meth in R.AR_METHODS}
    a, b = res["components"], res["pixels"]
    assert len(a.table) == len(b.table) >= 2
    assert np.array_equal(a.labels["AR"], b.labels["AR"])  # both numbered by area
    with pytest.raises(ValueError, match="ar_method"):
        R.RegionConfig(ar_method="fast")


def test_closed_form_geometry_and_coordinates_match_sunpy(grid):
    m, g = grid
    h, frame = FC.map_geometry(m)
    assert np.array_equal(h.on_disk, g.on_disk)
    for k in ("lon", "lat", "mu"):
        np.testing.assert_allclose(getattr(h, k), getattr(g, k), atol=1e-6, equal_nan=True)
    np.testing.assert_allclose(h.area_msh, g.area_msh, rtol=1e-6, atol=1e-9)
    dc = (h.carr_lon - g.carr_lon + 180.0) % 360.0 - 180.0
    assert np.nanmax(np.abs(dc)) < 1e-6 and h.km_per_pixel == pytest.approx(g.km_per_pixel)
    lon, lat = np.array([10.0, -40.0, 70.0]), np.array([5.0, -20.0, 30.0])
    ref, got = C.hgs_to_all(lon, lat, m), FC.hgs_to_all(lon, lat, frame)
    for k in ref:
        np.testing.assert_allclose(got[k], ref[k], atol=1e-6)
    ar = _cap(g, 30.0, 20.0, 6.0)
    tables = [R.find_entities({"AR": ar}, m, config=R.RegionConfig(ar_min_area_msh=1, coords=c))
              .table for c in R.COORDS]
    cols = ["area_msh", "hgs_lon", "hgs_lat", "hpc_x", "hpc_y", "carr_lon", "carr_lat"]
    np.testing.assert_allclose(tables[0][cols].to_numpy(float), tables[1][cols].to_numpy(float),
                               rtol=1e-7, atol=1e-6)
