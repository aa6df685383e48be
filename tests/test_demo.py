"""`solarray demo`: argument checks and the report it writes (the full run is the README's main
command; it takes minutes, so CI checks its parts here and each stage in its own tests)."""

import pytest

from solarray.cli import main
from solarray.demo import DemoConfig, StageLog, _print_table, _report


@pytest.mark.parametrize("args,needle", [(["--days", "10"], "days"), (["--size", "50"], "size"),
                                         (["--steps", "2"], "steps")])
def test_bad_arguments(capsys, args, needle):
    assert main(["demo", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("solarray demo: error:") and needle in err


def test_report_and_table(tmp_path, capsys):
    response = {"observation_time": "2024-03-10T00:00:00Z",
                "full_disk": {"p_m24": 0.67},
                "model_versions": {"spnet": "spnet@abc"},
                "regions": [{"number": 3, "hgs_lon": -6.2, "hgs_lat": -17.6, "area_msh": 229.0,
                             "hale": "beta-x", "mcintosh": "D", "p_m24": 0.15}]}
    log = StageLog()
    log.run("stage <one>", lambda: 1, lambda r: f"result {r}")
    path = _report(tmp_path, response, log, [{"file": "aia_171_level1.fits", "channel": "aia171",
                                              "limb_radius_rsun": 1.0}],
                   {"ar": {"tss": 0.5}}, DemoConfig(out=str(tmp_path)), tmp_path / "ck")
    page = path.read_text()
    assert "2024-03-10T00:00:00Z" in page and "beta-x" in page and "0.67" in page
    assert "stage &lt;one&gt;" in page  # escaped
    _print_table(response)
    out = capsys.readouterr().out
    assert "beta-x" in out and "0.15" in out and "0.67" in out
