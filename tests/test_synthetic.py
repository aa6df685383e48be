"""The synthetic Sun: determinism, SDO-like headers and WCS, and the physics its statistics encode."""

import json
import warnings

import astropy.units as u
import numpy as np
import pandas as pd
import pytest
import sunpy.map
from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy.wcs import WCS
from sunpy.data.test import get_test_filepath

from solarray.cli import main
from solarray.core.classes import HALE_CLASSES
from solarray.core.goes import goes_class
from solarray.data.synthetic import SynthConfig, activity, generate, model, parse_cadence


def _maps(out, channel):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [sunpy.map.Map(p) for p in sorted((out / "fits" / channel).glob("*.fits"))]


@pytest.fixture(scope="module")
def synth(tmp_path_factory):
    out = tmp_path_factory.mktemp("synth")
    cfg = SynthConfig(start="2024-01-01T00:00", hours=2, cadence_minutes=30, size=96, seed=0)
    return generate(cfg, out), out


def test_layout_and_completeness_marker(synth):
    result, out = synth
    assert result.n_files == 5 * 10
    for name in ("aia94", "aia171", "aia193", "aia304", "aia1700", "hmi_m"):
        assert len(list((out / "fits" / name).glob("*.fits"))) == 5
    assert len(list((out / "masks").glob("masks_*.fits"))) == 5
    meta = json.loads((out / "synth.json").read_text())
    assert meta["n_files"] == 50 and len(meta["times"]) == 5
    newest_other = max(p.stat().st_mtime for p in out.rglob("*") if p.is_file() and p.name != "synth.json")
    assert (out / "synth.json").stat().st_mtime >= newest_other  # written last
    assert not list(out.rglob("*.tmp"))
    assert (out / "preview.png").stat().st_size > 10_000


def test_headers_carry_the_keywords_of_real_level1_files(synth):
    _, out = synth
    real_aia = fits.getheader(get_test_filepath("aia_171_level1.fits"))
    real_hmi = fits.getheader(get_test_filepath("resampled_hmi.fits"))
    required = ["TELESCOP", "INSTRUME", "WAVELNTH", "DATE-OBS", "T_OBS", "CDELT1", "CDELT2",
                "CRPIX1", "CRPIX2", "CRVAL1", "CRVAL2", "CROTA2", "CTYPE1", "CTYPE2", "RSUN_OBS",
                "R_SUN", "RSUN_REF", "DSUN_OBS", "CRLN_OBS", "CRLT_OBS", "QUALITY", "BUNIT"]
    aia = fits.getheader(next((out / "fits" / "aia171").glob("*.fits")))
    hmi = fits.getheader(next((out / "fits" / "hmi_m").glob("*.fits")))
    for key in required + ["EXPTIME"]:
        assert key in aia, key
    for key in required:
        assert key in hmi, key
    assert [k for k in ("TELESCOP", "INSTRUME", "CTYPE1") if aia[k].strip() != real_aia[k].strip()] == []
    assert hmi["TELESCOP"].strip() == real_hmi["TELESCOP"].strip() == "SDO/HMI"
    assert hmi["CONTENT"] == "MAGNETOGRAM" and hmi["BUNIT"] == "Gauss"
    # HMI is rolled like the real instrument; AIA is nearly north up like the real file.
    assert abs(hmi["CROTA2"] - real_hmi["CROTA2"]) < 1.0
    assert abs(aia["CROTA2"]) < 0.2 and abs(real_aia["CROTA2"]) < 0.2
    assert 945 < aia["RSUN_OBS"] < 980 and aia["RSUN_OBS"] == pytest.approx(aia["R_SUN"] * aia["CDELT1"])


def _measured_disk(data):
    """Centre (x, y) and radius (px) of the solar disk measured from the pixels themselves."""
    finite = np.isfinite(data)
    if (~finite).any():  # HMI: NaN off disk
        disk = finite
    else:  # AIA 1700: a limb-darkened photosphere with no corona
        disk = data > 0.25 * np.nanmedian(data[data > np.nanpercentile(data, 60)])
    yy, xx = np.nonzero(disk)
    return xx.mean(), yy.mean(), np.sqrt(disk.sum() / np.pi)


@pytest.mark.parametrize("channel", ["aia1700", "hmi_m"])
def test_wcs_disk_centre_and_radius_match_the_image(synth, channel):
    _, out = synth
    m = _maps(out, channel)[0]
    centre = m.wcs.world_to_pixel(SkyCoord(0 * u.arcsec, 0 * u.arcsec, frame=m.coordinate_frame))
    x, y, r = _measured_disk(m.data)
    assert x == pytest.approx(float(centre[0]), abs=1.0)
    assert y == pytest.approx(float(centre[1]), abs=1.0)
    assert r == pytest.approx((m.rsun_obs / m.scale.axis1).to_value(u.pix), rel=0.03)


def test_hmi_is_rolled_like_the_real_hmi_file(synth):
    _, out = synth
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        real = sunpy.map.Map(get_test_filepath("resampled_hmi.fits"))
    synth_map = _maps(out, "hmi_m")[0]
    for m in (real, synth_map):
        north = m.wcs.world_to_pixel(SkyCoord(0 * u.arcsec, 600 * u.arcsec, frame=m.coordinate_frame))
        centre = m.wcs.world_to_pixel(SkyCoord(0 * u.arcsec, 0 * u.arcsec, frame=m.coordinate_frame))
        assert north[1] < centre[1]  # north is down in the stored array of both
    assert synth_map.measurement == "magnetogram" and synth_map.unit == u.G


def test_same_seed_same_sun_other_seed_other_sun(tmp_path):
    def render(seed, where):
        generate(SynthConfig(hours=0.5, cadence_minutes=30, size=32, seed=seed, preview=False,
                             channels=("aia171", "hmi_m")), where)
        data = [fits.getdata(p) for p in sorted(where.rglob("*.fits"))]
        return data, pd.read_parquet(where / "tables" / "events.parquet")

    a, ea = render(3, tmp_path / "a")
    b, eb = render(3, tmp_path / "b")
    c, _ = render(4, tmp_path / "c")
    assert all(np.array_equal(x, y, equal_nan=True) for x, y in zip(a, b, strict=True))
    pd.testing.assert_frame_equal(ea, eb)
    assert not all(np.array_equal(x, y, equal_nan=True) for x, y in zip(a, c, strict=True))


def test_active_region_flux_is_balanced():
    sun = model.build_sun(seed=1, days=2, year=2024.0)
    assert len(sun.active_regions) > 5
    for r in sun.active_regions:
        ax = np.arange(-30, 30, 0.05)
        gx, gy = np.meshgrid(ax, ax)
        b = model.region_field(r, gx, gy, 1.0).astype(np.float64)
        assert abs(b.sum()) / np.abs(b).sum() < 0.02, (r.number, r.hale)


def _aia_to_mask_pixels(aia_map, mask_header):
    """Mask-array indices of each AIA pixel (nearest), via both files' WCS."""
    ny, nx = aia_map.data.shape
    yy, xx = np.mgrid[0:ny, 0:nx]
    world = aia_map.wcs.pixel_to_world(xx, yy)
    mx, my = WCS(mask_header, naxis=2).world_to_pixel(world)
    return np.rint(my).astype(int), np.rint(mx).astype(int)


def test_coronal_holes_are_dark_in_193_and_filaments_dark_in_304(synth):
    _, out = synth
    mask_file = sorted((out / "masks").glob("*.fits"))[0]
    masks, header = fits.getdata(mask_file), fits.getheader(mask_file)
    for channel, plane, max_ratio in (("aia193", 1, 0.45), ("aia304", 2, 0.8)):
        m = _maps(out, channel)[0]
        iy, ix = _aia_to_mask_pixels(m, header)
        inside = (iy >= 0) & (iy < masks.shape[1]) & (ix >= 0) & (ix < masks.shape[2])
        lab = np.zeros((3,) + m.data.shape, np.uint8)
        lab[:, inside] = masks[:, iy[inside], ix[inside]]
        on_disk = np.hypot(*np.mgrid[0:96, 0:96] - 47.5) < 0.95 * m.rsun_obs.value / m.scale.axis1.value
        feature = lab[plane].astype(bool) & on_disk
        quiet = on_disk & ~lab.any(axis=0)
        assert feature.sum() >= 3, f"no {channel} feature pixels for seed 0"
        ratio = np.median(m.data[feature]) / np.median(m.data[quiet])
        assert ratio < max_ratio, (channel, ratio)


def test_filaments_lie_on_polarity_inversion_lines():
    sun = model.build_sun(seed=2, days=2, year=2024.0)
    assert sun.filaments
    for fil in sun.filaments:
        reg = sun.region(fil.anchor)
        spine = fil.points[len(fil.points) // 2 - 2 : len(fil.points) // 2 + 3]
        d = np.diff(fil.points, axis=0).mean(axis=0)
        normal = np.array([-d[1], d[0]]) / np.hypot(*d)

        def b(p, reg=reg):
            return model.region_field(reg, p[:, 0], p[:, 1], 1.0)

        peak = max(p.peak_gauss for p in reg.poles)
        assert np.abs(b(spine)).max() < 0.1 * peak
        left, right = b(spine + 1.5 * normal), b(spine - 1.5 * normal)
        assert np.all(np.sign(left) == -np.sign(right)), fil.anchor  # field reverses across it


def test_flare_rate_rises_with_complexity():
    sun = model.build_sun(seed=5, days=30, year=2024.0, activity=3.0)
    flares = activity.simulate_flares(sun, 0.0, 30.0, seed=5)
    t = np.linspace(0, 30, 601)
    exposure = {h: 0.0 for h in HALE_CLASSES}
    count = {h: 0 for h in HALE_CLASSES}
    for r in sun.active_regions:
        exposure[r.hale] += float(np.trapezoid(r.strength(t), t))
    for f in flares:
        count[sun.region(f.ar_number).hale] += 1
    rate = {h: count[h] / exposure[h] for h in exposure}
    assert rate["alpha"] < rate["beta"] < rate["beta-x"], rate
    assert rate["beta-x"] > 2 * rate["beta"]


def test_pil_flux_by_hand():
    a = model.Pole(0.0, 0.0, 2e22, 1.0)
    b = model.Pole(2.0, 0.0, -1e22, 1.0)
    c = model.Pole(0.0, 4.0, 3e22, 1.0)  # same sign as a: no inversion line with it
    plage = model.Pole(0.0, 1.0, -5e22, 4.0, spot=False)  # diffuse plage is not counted
    reg = model.ActiveRegion(1, 0.0, 10.0, 0.0, 1.0, 10.0, "beta", [a, b, c, plage], 2e22, 2.0,
                             (0.0, 0.0))
    d_cb = np.hypot(2.0, 4.0)
    want = (1e22 * np.exp(-2.0 / model.PIL_SCALE_DEG) + 1e22 * np.exp(-d_cb / model.PIL_SCALE_DEG)) / 1e22
    assert reg.pil_flux == pytest.approx(want)


def test_flares_follow_the_flux_at_polarity_inversion_lines():
    """Productivity is set by the magnetogram (PIL flux), so regions with more PIL flux flare
    more and bigger; the ≥M base rate per region stays near maximum-of-cycle values."""
    sun = model.build_sun(seed=7, days=30, year=2024.0, activity=3.0)
    flares = activity.simulate_flares(sun, 0.0, 30.0, seed=7)
    t = np.linspace(0, 30, 601)
    regions = sun.active_regions
    x = np.array([r.pil_flux for r in regions])
    exposure = np.array([float(np.trapezoid(r.strength(t), t)) for r in regions])
    big = np.zeros(len(regions))
    index = {r.number: i for i, r in enumerate(regions)}
    for f in flares:
        if f.excess_flux >= 1e-5:
            big[index[f.ar_number]] += 1
    hi, lo = x >= np.median(x), x < np.median(x)
    rate_hi, rate_lo = big[hi].sum() / exposure[hi].sum(), big[lo].sum() / exposure[lo].sum()
    assert rate_hi > 5 * max(rate_lo, 1e-3), (rate_hi, rate_lo)


def test_goes_class_of_each_flare_matches_its_light_curve(synth):
    _, out = synth
    events = pd.read_parquet(out / "tables" / "events.parquet")
    xrs = pd.read_parquet(out / "tables" / "xrs.parquet").set_index("time")
    assert len(events) > 3
    for ev in events.itertuples():
        assert xrs.loc[ev.peak, "xrsb"] == pytest.approx(ev.peak_flux)
        assert ev.goes_class == goes_class(ev.peak_flux)
        if ev.excess_flux >= 0.5 * ev.peak_flux:  # a flare that dominates its own light curve
            window = xrs.loc[ev.peak - pd.Timedelta("5min") : ev.peak + pd.Timedelta("5min"), "xrsb"]
            assert ev.peak_flux == window.max()
        assert ev.start < ev.peak < ev.end


@pytest.mark.parametrize("flux,expected", [(2.5e-5, "M2.5"), (1e-4, "X1.0"), (9.99e-7, "B9.9"),
                                           (1e-6, "C1.0"), (3.2e-8, "A3.2"), (1.7e-3, "X17.0")])
def test_goes_class_strings(flux, expected):
    assert goes_class(flux) == expected


def test_bad_frames_are_flagged_or_missing(tmp_path):
    r = generate(SynthConfig(hours=1, cadence_minutes=20, size=32, seed=1, bad_frame_rate=0.5,
                             channels=("aia171", "aia193", "hmi_m"), preview=False), tmp_path)
    kinds = {b["kind"] for b in r.bad_frames}
    assert kinds == {"missing", "off-pointed"}
    n_missing = sum(b["kind"] == "missing" for b in r.bad_frames)
    assert r.n_files == 4 * 3 - n_missing
    flagged = [p for p in tmp_path.rglob("fits/*/*.fits") if fits.getval(p, "QUALITY") != 0]
    assert len(flagged) == sum(b["kind"] == "off-pointed" for b in r.bad_frames)


def test_compressed_files_read_back(tmp_path):
    generate(SynthConfig(hours=0, size=32, channels=("aia171",), compress=True, preview=False), tmp_path)
    path = next((tmp_path / "fits" / "aia171").glob("*.fits"))
    with fits.open(path) as hdul:
        assert isinstance(hdul[1], fits.CompImageHDU)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert sunpy.map.Map(path).wavelength == 171 * u.AA


def test_vector_channels(tmp_path):
    r = generate(SynthConfig(hours=0, size=48, channels=("hmi_m",), vector=True, preview=False), tmp_path)
    assert r.n_files == 4
    bz = fits.getdata(next((tmp_path / "fits" / "hmi_bz").glob("*.fits")))
    bx = fits.getdata(next((tmp_path / "fits" / "hmi_bx").glob("*.fits")))
    assert np.nanmax(np.abs(bz)) > 100 and np.nanmax(np.abs(bx)) > 10


@pytest.mark.parametrize("text,minutes", [("12min", 12), ("720s", 12), ("1h", 60), ("6", 6)])
def test_parse_cadence(text, minutes):
    assert parse_cadence(text) == pytest.approx(minutes)


def test_cli_help_and_run(tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        main(["--help"])
    assert e.value.code == 0
    assert "synth" in capsys.readouterr().out
    with pytest.raises(SystemExit) as e:
        main(["synth", "--help"])
    assert e.value.code == 0 and "--cadence" in capsys.readouterr().out
    assert main(["synth", "--out", str(tmp_path / "o"), "--hours", "0.2", "--size", "32",
                 "--cadence", "12min", "--channels", "aia193,hmi_m"]) == 0
    assert (tmp_path / "o" / "preview.png").exists() and (tmp_path / "o" / "synth.json").exists()


@pytest.mark.parametrize("args,needle", [
    (["--size", "-3"], "size"),
    (["--channels", "aia171,aia999"], "aia999"),
    (["--start", "2024-01-02", "--end", "2024-01-01"], "--end"),
    (["--cadence", "fast"], "cadence"),
    (["--start", "yesterday"], "start"),
])
def test_cli_bad_arguments_give_one_line_errors(tmp_path, capsys, args, needle):
    assert main(["synth", "--out", str(tmp_path / "o"), *args]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and needle in err and err.startswith("solarray synth: error:")
    assert not (tmp_path / "o" / "synth.json").exists()


def test_cli_unwritable_output(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    assert main(["synth", "--out", str(blocker / "out"), "--hours", "0", "--size", "32"]) == 2
    err = capsys.readouterr().err
    assert "--out" in err and "cannot write" in err


def _fits_planes(out):
    return {p.relative_to(out): fits.getdata(p) for p in sorted(out.rglob("*.fits"))}


def test_banded_threaded_render_equals_whole_frame_render(tmp_path, monkeypatch):
    """Row bands, band threads and noise drawn ahead change no value (a speed-up of the generator)."""
    from solarray.data.synthetic import blocks

    cfg = dict(start="2024-01-01T00:00", hours=0.2, size=48, seed=4, vector=True,
               bad_frame_rate=0.3, preview=False)
    monkeypatch.setattr(blocks, "BLOCK_PIXELS", 1 << 40)  # one band = the whole-frame arithmetic
    monkeypatch.setattr(blocks, "THREADS", 1)
    generate(SynthConfig(**cfg), tmp_path / "whole")
    monkeypatch.setattr(blocks, "BLOCK_PIXELS", 48 * 5)  # 10 bands of 5 rows (last one short)
    monkeypatch.setattr(blocks, "THREADS", 2)
    generate(SynthConfig(**cfg), tmp_path / "banded")
    whole, banded = _fits_planes(tmp_path / "whole"), _fits_planes(tmp_path / "banded")
    assert whole.keys() == banded.keys() and len(whole) > 20
    for name, plane in whole.items():
        np.testing.assert_array_equal(plane, banded[name], err_msg=str(name))


def test_banded_pieces_equal_the_whole_frame_functions(monkeypatch):
    from solarray.core.geometry import earth_observer, grid_geometry
    from solarray.data.synthetic import blocks, render
    from solarray.data.synthetic.draws import StepDraws
    from solarray.data.synthetic.level1 import detector_noise, instrument_grid

    monkeypatch.setattr(blocks, "BLOCK_PIXELS", 64 * 7)
    obs = earth_observer("2024-01-01T00:00")
    sun = model.build_sun(1, 1.0, 2024.0)
    for inst in ("AIA", "HMI"):
        grid = instrument_grid(inst, 64, obs, np.random.default_rng(inst == "AIA"))
        ref, geom = grid_geometry(grid, obs), blocks.banded_geometry(grid, obs)
        for f in ("on_disk", "lon", "lat", "mu", "r"):
            np.testing.assert_array_equal(getattr(ref, f), getattr(geom, f), err_msg=f)
    fields = render.render_fields(sun, 0.3, grid, obs, ref)
    masks = render.render_fields(sun, 0.3, grid, obs, ref, masks_only=True)
    for f in ("ar_label", "ch", "fl"):  # masks_only skips only what masks do not use
        np.testing.assert_array_equal(getattr(fields, f), getattr(masks, f), err_msg=f)
    assert (fields.ar_label > 0).any()
    for name in ("aia171", "aia304", "aia1700"):
        base = blocks.banded(render.limb_profile, (64, 64), np.float32,
                             render.RESPONSE[name].limb, ref)
        np.testing.assert_array_equal(
            render.aia_rate(name, fields, ref),
            blocks.banded(render.aia_rate, (64, 64), np.float32, name, fields, ref, base=base))
    # Noise drawn ahead on a thread = drawn in sequence from the same generator.
    clean = render.aia_rate("aia171", fields, ref)
    seq = np.random.default_rng(9)
    expect = [(seq.random(), detector_noise("aia171", clean, 2.0, 64, seq)) for _ in range(3)]
    draws = StepDraws(np.random.default_rng(9), ["a", "b", "c"], 0.0, (64, 64))
    for fate, data in expect:
        assert draws.fate() == fate
        np.testing.assert_array_equal(data, blocks.banded(detector_noise, (64, 64), np.float32,
                                                          "aia171", clean, 2.0, 64, draws.noise()))
    draws.close()


def test_a_complete_forecasting_set_is_reused_only_for_the_same_runs(tmp_path):
    """A set made with other runs is never silently reused (its scores would belong to other
    Suns): the same request returns at once, another names the file and what differs."""
    import json

    from solarray.data.synthetic.forecast_set import RUNS_FILE, SynthRun, make_synthetic_set

    runs = [SynthRun("2024-01-03T00:00", 2.0, 1, 0.3)]
    names = ["run00_2024-01-03_s1"]
    spec = {"size": 64, "cadence_minutes": 240.0, "channels": ["hmi_m"],
            "runs": [{"start": "2024-01-03T00:00", "days": 2.0, "seed": 1, "activity": 0.3,
                      "name": names[0]}]}
    (tmp_path / RUNS_FILE).write_text(json.dumps(spec))
    assert make_synthetic_set(tmp_path, runs, size=64, cadence_minutes=240,
                              channels=("hmi_m",)) == tmp_path
    assert not (tmp_path / "synth").exists()  # nothing generated
    with pytest.raises(ValueError, match=r"runs\.json.*runs"):
        make_synthetic_set(tmp_path, [SynthRun("2024-01-03T00:00", 2.0, 1, 1.0)], size=64,
                           cadence_minutes=240, channels=("hmi_m",))
    with pytest.raises(ValueError, match="size"):
        make_synthetic_set(tmp_path, runs, size=128, cadence_minutes=240, channels=("hmi_m",))
