"""`solarray flares` and `solarray regions` end to end (real GOES file, tiny synthetic Sun)."""

from __future__ import annotations

import json

import pytest
from sunpy.data.test import get_test_filepath

from solarray.cli import main


def test_flares_json_on_real_goes(capsys):
    assert main(["flares", "--goes", get_test_filepath("go1520110607.fits"), "--json"]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert lines == [{"start": "2011-06-07T06:16:00Z", "peak": "2011-06-07T06:41:00Z",
                      "end": "2011-06-07T06:59:00Z", "peak_flux": pytest.approx(2.5446e-5, rel=1e-3),
                      "goes_class": "M2.5"}]


def test_flares_table_and_bad_inputs(capsys, tmp_path):
    assert main(["flares", "--goes", get_test_filepath("go1520120601.fits.gz"),
                 "--min-class", "C2.0"]) == 0
    out = capsys.readouterr().out
    assert "C3.3" in out and "C2.1" in out and "C1.1" not in out
    assert main(["flares", "--goes", str(tmp_path / "none.fits")]) == 2
    assert "no such file" in capsys.readouterr().err
    junk = tmp_path / "junk.fits"
    junk.write_bytes(b"not a fits file at all")
    assert main(["flares", "--goes", str(junk)]) == 2
    assert "not readable as GOES XRS" in capsys.readouterr().err
    assert main(["flares", "--goes", str(junk), "--min-class", "Z9"]) == 2


@pytest.fixture(scope="module")
def synth_dir(tmp_path_factory):
    from solarray.data.synthetic import SynthConfig, generate

    out = tmp_path_factory.mktemp("regions") / "syn"
    generate(SynthConfig(hours=6, cadence_minutes=360, size=96, seed=3, channels=("hmi_m",),
                         preview=False), out)
    return out


def test_regions_json_tracks_numbers(synth_dir, capsys):
    assert main(["regions", "--data", str(synth_dir), "--json", "--kinds", "AR"]) == 0
    recs = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    times = sorted({r["time"] for r in recs})
    assert len(times) == 2 and all(r["kind"] == "AR" for r in recs)
    assert {"number", "hgs_lon", "hgs_lat", "carr_lon", "area_msh", "flux_pos", "log_r"} <= set(recs[0])
    # Carrington longitude of a tracked region barely moves in 6 h; its number is kept.
    first = {r["number"]: r for r in recs if r["time"] == times[0]}
    second = {r["number"]: r for r in recs if r["time"] == times[1]}
    kept = set(first) & set(second)
    assert kept
    for n in kept:
        assert abs(first[n]["carr_lon"] - second[n]["carr_lon"]) < 3.0


def test_regions_table_single_file_and_errors(synth_dir, capsys, tmp_path):
    mask = sorted((synth_dir / "masks").glob("*.fits"))[0]
    assert main(["regions", "--data", str(mask)]) == 0
    out = capsys.readouterr().out
    assert "no magnetogram" in out and "CH:" in out
    assert main(["regions", "--data", str(tmp_path / "nothing")]) == 2
    assert main(["regions", "--data", str(tmp_path)]) == 2
    assert "masks/" in capsys.readouterr().err
    assert main(["regions", "--data", str(synth_dir), "--kinds", "XX"]) == 2
    assert main(["regions", "--data", str(synth_dir), "--ar-eps", "5 kg"]) == 2
