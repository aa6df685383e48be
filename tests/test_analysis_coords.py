"""Coordinates and areas against sunpy on known points and hand-computed spherical caps."""

from __future__ import annotations

import warnings

import astropy.units as u
import numpy as np
import pytest
import sunpy.map
from sunpy.coordinates import sun
from sunpy.data.test import get_test_filepath

from solarray.analysis import coords as C
from tests.analysis_maps import make_header, make_map


@pytest.fixture(scope="module")
def geom256():
    m = make_map(np.zeros((256, 256)))
    return m, C.map_geometry(m)


def test_disk_centre_and_b0():
    m = make_map(np.zeros((65, 65)), b0=5.0)  # odd size: pixel 32 is the disk centre
    g = C.map_geometry(m)
    assert g.lon[32, 32] == pytest.approx(0.0, abs=1e-6)
    assert g.lat[32, 32] == pytest.approx(5.0, abs=1e-6)
    assert g.mu[32, 32] == pytest.approx(1.0, abs=1e-9)
    assert not g.on_disk[0, 0]
    assert np.isnan(g.lon[0, 0]) and g.area_msh[0, 0] == 0


def test_limb_points():
    m = make_map(np.zeros((64, 64)))
    rsun = m.meta["rsun_obs"]
    c = C.hgs_to_all(np.array([90.0, -90.0, 0.0]), np.array([0.0, 0.0, 90.0]), m)
    # A point at ±90° longitude lies (to < 0.1") on the limb as seen from 1 AU.
    assert c["hpc_x"][0] == pytest.approx(rsun, abs=0.1)
    assert c["hpc_x"][1] == pytest.approx(-rsun, abs=0.1)
    assert c["hpc_y"][2] == pytest.approx(rsun, abs=0.1)
    g = C.map_geometry(m)
    on = g.on_disk
    # μ → 0 at the limb, largest at the centre.
    assert np.nanmin(g.mu[on]) < 0.2 and np.nanmax(g.mu[on]) > 0.99


def test_carrington_longitude_of_a_known_date_on_a_real_map():
    m = sunpy.map.Map(get_test_filepath("aia_171_level1.fits"))  # 2011-02-15
    g = C.map_geometry(m)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        x, y = m.world_to_pixel(m.center)
    iy, ix = int(round(float(y.value))), int(round(float(x.value)))
    l0 = sun.L0(m.date).to_value(u.deg)
    assert g.carr_lon[iy, ix] == pytest.approx(l0, abs=1.5)  # one 19" pixel ≈ 1.2°
    c = C.hgs_to_all(np.array([0.0, 30.0]), np.array([0.0, 0.0]), m)
    # Carrington = Stonyhurst + L0 (up to the observer's light-travel correction).
    assert c["carr_lon"][0] == pytest.approx(l0 % 360, abs=0.05)
    assert (c["carr_lon"][1] - c["carr_lon"][0]) % 360 == pytest.approx(30.0, abs=1e-6)
    # The header's CRLN_OBS agrees to < 0.1° (JSOC and sunpy differ slightly in L0).
    assert c["carr_lon"][0] == pytest.approx(m.meta["crln_obs"], abs=0.1)


@pytest.mark.parametrize("lon0,lat0,alpha", [(0.0, 0.0, 30.0), (60.0, 0.0, 20.0),
                                             (-45.0, 20.0, 15.0)])
def test_spherical_cap_area_msh(geom256, lon0, lat0, alpha):
    _, g = geom256
    sel = (C.great_circle_deg(g.lon, g.lat, lon0, lat0) < alpha) & g.on_disk
    expected = 1e6 * (1 - np.cos(np.deg2rad(alpha)))  # cap area / (2π R²) × 10⁶
    assert g.area_msh[sel].sum() == pytest.approx(expected, rel=0.015)
    projected = g.plane_area_cm2[sel].sum() / (2 * np.pi * (g.rsun_m * 100) ** 2) * 1e6
    if lon0 != 0:  # foreshortening correction matters off centre
        assert projected < 0.8 * expected


def test_whole_disk_projected_area_is_half_hemisphere(geom256):
    _, g = geom256
    projected = g.plane_area_cm2.sum() / (2 * np.pi * (g.rsun_m * 100) ** 2) * 1e6
    assert projected == pytest.approx(5e5, rel=0.01)  # πR² / 2πR²


def test_missing_observer_is_a_clear_error():
    m = make_map(np.zeros((32, 32)), observer=False)
    assert not C.has_observer_keywords(m.meta)
    with pytest.raises(C.MissingObserverError, match="HGLN_OBS"):
        C.map_geometry(m)
    g = C.map_geometry(m, assume_earth=True)
    assert not g.observer_from_header and "Earth" in g.notes[0]


def test_resample_rolled_map_onto_north_up_grid():
    target = make_map(np.zeros((48, 48)))
    src_hdr = make_header(40, crota2=180.0, fov_rsun=1.2)
    src_hdr["crpix1"] += 1.7  # disk centre not at the reference pixel centre
    src_hdr["crval1"] = 1.7 * src_hdr["cdelt1"]
    src = sunpy.map.Map(np.zeros((40, 40)), src_hdr)
    yy, xx = np.mgrid[0:40, 0:40]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w = src.pixel_to_world(xx * u.pix, yy * u.pix)
    src = sunpy.map.Map(w.Tx.to_value(u.arcsec) + 0.5 * w.Ty.to_value(u.arcsec), src_hdr)
    out = C.resample_to(src, target)
    ty, tx = np.mgrid[0:48, 0:48]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tw = target.pixel_to_world(tx * u.pix, ty * u.pix)
    truth = tw.Tx.to_value(u.arcsec) + 0.5 * tw.Ty.to_value(u.arcsec)
    ok = np.isfinite(out)
    assert ok.mean() > 0.6
    assert np.abs(out[ok] - truth[ok]).max() < 1.0  # arcsec-valued field, linear interpolation
