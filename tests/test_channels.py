import numpy as np
import pytest
from astropy.io import fits
from sunpy.data.test import get_test_filepath

from solarray.core import channels as chans


def test_scale_inverse_is_exact_inside_the_clip_range():
    for name, ch in chans.CATALOGUE.items():
        if ch.scaling == "log":
            x = np.geomspace(ch.vmin, ch.vmax, 50)
        else:
            x = np.linspace(-ch.b_max, ch.b_max, 50)
        s = ch.scale(x)
        assert s.min() >= -1.0 and s.max() <= 1.0, name
        np.testing.assert_allclose(ch.unscale(s), x, rtol=2e-6, atol=1e-3, err_msg=name)
        assert s[0] == pytest.approx(-1.0) and s[-1] == pytest.approx(1.0)


def test_scale_clips_and_keeps_nan():
    aia = chans.get("aia171")
    out = aia.scale(np.array([0.0, -5.0, 1e9, np.nan]))
    assert out[0] == out[1] == -1.0 and out[2] == 1.0 and np.isnan(out[3])
    assert chans.get("hmi_m").scale(np.array([-5000.0, 750.0]))[1] == pytest.approx(0.5)


def test_resolve_and_unknown_names():
    assert chans.resolve(None) == chans.DEFAULT_CHANNELS
    assert len(chans.DEFAULT_CHANNELS) == 10 and "hmi_m" in chans.DEFAULT_CHANNELS
    assert chans.resolve("aia171, hmi_m") == ("aia171", "hmi_m")
    with pytest.raises(KeyError, match="unknown channel 'aia999'.*expected one of"):
        chans.resolve("aia171,aia999")
    with pytest.raises(ValueError, match="duplicates"):
        chans.resolve(["aia171", "aia171"])


def test_real_headers_are_recognised():
    aia = fits.getheader(get_test_filepath("aia_171_level1.fits"))
    hmi = fits.getheader(get_test_filepath("resampled_hmi.fits"))
    assert chans.channel_from_header(aia) == "aia171"
    assert chans.channel_from_header(hmi) == "hmi_ic"  # the shipped HMI file is continuum
    eit = fits.getheader(get_test_filepath("EIT/efz20040301.000010_s.fits"))
    assert chans.channel_from_header(eit) is None


def test_fits_identity_round_trips_for_every_channel():
    for name in chans.CATALOGUE:
        assert chans.channel_from_header(chans.fits_identity(name)) == name
