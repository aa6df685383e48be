"""Preprocessing: real AIA/HMI files (limb, centre, north up vs sunpy), other instruments, and
tiny synthetic level-1 files with a known scene."""

from __future__ import annotations

import glob
import os
import warnings
from datetime import datetime

import numpy as np
import pytest
from ingest_helpers import BLOB, RSUN_OBS, scene, write_level1

from solarray.core import channels as chans
from solarray.core.frame import radius_grid
from solarray.data import preprocess as pp
from solarray.data import sources, warp
from solarray.data.quality import disk_centroid, measure_limb

T0 = datetime(2024, 1, 1, 0, 0, 5)


def _test_file(name: str) -> str:
    from sunpy.data.test import get_test_filepath

    return get_test_filepath(name)


def _sunpy_reference(path: str, size: int, frame: float = 1.1) -> np.ndarray:
    """sunpy Map.rotate (north up, order 3) sampled at our output grid's world coordinates."""
    import astropy.units as u
    import sunpy.map
    from astropy.coordinates import SkyCoord
    from scipy import ndimage

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = sunpy.map.Map(path)
        rot = m.rotate(order=3, recenter=True, missing=np.nan)
        s = warp.output_scale(m.rsun_obs.to_value(u.arcsec), size, frame)
        c = (size - 1) / 2
        yy, xx = np.mgrid[0:size, 0:size]
        px, py = rot.wcs.world_to_pixel(
            SkyCoord((xx - c) * s * u.arcsec, (yy - c) * s * u.arcsec, frame=rot.coordinate_frame))
    return ndimage.map_coordinates(rot.data, [py, px], order=1, cval=np.nan)


def _compare(ours: np.ndarray, ref: np.ndarray) -> tuple[float, float]:
    disk = radius_grid(ours.shape[0]) < 0.95
    a, b = ours[disk], ref[disk]
    ok = np.isfinite(a) & np.isfinite(b)
    return float(np.corrcoef(a[ok], b[ok])[0, 1]), float(np.median(np.abs(a[ok] - b[ok]) / np.abs(b[ok])))


def test_real_aia_limb_centre_and_sunpy_agreement():
    path = _test_file("aia_171_level1.fits")
    # N = 112 puts the output pixel near the input's 19.2″, so the comparison isolates geometry.
    out = pp.preprocess_file(path, cfg=pp.PreprocessConfig(size=112, exposure=False))
    img = out.data
    assert out.info["channel"] == "aia171"
    assert np.isfinite(img[radius_grid(112) < 0.99]).all()
    limb = measure_limb(img)
    # EUV: the steepest fall is just above the photospheric limb (brightening + corona).
    assert 0.98 <= limb <= 1.07, limb
    cx, cy = disk_centroid(img)
    assert abs(cx - 55.5) < 2.5 and abs(cy - 55.5) < 2.5, (cx, cy)
    corr, rel = _compare(img, _sunpy_reference(path, 112))
    assert corr > 0.999 and rel < 0.01, (corr, rel)
    corr_flip, rel_flip = _compare(np.rot90(img, 2), _sunpy_reference(path, 112))
    assert corr_flip < 0.5 and rel_flip > 10 * rel


def test_real_hmi_roll_removed():
    path = _test_file("resampled_hmi.fits")
    assert abs(sources.read_header(path)["CROTA2"] - 180) < 1
    out = pp.preprocess_file(path, cfg=pp.PreprocessConfig(size=100))
    assert out.info["channel"] == "hmi_ic"
    assert abs(out.info["geometry"]["roll_deg"] - 179.93) < 0.01
    img = out.data
    assert np.isfinite(img[radius_grid(100) < 0.98]).all()  # NaN off-disk does not eat the disk
    assert 0.97 <= measure_limb(img) <= 1.03
    ref = _sunpy_reference(path, 100)
    corr, rel = _compare(img, ref)
    assert corr > 0.999 and rel < 0.005, (corr, rel)
    _, rel_flip = _compare(np.rot90(img, 2), ref)  # had the roll been left in
    assert rel_flip > 10 * rel


@pytest.mark.parametrize("pattern", ["sunpy/data/test/EIT/efz*.fits", "reproject/tests/data/secchi_l0_*.fits"])
def test_other_instruments_warp_without_crashing(pattern):
    import sunpy

    root = os.path.dirname(os.path.dirname(sunpy.__file__))
    files = sorted(glob.glob(os.path.join(root, pattern)))
    assert files, pattern
    for path in files:
        data, header = sources.read_fits(path)
        assert chans.channel_from_header(header) is None
        with pytest.raises(sources.RejectError, match="unknown channel"):
            pp.preprocess_file(path)
        img, info = warp.warp_to_frame(data, warp.sun_in_header(header, data), 64)
        assert img.shape == (64, 64) and np.isfinite(img).any()
        if "secchi" in path:  # STEREO headers are right: the limb lands at 1 R☉ seen from there
            assert 0.97 <= measure_limb(img) <= 1.08


@pytest.mark.parametrize("channel,crota2", [("aia193", 0.0), ("aia193", 180.0), ("hmi_m", 179.9),
                                            ("aia171", -35.0)])
def test_synthetic_orientation_and_centre(tmp_path, channel, crota2):
    path = write_level1(str(tmp_path / "f.fits"), channel, T0, size=128, crota2=crota2,
                        centre_offset=(37.0, -22.0))
    out = pp.preprocess_file(path, cfg=pp.PreprocessConfig(size=96))
    n, frame = 96, 1.1
    s = 2 * frame * RSUN_OBS / n
    c = (n - 1) / 2
    yy, xx = np.mgrid[0:n, 0:n]
    truth = scene((xx - c) * s, (yy - c) * s, channel)
    disk = radius_grid(n) < 0.9
    ok = np.isfinite(out.data) & disk
    corr = np.corrcoef(out.data[ok], truth[ok])[0, 1]
    assert corr > 0.98, corr
    iy, ix = np.unravel_index(np.nanargmax(np.where(disk, out.data, -np.inf)), out.data.shape)
    assert abs((ix - c) * s - BLOB[0]) < 1.5 * s and abs((iy - c) * s - BLOB[1]) < 1.5 * s


def test_downsampling_preserves_surface_brightness(tmp_path):
    path = write_level1(str(tmp_path / "big.fits"), "aia171", T0, size=1024, crota2=12.0)
    q = chans.get("aia171").quiet_sun
    means = {}
    for n in (32, 128):
        out = pp.preprocess_file(path, cfg=pp.PreprocessConfig(size=n))
        assert out.info["exposure"].startswith("divided by EXPTIME=2")
        if n == 32:
            assert out.info["geometry"]["block"] >= 8
        disk = radius_grid(n) < 0.8
        means[n] = float(np.nanmean(out.data[disk]))
    # Values stay DN/s per full-resolution pixel at any output size.
    assert abs(means[32] / means[128] - 1) < 0.02
    assert 0.5 * q < means[128] < 3 * q


def test_exposure_and_degradation(tmp_path):
    path = write_level1(str(tmp_path / "a.fits"), "aia171", datetime(2011, 2, 15), exptime=4.0)
    data, header = sources.read_fits(path)
    base = pp.preprocess(data, header, "aia171", pp.PreprocessConfig(size=64))
    assert base.info["degradation"] == "skipped: no table"
    corrected = pp.preprocess(data, header, "aia171",
                              pp.PreprocessConfig(size=64, degradation_table="aiapy-v8"))
    deg = corrected.info["degradation"]
    assert deg["table"].startswith("aia_V8") and abs(deg["factor"] - 0.969) < 0.002
    ratio = np.nanmedian(corrected.data / base.data)
    assert abs(ratio - 1 / deg["factor"]) < 1e-4
    raw = pp.preprocess(data, header, "aia171", pp.PreprocessConfig(size=64, exposure=False))
    assert abs(np.nanmedian(raw.data / base.data) - 4.0) < 1e-3
    del header["EXPTIME"]
    with pytest.raises(sources.RejectError, match="EXPTIME"):
        pp.preprocess(data, header, "aia171", pp.PreprocessConfig(size=64))


def test_off_limb_modes_and_scaling_inverse(tmp_path):
    path = write_level1(str(tmp_path / "a.fits"), "aia304", T0)
    r = radius_grid(64)
    outs = {m: pp.preprocess_file(path, cfg=pp.PreprocessConfig(size=64, off_limb=m)) for m in pp.OFF_LIMB_MODES}
    assert np.isfinite(outs["keep"].data[r > 1.02]).all() and (outs["keep"].data[r > 1.02] > 0).all()
    assert (outs["mask"].data[r > 1.0] == 0).all() and (outs["mask"].scaled[r > 1.0] == -1).all()
    assert np.isnan(outs["nan"].data[r > 1.0]).all()
    np.testing.assert_array_equal(outs["keep"].data[r < 1], outs["nan"].data[r < 1])
    c = chans.get("aia304")
    phys = outs["keep"].data
    inside = (phys > c.vmin) & (phys < c.vmax)
    back = pp.unscale_image(pp.scale_image(phys[None], ["aia304"]), ["aia304"])[0]
    np.testing.assert_allclose(back[inside], phys[inside], rtol=1e-5)
    assert outs["keep"].scaled.min() >= -1 and outs["keep"].scaled.max() <= 1


def test_nan_filled_image_rejected(tmp_path):
    path = write_level1(str(tmp_path / "a.fits"), "aia94", T0, nan_fill=True)
    with pytest.raises(sources.RejectError, match="NaN-filled"):
        pp.preprocess_file(path, cfg=pp.PreprocessConfig(size=32))


def test_config_validation():
    with pytest.raises(ValueError, match="off_limb"):
        pp.PreprocessConfig(off_limb="crop")
    with pytest.raises(ValueError, match="size"):
        pp.PreprocessConfig(size=0)
