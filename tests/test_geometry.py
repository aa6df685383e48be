import astropy.units as u
import numpy as np
import pytest
from astropy.coordinates import SkyCoord
from sunpy.coordinates import frames, get_earth

from solarray.core.frame_header import centred_grid
from solarray.core.geometry import (
    ImageGrid,
    carrington_longitude,
    earth_observer,
    grid_geometry,
    hgs_to_hpc,
    hpc_to_hgs,
)

RSUN = 696000 * u.km


@pytest.fixture(scope="module")
def obs():
    return earth_observer("2024-03-10T06:00")


def test_observer_matches_sunpy(obs):
    from sunpy.coordinates import sun

    assert obs.hglt == pytest.approx(sun.B0(obs.time).to_value(u.deg), abs=1e-6)
    assert obs.rsun_obs == pytest.approx(sun.angular_radius(obs.time).to_value(u.arcsec), rel=1e-3)


@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-7), (np.float32, 2e-4)])
def test_hpc_to_hgs_matches_sunpy_frames(obs, dtype, tol):
    tx = np.array([0.0, 300.0, -800.0, 100.0, -500.0, 960.0])
    ty = np.array([0.0, -200.0, 400.0, 950.0, -700.0, 0.0])
    observer = get_earth(obs.time)
    hpc = SkyCoord(tx * u.arcsec, ty * u.arcsec,
                   frame=frames.Helioprojective(observer=observer, obstime=obs.time, rsun=RSUN))
    hgs = hpc.transform_to(frames.HeliographicStonyhurst(obstime=obs.time, rsun=RSUN))
    carr = hpc.transform_to(frames.HeliographicCarrington(observer=observer, obstime=obs.time, rsun=RSUN))
    g = hpc_to_hgs(tx, ty, obs, dtype=dtype)
    assert g.on_disk.all()
    np.testing.assert_allclose(g.lon, hgs.lon.to_value(u.deg), atol=tol)
    np.testing.assert_allclose(g.lat, hgs.lat.to_value(u.deg), atol=tol)
    np.testing.assert_allclose(carrington_longitude(g.lon, obs), carr.lon.to_value(u.deg), atol=max(tol, 1e-5))
    # and back, with μ consistent both ways
    txb, tyb, mu = hgs_to_hpc(hgs.lon.deg, hgs.lat.deg, obs)
    np.testing.assert_allclose(txb, tx, atol=1e-6)
    np.testing.assert_allclose(tyb, ty, atol=1e-6)
    np.testing.assert_allclose(g.mu, mu, atol=tol)


def test_disk_centre_and_limb(obs):
    g = hpc_to_hgs(np.array([0.0, obs.rsun_obs * 0.999, obs.rsun_obs * 1.01]), np.zeros(3), obs)
    assert g.on_disk.tolist() == [True, True, False]
    assert g.lat[0] == pytest.approx(obs.hglt) and g.lon[0] == pytest.approx(0.0, abs=1e-9)
    assert g.mu[0] == pytest.approx(1.0) and g.mu[1] < 0.06
    assert np.isnan(g.lon[2]) and g.r[2] > 1.0


def test_grid_round_trip_with_roll():
    grid = ImageGrid(64, 64, 30.0, 33.2, 31.7, 2.5, -1.5, 180.08)
    x, y = np.meshgrid(np.arange(64.0), np.arange(64.0))
    tx, ty = grid.pixel_to_hpc(x, y)
    xb, yb = grid.hpc_to_pixel(tx, ty)
    np.testing.assert_allclose(xb, x, atol=1e-9)
    np.testing.assert_allclose(yb, y, atol=1e-9)
    # Rolled by 180°: solar north (+Ty) is towards smaller row numbers.
    _, y_north = grid.hpc_to_pixel(0.0, 500.0)
    _, y_centre = grid.hpc_to_pixel(0.0, 0.0)
    assert y_north < y_centre


def test_centred_grid_spans_frame(obs):
    grid = centred_grid(100, obs.rsun_obs, 1.1)
    geom = grid_geometry(grid, obs)
    # Disk radius in pixels = 100 / 2.2 ≈ 45.5: count on-disk pixels against the circle's area.
    assert geom.on_disk.sum() == pytest.approx(np.pi * (100 / 2.2) ** 2, rel=0.02)
    assert geom.r[0, 50] == pytest.approx(1.1, rel=0.02)


def test_frame_header_makes_a_centred_north_up_map(obs):
    import sunpy.map

    from solarray.core.frame_header import frame_header
    from solarray.core.geometry import observer_from_header

    h = frame_header(obs, 64, 1.1)
    m = sunpy.map.Map(np.zeros((64, 64), np.float32), h)
    c = m.wcs.world_to_pixel(SkyCoord(0 * u.arcsec, 0 * u.arcsec, frame=m.coordinate_frame))
    assert float(c[0]) == pytest.approx(31.5) and float(c[1]) == pytest.approx(31.5)
    assert (m.rsun_obs / m.scale.axis1).to_value(u.pix) == pytest.approx(64 / 2.2)
    back = observer_from_header(h)
    assert back.dsun == pytest.approx(obs.dsun) and back.hglt == pytest.approx(obs.hglt)
