"""Sources: listing, header scan and validation, compressed files, the (mocked) downloader."""

from __future__ import annotations

import argparse
import gzip
import shutil
from datetime import datetime

import numpy as np
import pytest
from ingest_helpers import write_level1

from solarray.data import download as dl
from solarray.data import sources

T = datetime(2024, 1, 1, 0, 0, 7)


def test_list_fits_dir_glob_gz_and_url(tmp_path):
    a = write_level1(str(tmp_path / "x" / "a.fits"), "aia171", T, size=16)
    with open(a, "rb") as f, gzip.open(tmp_path / "x" / "b.fits.gz", "wb") as g:
        g.write(f.read())
    (tmp_path / "x" / "notes.txt").write_text("not listed")
    assert [p.split("/")[-1] for p in sources.list_fits(str(tmp_path))] == ["a.fits", "b.fits.gz"]
    assert len(sources.list_fits(str(tmp_path / "x" / "*.fits*"))) == 2
    assert sources.list_fits(str(tmp_path / "nothing")) == []
    assert len(sources.list_fits(f"file://{tmp_path}/x")) == 2
    # fsspec URL (in-memory filesystem stands in for s3:// or https://)
    import fsspec

    fs = fsspec.filesystem("memory")
    with open(a, "rb") as f:
        fs.pipe("/bucket/aia/a.fits", f.read())
    urls = sources.list_fits("memory://bucket/aia")
    assert urls == ["memory:///bucket/aia/a.fits"]
    data, header = sources.read_fits(urls[0])
    assert data.shape == (16, 16) and header["WAVELNTH"] == 171
    gz = sources.read_fits(str(tmp_path / "x" / "b.fits.gz"))[0]
    np.testing.assert_array_equal(gz, sources.read_fits(a)[0])


def test_rice_compressed_jsoc_style(tmp_path):
    from astropy.io import fits

    src = write_level1(str(tmp_path / "a.fits"), "aia193", T, size=32)
    data, header = sources.read_fits(src)
    hdu = fits.CompImageHDU(data=(data * 10).astype(np.int32), header=header, compression_type="RICE_1")
    fits.HDUList([fits.PrimaryHDU(), hdu]).writeto(tmp_path / "c.fits")
    rec = sources.scan_file(str(tmp_path / "c.fits"))
    assert rec.reason is None and rec.channel == "aia193" and rec.shape == (32, 32)
    d2, _ = sources.read_fits(str(tmp_path / "c.fits"))
    assert d2.dtype == np.float32 and np.allclose(d2, (data * 10).astype(np.int32))


def test_scan_records_and_rejects(tmp_path):
    from astropy.io import fits

    good = sources.scan_file(write_level1(str(tmp_path / "g.fits"), "hmi_m", T, crota2=180))
    assert good.reason is None and good.channel == "hmi_m" and good.t_obs == T
    assert good.meta["CROTA2"] == 180 and set(good.meta) == set(sources.META_KEYWORDS)
    assert sources.FileRecord.from_dict(good.to_dict()) == good

    p = write_level1(str(tmp_path / "q.fits"), "aia171", T, quality=4)
    assert sources.scan_file(p).reason.startswith("QUALITY != 0")
    p = write_level1(str(tmp_path / "w.fits"), "aia171", T)
    with fits.open(p, mode="update") as h:
        del h[0].header["CDELT1"], h[0].header["EXPTIME"]
    r = sources.scan_file(p)
    assert r.reason == "missing keyword CDELT1, EXPTIME"
    (tmp_path / "junk.fits").write_bytes(b"hello")
    assert sources.scan_file(str(tmp_path / "junk.fits")).reason.startswith("corrupt file")
    assert sources.scan_file(str(tmp_path / "w.fits"), wanted=["aia193"]).reason.startswith(
        ("channel not requested", "missing keyword"))


def test_other_instruments_are_rejected_with_reason(tmp_path):
    import sunpy.data.test as t

    eit = t.get_test_filepath("EIT/efz20040301.000010_s.fits")
    r = sources.scan_file(eit)
    assert r.channel is None and "unknown channel" in r.reason and "EIT" in r.reason
    aia = sources.scan_file(t.get_test_filepath("aia_171_level1.fits"))
    assert aia.reason is None and aia.channel == "aia171"


def test_missing_keywords_rules():
    h = {"DATE-OBS": "2024-01-01T00:00:00", "CDELT1": 1, "CDELT2": 1, "CRPIX1": 1, "CRPIX2": 1,
         "CRVAL1": 0, "CRVAL2": 0, "DSUN_OBS": 1.5e11, "BUNIT": "DN/s"}
    assert sources.missing_keywords(h, "aia171") == []  # already a rate: EXPTIME not needed
    assert sources.missing_keywords({**h, "BUNIT": "DN"}, "aia171") == ["EXPTIME"]
    assert sources.missing_keywords({**h, "DSUN_OBS": None}, "hmi_m") == ["RSUN_OBS|DSUN_OBS"]
    assert sources.parse_time({"T_OBS": "2014.03.01_00:01:25_TAI"}).isoformat().startswith(
        "2014-03-01T00:00:50")  # TAI − 35 s


class FakeFido:
    """Stands in for sunpy.net.Fido: records queries, 'downloads' nothing over the network."""

    def __init__(self, tmp_path):
        self.queries, self.tmp = [], tmp_path

    def search(self, *attrs):
        self.queries.append(attrs)
        return ["r1", "r2"]

    def fetch(self, result, path, max_conn, overwrite=False):
        out = []
        for i, _ in enumerate(result):
            p = path.format(file=f"f{len(self.queries)}_{i}.fits")
            write_level1(p, "aia171", T, size=8)  # a complete FITS file (empty ones are cut off)
            out.append(p)
        return out


def test_download_builds_fido_queries(tmp_path):
    import astropy.units as u
    from sunpy.net import attrs as a

    fake = FakeFido(tmp_path)
    cfg = dl.DownloadConfig(start="2024-01-01T00:00", end="2024-01-01T01:00",
                                 channels=("aia171", "aia1600", "hmi_m"), cadence_minutes=12,
                                 out_dir=str(tmp_path / "raw"))
    got = dl.download(cfg, fido=fake, log=lambda s: None)
    assert {k: len(v) for k, v in got.items()} == {"aia171": 2, "aia1600": 2, "hmi_m": 2}
    assert all(p.startswith(str(tmp_path / "raw" / k)) for k, v in got.items() for p in v)
    aia = fake.queries[0]
    wl = next(x for x in aia if isinstance(x, a.Wavelength))
    assert wl.min.to_value(u.AA) == 171
    samp = next(x for x in aia if isinstance(x, a.Sample))
    assert samp.value == pytest.approx(720)
    assert any(isinstance(x, a.Physobs) and x.value.lower() == "los_magnetic_field" for x in fake.queries[2])
    jsoc = dl.build_queries(dl.DownloadConfig("2024-01-01", "2024-01-02", ("aia1600", "hmi_m"),
                                                        jsoc_email="me@x.org"))
    series = [next(x.value for x in q if isinstance(x, a.jsoc.Series)) for _, q in jsoc]
    assert series == ["aia.lev1_uv_24s", "hmi.M_45s"]
    with pytest.raises(ValueError, match="vector"):
        dl.build_queries(dl.DownloadConfig("2024-01-01", "2024-01-02", ("hmi_bz",)))


def test_download_command(tmp_path, capsys):
    from solarray.commands import download
    from solarray.core.errors import UsageError

    assert download.parse_minutes("12min") == 12 and download.parse_minutes("45s") == 0.75
    assert download.parse_minutes("1h") == 60
    fake = FakeFido(tmp_path)
    args = argparse.Namespace(start="2024-01-01T00:00", end="2024-01-01T00:30", cadence="6min",
                              channels="aia193", out=str(tmp_path / "dl"), jsoc_email=None, max_conn=1)
    assert download.run(args, fido=fake) == 0
    assert "2 files" in capsys.readouterr().out
    with pytest.raises(UsageError, match="cadence"):
        download.run(argparse.Namespace(**{**vars(args), "cadence": "soon"}), fido=fake)
    with pytest.raises(UsageError, match="after"):
        download.run(argparse.Namespace(**{**vars(args), "end": "2023-01-01"}), fido=fake)
    shutil.rmtree(tmp_path / "dl")
