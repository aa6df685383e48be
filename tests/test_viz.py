"""Situational map: WCS of the preprocessed frame, PNG output with contours, bad input."""

import json

import astropy.units as u
import numpy as np
import pytest

from solarray.core.frame_header import sample_frame_header
from solarray.data.shard_reader import meta_header
from solarray.viz.situational_map import UNDATED, frame_map, situational_map
from tests import spnet_helpers as H


def test_frame_header_puts_the_limb_at_one_solar_radius():
    meta = json.dumps({"channels": {"hmi_m": {"header": {
        "DATE-OBS": "2024-01-05T00:00:22.5", "RSUN_OBS": 975.9, "DSUN_OBS": 1.471e11,
        "HGLN_OBS": 0.0, "HGLT_OBS": -2.9}}}})
    m = frame_map(np.zeros((64, 64), np.float32), "hmi_m",
                  sample_frame_header(64, source_header=meta_header(meta)))
    # RSUN_OBS follows from DSUN_OBS (R☉ = 696 000 km), as in real headers
    assert m.rsun_obs.to_value(u.arcsec) == pytest.approx(975.9, rel=1e-4)
    assert m.observer_coordinate.lat.to_value(u.deg) == pytest.approx(-2.9)
    # The frame spans ±1.1 R☉: the image edge is 1.1·RSUN_OBS from the centre.
    edge = m.pixel_to_world(63.5 * u.pix, 31.5 * u.pix)
    assert edge.Tx.to_value(u.arcsec) == pytest.approx(1.1 * 975.9, rel=1e-3)
    centre = m.pixel_to_world(31.5 * u.pix, 31.5 * u.pix)
    assert abs(centre.Tx.to_value(u.arcsec)) < 1e-6 and abs(centre.Ty.to_value(u.arcsec)) < 1e-6
    cmap = m.plot_settings["cmap"]
    assert getattr(cmap, "name", cmap) == "hmimag"
    # Defaults when meta is missing: Earth at DATE-OBS (2024-01-01: near perihelion).
    d = sample_frame_header(64, UNDATED)
    assert 975 < d["RSUN_OBS"] < 977


def test_situational_map_png(tmp_path):
    data = H.make_samples(1, seed=2)
    png = situational_map(data["image"][0], H.CHANNELS, data["masks"][0], tmp_path / "m.png",
                          truth=data["masks"][0], present=[1, 1, 0])
    import matplotlib.image as mpimg

    img = mpimg.imread(png)
    assert img.shape[0] > 300 and img.shape[1] > 3 * img.shape[0] // 2
    # The AR contour colour appears in the picture.
    cyan = (img[..., 0] < 0.1) & (img[..., 1] > 0.8) & (img[..., 2] > 0.9)
    assert cyan.sum() > 20
    assert not list(tmp_path.glob(".*tmp*"))


def test_situational_map_bad_input(tmp_path):
    data = H.make_samples(1)
    with pytest.raises(ValueError, match=r"image must be \[C=2"):
        situational_map(data["image"][0], ("hmi_m", "aia193"), None, tmp_path / "x.png")
    with pytest.raises(ValueError, match="masks must be"):
        situational_map(data["image"][0], H.CHANNELS, data["masks"][0][:, :32],
                            tmp_path / "x.png")
