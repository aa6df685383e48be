"""`solarray demo`: argument checks and the report it writes (the full run is the README's main
command; it takes minutes, so CI checks its parts here and each stage in its own tests)."""

import numpy as np
import pandas as pd
import pytest

from solarray.cli import main
from solarray.demo import StageLog, _print_table
from solarray.demo.report import (
    AUTOMATIC,
    UPPER_BOUND,
    held_out_skill,
    regions_vs_truth,
    write_report,
)


@pytest.mark.parametrize("args,needle", [(["--days", "1"], "days"), (["--size", "50"], "size"),
                                         (["--steps", "2"], "steps")])
def test_bad_arguments(capsys, args, needle):
    assert main(["demo", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("solarray demo: error:") and needle in err


def test_report_and_table(tmp_path, capsys):
    response = {"observation_time": "2024-03-10T00:00:00Z",
                "full_disk": {"p_m24": 0.67},
                "model_versions": {"spnet": "spnet@abc"},
                "regions": [{"number": 3, "hgs_lon": -6.2, "hgs_lat": -17.6, "area_msh": 229.4,
                             "hale": "beta-x", "mcintosh": "D", "flare_index": 10.0,
                             "p_m24": 0.1523}]}
    log = StageLog()
    log.run("stage <one>", lambda: 1, lambda r: f"result {r}")
    truth = {"n_matched": 1, "n_missed": 0, "n_false": 0, "recall": 1.0, "precision": 1.0,
             "median_area_ratio": 0.93, "rows": [{"truth": 7, "truth_area_msh": 246,
                                                 "truth_hale": "beta-x", "detected": 3,
                                                 "detected_area_msh": 229, "distance_deg": 0.8}]}
    path = write_report(tmp_path, response, log.rows, [
        {"file": "aia_171_level1.fits", "channel": "aia171", "limb_radius_rsun": 1.0}],
        {AUTOMATIC: {"ar": {"roca": 0.912, "bss": 0.21, "tss": 0.6, "hss": 0.4, "n": 100,
                            "events": 9, "roca_lo": 0.85, "roca_hi": 0.95}},
         UPPER_BOUND: {"ar": {"roca": 0.97, "bss": 0.4, "n": 100, "events": 9}}},
        truth, {"size": 128}, tmp_path / "ck")
    page = path.read_text()
    assert "Automatic chain, per region: ROCA 0.91 [0.85, 0.95]" in page  # the headline
    assert page.index(f"<td>{AUTOMATIC}</td>") < page.index(f"<td>{UPPER_BOUND}</td>")
    assert "2024-03-10T00:00:00Z" in page and "beta-x" in page and "0.67" in page
    assert "<td>229</td>" in page and "<td>0.15</td>" in page  # rounded for people
    assert "<td>0.91</td>" in page and "1 matched, 0 missed, 0 false" in page
    assert "stage &lt;one&gt;" in page  # escaped
    _print_table(response)
    out = capsys.readouterr().out
    assert "beta-x" in out and "0.15" in out and "0.67" in out


def test_held_out_skill_from_forecast_csvs(tmp_path):
    rng = np.random.default_rng(0)
    for mode in ("ar", "full-disk"):
        d = tmp_path / mode
        d.mkdir()
        for split in ("val", "test"):
            times = [f"2024-01-{1 + k // 4:02d}T{(k % 4) * 6:02d}:00:00" for k in range(40)]
            obs = rng.random(40) < 0.3
            p = np.clip(0.3 + 0.4 * (obs - 0.3) + rng.normal(0, 0.1, 40), 0.01, 0.99)
            df = pd.DataFrame({"time": times, "observed": obs.astype(int), "probability": p,
                               "probability_raw": p})
            if mode == "ar":
                df["ar"] = np.arange(40) % 10  # ten regions
            df.to_csv(d / f"forecasts_{split}.csv", index=False)
    skill = held_out_skill({"ar": tmp_path / "ar", "full-disk": tmp_path / "full-disk"})
    assert set(skill) == {"ar", "full-disk", "aggregated", "full disk (chosen on validation)"}
    chosen = skill["full disk (chosen on validation)"]
    assert chosen["chosen"] in ("full-disk", "aggregated")
    assert chosen["roca"] == skill[chosen["chosen"]]["roca"]
    assert skill["ar"]["roca"] > 0.8 and skill["ar"]["n"] == 40
    # intervals resample the regions (per region) or days (full disk) and bracket the value
    assert skill["ar"]["resampled"] == "regions" and skill["ar"]["n_groups"] == 10
    assert skill["full-disk"]["resampled"] == "days" and skill["full-disk"]["n_groups"] == 10
    assert skill["ar"]["roca_lo"] < skill["ar"]["roca"] <= skill["ar"]["roca_hi"]
    # Shuffled probabilities lose the skill (the score reads the forecasts, not the labels).
    for split in ("val", "test"):
        f = tmp_path / "ar" / f"forecasts_{split}.csv"
        df = pd.read_csv(f)
        df["probability_raw"] = df["probability"] = rng.permutation(df["probability"].to_numpy())
        df.to_csv(f, index=False)
    assert held_out_skill({"ar": tmp_path / "ar"})["ar"]["roca"] < 0.75


def test_regions_vs_truth(tmp_path):
    (tmp_path / "tables").mkdir()
    t = pd.Timestamp("2024-03-10T00:00:00")
    pd.DataFrame({"t_obs": [t, t, t, t + pd.Timedelta(hours=6)], "ar_number": [1, 2, 3, 1],
                  "hgs_lon": [10.0, -30.0, 50.0, 13.0], "hgs_lat": [12.0, -20.0, 5.0, 12.0],
                  "area_msh": [400.0, 250.0, 40.0, 400.0], "hale": ["beta", "alpha", "alpha", "beta"]}
                 ).to_parquet(tmp_path / "tables" / "ar.parquet")
    response = {"observation_time": "2024-03-10T00:00:00Z", "regions": [
        {"number": 9, "hgs_lon": 11.0, "hgs_lat": 12.5, "area_msh": 500.0, "hale": "beta"},
        {"number": 8, "hgs_lon": -80.0, "hgs_lat": 0.0, "area_msh": 100.0, "hale": "alpha"}]}
    m = regions_vs_truth(response, tmp_path)
    assert (m["n_matched"], m["n_missed"], m["n_false"]) == (1, 1, 1)  # AR 3 < 100 MSH: not counted
    assert m["median_area_ratio"] == pytest.approx(1.25)
    assert [r["truth"] for r in m["rows"]] == [1, 2, 3] and m["rows"][0]["detected"] == 9


def test_demo_suns_span_the_activity_levels():
    """The training Suns hold every activity level of the benchmark Sun and the held-out month
    spans quiet to active (a demo trained at one base rate is miscalibrated at another)."""
    from solarray.data.dataset import assign_splits
    from solarray.data.synthetic.benchmark_sun import ACTIVITY_LEVELS
    from solarray.demo import DemoConfig

    runs = DemoConfig().runs()
    splits = assign_splits(np.array([r.start for r in runs], dtype="datetime64[s]"))
    by_split = {s: sorted(r.activity for r, x in zip(runs, splits, strict=True) if x == s)
                for s in ("train", "val", "test")}
    assert set(by_split["train"]) == set(ACTIVITY_LEVELS)
    assert min(by_split["test"]) <= min(ACTIVITY_LEVELS) and max(by_split["test"]) >= 1.0
    assert len({r.seed for r in runs}) == len(runs)
