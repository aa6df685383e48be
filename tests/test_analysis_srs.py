"""NOAA SRS files (all twelve shipped with sunpy) → the IATools AR table form."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from sunpy.data.test import get_test_filepath

from solarray.core.classes import HALE_CLASSES, MCINTOSH_Z
from solarray.data.tables import srs as S

SRS_DIR = Path(get_test_filepath("go1520110607.fits")).parent / "SRS"
FILES = sorted(SRS_DIR.glob("*SRS.txt"))


def test_all_twelve_files_parse():
    assert len(FILES) == 12
    total = 0
    for f in FILES:
        df = S.read_srs_table(f)
        assert list(df.columns) == S.SRS_COLUMNS
        assert df["hale"].dropna().isin(HALE_CLASSES).all()
        assert df["mcintosh"].dropna().isin(MCINTOSH_Z).all()
        assert (df["t_obs"] == pd.Timestamp(f.name[:8])).all()
        total += len(df)
    assert total == 51  # regions with spots (section I) in the twelve files
    both = S.read_srs_dir(SRS_DIR, sections=("I", "IA"))
    assert len(both) > total and both.loc[both["section"] == "IA", "hale"].isna().all()


def test_known_rows_upper_and_mixed_case():
    old = S.read_srs_table(SRS_DIR / "20000922SRS.txt").set_index("number")
    r = old.loc[9169]  # N09E32 1910 FKC BETA-GAMMA-DELTA
    assert (r["hgs_lat"], r["hgs_lon"], r["carr_lon"], r["area_msh"]) == (9.0, -32.0, 76.0, 1910.0)
    assert r["hale"] == "beta-x" and r["mcintosh"] == "F" and r["mcintosh_full"] == "FKC"
    assert old.loc[9165, "hale"] == "alpha" and old.loc[9165, "mcintosh"] == "H"
    new = S.read_srs_table(SRS_DIR / "20020624SRS.txt").set_index("number")
    r = new.loc[10008]  # mixed case: 'Beta-Gamma', 'Dki'
    assert r["mag_type"] == "BETA-GAMMA" and r["hale"] == "beta-x"
    assert r["mcintosh_full"] == "DKI" and r["mcintosh"] == "D"
    assert S.read_srs_table(SRS_DIR / "19960430SRS.txt").empty  # only plages that day


@pytest.mark.parametrize("mag,hale", [("ALPHA", "alpha"), ("Beta", "beta"), ("Beta-Gamma", "beta-x"),
                                      ("BETA-GAMMA-DELTA", "beta-x"), ("Beta-Delta", "beta-x"),
                                      ("Gamma", "beta-x"), ("", None), (None, None)])
def test_hale_mapping(mag, hale):
    assert S.hale_class(mag) == hale


def test_bad_file(tmp_path):
    with pytest.raises(S.SRSReadError, match="no such file"):
        S.read_srs_table(tmp_path / "x.txt")
    with pytest.raises(S.SRSReadError, match="no files"):
        S.read_srs_dir(tmp_path)
    junk = tmp_path / "junkSRS.txt"
    junk.write_text("garbage\n1 2 3\n")
    with pytest.raises(S.SRSReadError, match="not a readable NOAA SRS"):
        S.read_srs_table(junk)
