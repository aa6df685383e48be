"""The benchmark protocol: mean ± std over seeds, the paired "beats" rule, the JSON
record under docs/results/ and the BENCHMARKS.md table helper, against hand-computed values."""

import json
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from solarray.benchmarks import record as R
from solarray.metrics import protocol as P


def test_summarise_hand_computed():
    s = P.summarise([0.8, 0.9, 1.0])
    # mean 0.9; deviations ±0.1, 0 → sample variance 0.02 / 2 = 0.01 → std 0.1
    assert s["mean"] == pytest.approx(0.9) and s["std"] == pytest.approx(0.1)
    assert s["n"] == 3 and s["values"] == [0.8, 0.9, 1.0]


def test_summarise_skips_missing_and_keeps_seed_order():
    s = P.summarise([1.0, None, float("nan"), 3.0, np.float32(5.0)])
    assert s["n"] == 3 and s["mean"] == pytest.approx(3.0) and s["std"] == pytest.approx(2.0)
    assert s["values"] == [1.0, None, None, 3.0, 5.0]
    one = P.summarise(np.array([0.7]))
    assert one == {"mean": pytest.approx(0.7), "std": 0.0, "n": 1, "values": [pytest.approx(0.7)]}


def test_summarise_errors():
    with pytest.raises(ValueError, match="empty"):
        P.summarise([])
    with pytest.raises(ValueError, match="all 2 values are missing"):
        P.summarise([None, float("nan")])
    with pytest.raises(ValueError, match="expected numbers"):
        P.summarise(["high"])


def test_compare_beats_with_a_steady_margin():
    c = P.compare([0.9, 0.8, 0.7], [0.8, 0.7, 0.6])  # d = 0.1, 0.1, 0.1
    assert c["difference"]["mean"] == pytest.approx(0.1)
    assert c["difference"]["std"] == pytest.approx(0.0, abs=1e-12)
    assert c["beats"] is True and "note" not in c
    assert c["model"]["mean"] == pytest.approx(0.8) and c["baseline"]["mean"] == pytest.approx(0.7)


def test_compare_does_not_beat_within_noise():
    c = P.compare([0.8, 0.6, 0.7], [0.5, 0.7, 0.6])  # d = 0.3, −0.1, 0.1
    # mean 0.1; deviations 0.2, −0.2, 0 → variance 0.08 / 2 = 0.04 → std 0.2; 0.1 − 0.2 < 0
    assert c["difference"]["mean"] == pytest.approx(0.1)
    assert c["difference"]["std"] == pytest.approx(0.2)
    assert c["beats"] is False


def test_compare_lower_is_better_flips_the_difference():
    c = P.compare([0.5, 0.6, 0.4], [0.7, 0.9, 0.6], higher_is_better=False)  # d = 0.2, 0.3, 0.2
    assert c["difference"]["values"] == [pytest.approx(0.2), pytest.approx(0.3), pytest.approx(0.2)]
    assert c["beats"] is True and c["higher_is_better"] is False
    worse = P.compare([0.7, 0.9, 0.6], [0.5, 0.6, 0.4], higher_is_better=False)
    assert worse["difference"]["mean"] < 0 and worse["beats"] is False


def test_compare_pairs_by_seed_and_drops_unpaired_seeds():
    c = P.compare([0.9, None, 0.8, 0.7], [0.8, 0.5, float("nan"), 0.6])  # paired: seeds 0 and 3
    assert c["difference"]["n"] == 2 and c["difference"]["values"][1:3] == [None, None]
    assert c["beats"] is True and "≥ 3" in c["note"]
    with pytest.raises(ValueError, match="3 model values and 2 baseline values"):
        P.compare([1, 2, 3], [1, 2])
    with pytest.raises(ValueError, match="no seed has both"):
        P.compare([1.0, None], [None, 2.0])


def test_compare_one_seed_never_beats():
    c = P.compare([0.99], [0.10])
    assert c["beats"] is False and "at least 2" in c["note"]


def test_format_pm():
    assert P.format_pm({"mean": 0.8123, "std": 0.0214, "n": 3}) == "0.812 ± 0.021"
    assert P.format_pm(P.summarise([35.0, 36.0, 37.0]), digits=1) == "36.0 ± 1.0"
    assert P.format_pm(P.summarise([0.5])) == "0.500 (n=1)"


@dataclass
class _Cfg:
    size: int = 128
    lr: float = 1e-3


def test_result_record_is_plain_json():
    results = {
        "roca": P.compare(np.array([0.8, 0.82, 0.81]), np.array([0.7, 0.71, 0.69])),
        "scores": np.arange(3, dtype=np.float32) / 2,
        "best": np.int64(2),
        "ok": np.bool_(True),
        "bss": np.float64("nan"),
    }
    r = R.result_record(
        "fpnet_per_ar", ["solarray", "bench", "--out", "a b"], _Cfg(), results, seeds=(0, 1, 2)
    )
    assert list(r) == [
        "name",
        "command",
        "config",
        "seeds",
        "results",
        "created",
        "git_commit",
        "git_dirty",
        "python",
        "torch",
    ]
    assert r["command"] == "solarray bench --out 'a b'"
    assert r["config"] == {"size": 128, "lr": 1e-3} and r["seeds"] == [0, 1, 2]
    assert r["results"]["scores"] == [0.0, 0.5, 1.0] and type(r["results"]["best"]) is int
    assert r["results"]["ok"] is True and r["results"]["bss"] is None
    assert r["results"]["roca"]["beats"] is True
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", r["created"])
    assert r["python"].count(".") == 2
    json.dumps(r, allow_nan=False)  # strict JSON


def test_result_record_git_commit_matches_the_checkout():
    r = R.result_record("x", "cmd --flag", {}, {}, [0])
    assert r["command"] == "cmd --flag"
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(R.__file__).parent,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        assert r["git_commit"] is None
    else:
        assert r["git_commit"] == head and re.fullmatch(r"[0-9a-f]{40}", head)


def test_result_record_rejects_what_json_cannot_hold():
    with pytest.raises(TypeError, match=r"object at record\.results\.model"):
        R.result_record("x", "cmd", {}, {"model": object()}, [0])
    with pytest.raises(ValueError, match="name"):
        R.result_record("", "cmd", {}, {}, [0])


def test_write_result_atomic_and_round_trips(tmp_path):
    r = R.result_record(
        "spnet_ar",
        "python benchmarks/spnet.py --seeds 0 1 2",
        {"px": 256},
        {"iou": P.summarise(np.array([71.0, 73.5, 72.0]))},
        [0, 1, 2],
    )
    path = tmp_path / R.RESULTS_DIR / "spnet_ar.json"
    assert R.write_result(r, path) == path
    assert sorted(p.name for p in path.parent.iterdir()) == ["spnet_ar.json"]  # no temp files
    back = json.loads(path.read_text())
    assert back == r and back["results"]["iou"]["n"] == 3
    # Overwrite in place; numpy left in a hand-edited record is converted on the way out.
    r["results"]["extra"] = np.float32(0.25)
    R.write_result(r, path)
    assert json.loads(path.read_text())["results"]["extra"] == 0.25
    assert sorted(p.name for p in path.parent.iterdir()) == ["spnet_ar.json"]


def test_write_result_failure_leaves_previous_file(tmp_path):
    path = tmp_path / "r.json"
    R.write_result({"a": 1}, path)
    with pytest.raises(TypeError):
        R.write_result({"a": object()}, path)
    assert json.loads(path.read_text()) == {"a": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]


def test_markdown_table():
    rows = [
        {"model": "SPNet", "IoU": "72.1 ± 1.3", "beats": "yes"},
        {"model": "thr|eshold", "IoU": "51.0 ± 0.4"},
    ]
    assert R.markdown_table(rows, ["model", "IoU", "beats"]) == (
        "| model | IoU | beats |\n"
        "| --- | --- | --- |\n"
        "| SPNet | 72.1 ± 1.3 | yes |\n"
        "| thr\\|eshold | 51.0 ± 0.4 |  |"
    )
    assert R.markdown_table([], ["a"]) == "| a |\n| --- |"
    with pytest.raises(ValueError, match="columns"):
        R.markdown_table(rows, [])


def test_non_finite_numbers_become_null():
    assert R.result_record("x", "c", {"v": float("inf")}, {}, [])["config"]["v"] is None


def test_comparison_line():
    c = P.compare([0.8, 0.82, 0.81], [0.7, 0.71, 0.69])
    assert R.comparison_line("fpnet", "climatology", {"roca": c}) == (
        f"- fpnet vs climatology: roca beats (Δ {P.format_pm(c['difference'])})")


def test_metrics_protocol_runs_no_git_and_writes_no_files():
    text = Path(P.__file__).read_text()
    assert "subprocess" not in text and "write_json" not in text and "open(" not in text
