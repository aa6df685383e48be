"""Forecast verification: hand-computed matrices, SA-AI 2025 Table 4, scikit-learn, degenerate inputs,
summing counts across Ray workers, and the ``solarray verify`` command."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from sklearn import metrics as skm

from solarray.cli import main
from solarray.metrics import verification as v
from solarray.metrics.verification import ConfusionCounts

# Rows of SA-AI 2025 Table 4 whose published scores agree with their published counts
# (TP, TN, FP, FN; F1, TSS, HSS, precision, recall, FAR, accuracy, CSI). The other rows of the
# table are internally inconsistent (e.g. NOAA Th=0.3 sums to N = 401 instead of 511).
TABLE4 = {
    "AR SWPC(Th=0.5)": ((35, 3640, 20, 230),
                        (0.2188, 0.1266, 0.2002, 0.6364, 0.1321, 0.3636, 0.9363, 0.1228)),
    "AR SWPC(Th=0.2)": ((138, 3419, 241, 127),
                        (0.4286, 0.4549, 0.3792, 0.3641, 0.5208, 0.6359, 0.9062, 0.2727)),
    "AR SVM": ((89, 3577, 83, 176),
               (0.4073, 0.3132, 0.3741, 0.5174, 0.3358, 0.4826, 0.9340, 0.2557)),
    "AR FPNet*": ((124, 3555, 105, 141),
                  (0.5020, 0.4392, 0.4688, 0.5415, 0.4679, 0.4585, 0.9373, 0.3351)),
    "AR SA-AI": ((147, 5296, 148, 155),
                 (0.4925, 0.4596, 0.4647, 0.4983, 0.4868, 0.5017, 0.9473, 0.3267)),
    "FD SWPC(Th=0.5)": ((147, 227, 29, 108),
                        (0.6821, 0.4632, 0.4635, 0.8352, 0.5765, 0.1648, 0.7319, 0.5176)),
    "FD SEPC(Th=0.5)": ((196, 158, 98, 59),
                        (0.7140, 0.3858, 0.3857, 0.6667, 0.7686, 0.3333, 0.6928, 0.5552)),
    "FD NOAA(Th=0.5)": ((93, 214, 42, 162),
                        (0.4769, 0.2006, 0.2008, 0.6889, 0.3647, 0.3111, 0.6008, 0.3131)),
    "FD SA-AI": ((190, 177, 97, 47),
                 (0.7252, 0.4477, 0.4414, 0.6620, 0.8017, 0.3380, 0.7182, 0.5689)),
}  # fmt: skip


def _random_forecasts(seed: int, n: int = 400, rate: float = 0.2, round_to: int | None = None):
    rng = np.random.default_rng(seed)
    o = (rng.random(n) < rate).astype(int)
    p = np.clip(0.3 * o + 0.7 * rng.random(n), 0.0, 1.0)
    if round_to is not None:  # ties, as operational forecasts in whole percent have
        p = np.round(p, round_to)
    return o, p


# ---------------------------------------------------------------------------------------------
# Threshold scores
# ---------------------------------------------------------------------------------------------
def test_hand_computed_matrix():
    o = [1, 1, 1, 0, 0, 0, 0, 0]
    p = [0.9, 0.5, 0.2, 0.7, 0.6, 0.3, 0.1, 0.0]  # yes: 0.9 0.5 (hits), 0.7 0.6 (false alarms)
    c = ConfusionCounts.from_forecasts(o, p, threshold=0.5)
    assert (c.tp, c.tn, c.fp, c.fn) == (2, 3, 2, 1)
    assert c.precision == pytest.approx(2 / 4)
    assert c.recall == c.pod == pytest.approx(2 / 3)
    assert c.far == pytest.approx(2 / 4)
    assert c.pofd == pytest.approx(2 / 5)
    assert c.accuracy == pytest.approx(5 / 8)
    assert c.f1 == pytest.approx(2 * 0.5 * (2 / 3) / (0.5 + 2 / 3))
    assert c.csi == pytest.approx(2 / 5)
    assert c.tss == pytest.approx(2 / 3 - 2 / 5)
    # HSS = 2(2·3 − 1·2) / [(2+1)(1+3) + (2+2)(2+3)] = 8/32
    assert c.hss == pytest.approx(0.25)
    assert c.undefined() == {}


def test_threshold_is_inclusive():
    c = ConfusionCounts.from_forecasts([1, 0], [0.5, 0.5], threshold=0.5)
    assert (c.tp, c.fp) == (1, 1)


@pytest.mark.parametrize("name", list(TABLE4))
def test_reproduces_sa_ai_table4(name):
    (tp, tn, fp, fn), published = TABLE4[name]
    c = ConfusionCounts(tp, tn, fp, fn)
    ours = (c.f1, c.tss, c.hss, c.precision, c.recall, c.far, c.accuracy, c.csi)
    for label, mine, theirs in zip(
        ("F1", "TSS", "HSS", "precision", "recall", "FAR", "accuracy", "CSI"),
        ours,
        published,
        strict=True,
    ):
        assert round(mine, 4) == pytest.approx(theirs, abs=1e-4), label


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_threshold_scores_match_sklearn(seed):
    o, p = _random_forecasts(seed)
    for thr in (0.1, 0.5, 0.8):
        y = (p >= thr).astype(int)
        c = ConfusionCounts.from_forecasts(o, p, thr)
        tn, fp, fn, tp = skm.confusion_matrix(o, y, labels=[0, 1]).ravel()
        assert (c.tp, c.tn, c.fp, c.fn) == (tp, tn, fp, fn)
        assert c.precision == pytest.approx(skm.precision_score(o, y))
        assert c.recall == pytest.approx(skm.recall_score(o, y))
        assert c.f1 == pytest.approx(skm.f1_score(o, y))
        assert c.accuracy == pytest.approx(skm.accuracy_score(o, y))
        # TSS = balanced accuracy rescaled to [-1, 1]
        assert c.tss == pytest.approx(skm.balanced_accuracy_score(o, y, adjusted=True))
        # HSS is Cohen's kappa between forecast and observation
        assert c.hss == pytest.approx(skm.cohen_kappa_score(o, y))


def test_counts_validation():
    with pytest.raises(ValueError, match="fn must be >= 0"):
        ConfusionCounts(1, 1, 1, -1)
    with pytest.raises(TypeError, match="tp must be an integer"):
        ConfusionCounts(1.5, 0, 0, 0)
    assert ConfusionCounts(np.int64(3), 2.0, 0, 0).tp == 3
    with pytest.raises(ValueError, match="0/1"):
        ConfusionCounts.from_binary([0, 1], [0, 2])


def test_hss_large_counts_do_not_overflow():
    big = 4_000_000_000  # products exceed int64
    c = ConfusionCounts(np.int64(big), np.int64(big), np.int64(big // 2), np.int64(big // 2))
    # HSS = 2(TP·TN − FN·FP)/[...] computed with Python ints: exact 1/3 here.
    assert c.hss == pytest.approx(1 / 3)


# ---------------------------------------------------------------------------------------------
# Summing counts (Ray workers)
# ---------------------------------------------------------------------------------------------
def test_counts_add_and_sum():
    o, p = _random_forecasts(3, n=1000)
    whole = ConfusionCounts.from_forecasts(o, p, 0.4)
    parts = [ConfusionCounts.from_forecasts(oc, pc, 0.4)
             for oc, pc in zip(np.array_split(o, 7), np.array_split(p, 7), strict=True)]  # fmt: skip
    assert sum(parts) == whole
    assert ConfusionCounts.total(parts) == whole
    assert parts[0] + parts[1] == ConfusionCounts(*(
        getattr(parts[0], k) + getattr(parts[1], k) for k in ("tp", "tn", "fp", "fn")))  # fmt: skip
    assert sum(parts).tss == pytest.approx(whole.tss)
    assert ConfusionCounts.total([]) == ConfusionCounts()
    with pytest.raises(TypeError):
        _ = parts[0] + 1.0


def test_counts_summed_across_ray_workers(ray_session):
    ray = ray_session
    o, p = _random_forecasts(4, n=2000)

    @ray.remote(num_cpus=0.5)
    def count(obs, prob):
        return ConfusionCounts.from_forecasts(obs, prob, 0.5)

    refs = [count.remote(oc, pc)
            for oc, pc in zip(np.array_split(o, 4), np.array_split(p, 4), strict=True)]  # fmt: skip
    total = sum(ray.get(refs))
    assert total == ConfusionCounts.from_forecasts(o, p, 0.5)
    assert total.n == 2000


# ---------------------------------------------------------------------------------------------
# Probabilistic scores
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("seed,round_to", [(0, None), (1, 1), (2, 2)])
def test_probabilistic_scores_match_sklearn(seed, round_to):
    o, p = _random_forecasts(seed, round_to=round_to)
    assert v.brier_score(o, p) == pytest.approx(skm.brier_score_loss(o, p))
    assert v.roc_auc(o, p) == pytest.approx(skm.roc_auc_score(o, p))
    roc = v.roc_curve(o, p)
    fpr, tpr, thr = skm.roc_curve(o, p, drop_intermediate=False)
    np.testing.assert_allclose(roc.fpr, fpr)
    np.testing.assert_allclose(roc.tpr, tpr)
    np.testing.assert_allclose(roc.thresholds[1:], thr[1:])
    assert roc.thresholds[0] == np.inf


def test_brier_skill_score_hand_computed():
    o = [1, 0, 0, 0]
    p = [0.5, 0.0, 0.0, 0.5]  # BS = (0.25 + 0.25)/4 = 0.125
    assert v.brier_score(o, p) == pytest.approx(0.125)
    # sample climatology 0.25: BS_clim = 0.25·0.75 = 0.1875
    assert v.climatology_brier_score(o) == pytest.approx(0.1875)
    assert v.brier_skill_score(o, p) == pytest.approx(1 - 0.125 / 0.1875)
    # given climatology 0.5: BS_clim = 0.25
    assert v.brier_skill_score(o, p, base_rate=0.5) == pytest.approx(0.5)
    # the climatological forecast itself has no skill; a perfect forecast has BSS 1
    assert v.brier_skill_score(o, [0.25] * 4) == pytest.approx(0.0)
    assert v.brier_skill_score(o, o) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="base_rate"):
        v.brier_skill_score(o, p, base_rate=1.2)


def test_reliability_diagram():
    o = [0, 0, 1, 1, 1, 0, 1]
    p = [0.05, 0.15, 0.15, 0.95, 1.0, 0.55, 0.55]
    rel = v.reliability_diagram(o, p, bins=10)
    assert rel.counts.tolist() == [1, 2, 0, 0, 0, 2, 0, 0, 0, 2]
    assert rel.n == 7
    np.testing.assert_allclose(rel.observed_frequency[[0, 1, 5, 9]], [0.0, 0.5, 0.5, 1.0])
    np.testing.assert_allclose(rel.mean_probability[[0, 1, 5, 9]], [0.05, 0.15, 0.55, 0.975])
    empty = rel.counts == 0
    assert np.isnan(rel.observed_frequency[empty]).all()
    d = rel.to_dict()
    assert d["observed_frequency"][2] is None and d["counts"][9] == 2
    json.dumps(d, allow_nan=False)
    with pytest.raises(ValueError, match="span"):
        v.reliability_diagram(o, p, bins=[0.1, 0.5, 1.0])


def test_murphy_decomposition_exact_for_binned_forecasts():
    rng = np.random.default_rng(5)
    p = rng.choice([0.05, 0.25, 0.45, 0.65, 0.95], size=500)
    o = (rng.random(500) < p).astype(int)
    rel = v.reliability_diagram(o, p, bins=10)
    bs = v.brier_score(o, p)
    assert rel.reliability - rel.resolution + rel.uncertainty == pytest.approx(bs)


# ---------------------------------------------------------------------------------------------
# Threshold sweep
# ---------------------------------------------------------------------------------------------
def test_threshold_sweep_matches_pointwise_counts():
    o, p = _random_forecasts(6, round_to=2)
    sweep = v.threshold_sweep(o, p)
    assert len(sweep) == 101
    for i in (0, 13, 50, 77, 100):
        t = sweep.thresholds[i]
        assert sweep.counts(i) == ConfusionCounts.from_forecasts(o, p, t)
    assert np.all(np.diff(sweep.tp) <= 0) and np.all(np.diff(sweep.fp) <= 0)
    assert sweep.counts(0) == ConfusionCounts(int(o.sum()), 0, int((o == 0).sum()), 0)


def test_threshold_sweep_best_tss():
    o = [0, 0, 0, 1, 1]
    p = [0.1, 0.2, 0.35, 0.4, 0.9]
    sweep = v.threshold_sweep(o, p, thresholds=[0.1, 0.3, 0.38, 0.5, 0.95])
    thr, counts = sweep.best("tss")
    assert thr == pytest.approx(0.38) and counts.tss == pytest.approx(1.0)
    assert sweep.score("precision")[-1] is None  # nothing forecast "yes" at 0.95
    with pytest.raises(ValueError, match="unknown threshold score"):
        sweep.score("roca")
    with pytest.raises(ValueError, match="undefined at every threshold"):
        v.threshold_sweep([0, 0], [0.1, 0.2]).best("tss")


# ---------------------------------------------------------------------------------------------
# Degenerate inputs: defined values with reasons, or clear errors; never NaN
# ---------------------------------------------------------------------------------------------
def _assert_clean(report: v.VerificationReport):
    scores = report.scores()
    assert list(scores) == list(v.SCORE_KEYS)
    for key, value in scores.items():
        assert value is None or math.isfinite(value), key
    assert {k for k, val in scores.items() if val is None} == set(report.undefined)
    json.loads(report.to_json())  # allow_nan=False inside: would raise on NaN


def test_no_positives():
    r = v.verify([0, 0, 0, 0], [0.1, 0.6, 0.2, 0.0])
    _assert_clean(r)
    assert (r.counts.tp, r.counts.fp) == (0, 1)
    assert r.counts.precision == 0.0 and r.counts.far == 1.0
    assert r.counts.f1 == 0.0 and r.counts.csi == 0.0
    assert r.counts.recall is None and "no observed events" in r.undefined["recall"]
    assert r.roca is None and r.bss is None and r.counts.tss is None
    # HSS = 2(0·3 − 0·1)/[0·3 + 1·4] = 0
    assert r.counts.hss == 0.0
    # against a non-zero climatology BSS is defined
    assert v.verify([0, 0, 0, 0], [0.1, 0.6, 0.2, 0.0], base_rate=0.1).bss is not None


def test_all_positives():
    r = v.verify([1, 1, 1], [0.9, 0.4, 0.7])
    _assert_clean(r)
    assert r.counts.recall == pytest.approx(2 / 3) and r.counts.precision == 1.0
    assert r.counts.tss is None and "non-events" in r.undefined["tss"]
    assert r.roca is None and r.bss is None


def test_no_events_and_no_yes_forecasts():
    r = v.verify([0, 0, 0], [0.1, 0.2, 0.3])
    _assert_clean(r)
    assert r.counts.accuracy == 1.0
    assert {"precision", "recall", "far", "f1", "csi", "tss", "hss", "bss", "roca"} == set(
        r.undefined
    )


def test_constant_probability():
    o = [0, 1, 0, 1, 0]
    r = v.verify(o, [0.4] * 5)
    _assert_clean(r)
    assert r.roca == pytest.approx(0.5) == skm.roc_auc_score(o, [0.4] * 5)
    np.testing.assert_allclose(r.roc.fpr, [0, 1])
    np.testing.assert_allclose(r.roc.tpr, [0, 1])
    assert r.counts.precision is None  # 0.4 < 0.5: nothing forecast "yes"
    assert r.counts.tss == 0.0 and r.counts.hss == 0.0


def test_nan_probabilities():
    with pytest.raises(ValueError, match=r"1 NaN value\(s\) \(first at index 2\)"):
        v.verify([0, 1, 1], [0.2, 0.7, np.nan])
    r = v.verify([0, 1, 1, 0], [0.2, 0.7, np.nan, 0.1], nan_policy="omit")
    _assert_clean(r)
    assert r.dropped == 1 and r.n == 3
    assert "omitted" in r.table()
    with pytest.raises(ValueError, match="all 2 probabilities were NaN"):
        v.verify([0, 1], [np.nan, np.nan], nan_policy="omit")
    with pytest.raises(ValueError, match="nan_policy"):
        v.verify([0, 1], [0.1, 0.2], nan_policy="zero")


@pytest.mark.parametrize(
    "observed,probability,match",
    [
        ([0, 1, 1], [0.2, 0.7], "differ in length: 3 vs 2"),
        ([], [], "no forecasts"),
        ([0, 2], [0.1, 0.2], r"observed must be 0 or 1.*index 1"),
        ([0, np.nan], [0.1, 0.2], "observed must be 0 or 1"),
        ([0, 1], [0.1, 1.2], r"\[0, 1\].*index 1: 1.2"),
        ([0, 1], [-0.1, 0.5], r"\[0, 1\].*index 0"),
        ([0, 1], [0.1, np.inf], r"\[0, 1\]"),
        ([[0, 1]], [[0.1, 0.2]], "1-D"),
        (["a", "b"], [0.1, 0.2], "numeric"),
    ],
)
def test_bad_inputs_raise(observed, probability, match):
    with pytest.raises(ValueError, match=match):
        v.verify(observed, probability)


def test_bad_threshold():
    with pytest.raises(ValueError, match="threshold"):
        v.verify([0, 1], [0.1, 0.9], threshold=1.5)


def test_bool_labels_accepted():
    r = v.verify(np.array([False, True, True]), [0.1, 0.9, 0.3])
    assert (r.counts.tp, r.counts.fn) == (1, 1)


def test_table_layout():
    r = v.verify([0, 1, 1, 0], [0.2, 0.7, 0.4, 0.9])
    head = r.table("m").splitlines()[0].split()
    assert head == ["Models"] + [h for h, _ in v.TABLE4_COLUMNS]
    md = v.format_table({"a": r.scores(), "b": {"f1": None}}, markdown=True).splitlines()
    assert md[0].startswith("| Models | F1 | TSS | HSS | Precision |")
    assert "| b | undefined | – |" in md[3]


# ---------------------------------------------------------------------------------------------
# solarray verify
# ---------------------------------------------------------------------------------------------
def _write_csv(path, observed, probability, extra=True):
    lines = ["time,observed,probability,ar" if extra else "observed,probability"]
    for i, (o, p) in enumerate(zip(observed, probability, strict=True)):
        row = f"{o},{p}"
        lines.append(f"2024-01-{i % 28 + 1:02d}T00:00,{row},{1000 + i}" if extra else row)
    path.write_text("\n".join(lines) + "\n")
    return path


def test_cli_json(tmp_path, capsys):
    o, p = _random_forecasts(7, n=300)
    csv = _write_csv(tmp_path / "fc.csv", o, p)
    out = tmp_path / "figs"
    assert main(["verify", "--forecasts", str(csv), "--json", "--threshold", "0.4",
                 "--out", str(out)]) == 0  # fmt: skip
    stdout = capsys.readouterr().out
    got = json.loads(stdout)
    assert list(got) == list(v.SCORE_KEYS)
    want = v.verify(o, p, 0.4).scores()
    for k in v.SCORE_KEYS:
        assert got[k] == pytest.approx(want[k]), k
    assert got["roca"] == pytest.approx(skm.roc_auc_score(o, p))
    for name in ("fc_roc.png", "fc_reliability.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_table_and_default_out(tmp_path, capsys):
    csv = _write_csv(tmp_path / "ar.csv", [0, 1, 1, 0, 0], [0.1, 0.8, 0.45, 0.6, 0.05], extra=False)
    assert main(["verify", "--forecasts", str(csv)]) == 0
    text = capsys.readouterr().out
    assert "F1" in text and "ROCA" in text and "ar (Th=0.5)" in text
    assert (tmp_path / "ar_roc.png").exists() and (tmp_path / "ar_reliability.png").exists()


def test_cli_degenerate_gives_nulls(tmp_path, capsys):
    csv = _write_csv(tmp_path / "quiet.csv", [0, 0, 0], [0.1, 0.2, 0.7])
    assert main(["verify", "--forecasts", str(csv), "--json"]) == 0
    cap = capsys.readouterr()
    got = json.loads(cap.out)
    assert got["recall"] is None and got["roca"] is None and got["bss"] is None
    assert got["precision"] == 0.0
    assert "recall undefined" in cap.err


@pytest.mark.parametrize(
    "text,match",
    [
        ("observed,prob\n0,0.1\n", "missing column 'probability'"),
        ("obs,probability\n0,0.1\n", "missing column 'observed'"),
        ("observed,probability\n0,0.1\n1,high\n", "column 'probability' line 3: non-numeric"),
        ("observed,probability\n0,0.1\nyes,0.2\n", "column 'observed' line 3: non-numeric"),
        ("observed,probability\n0,0.1\n2,0.2\n", "column 'observed' line 3: must be 0 or 1"),
        ("observed,probability\n0,1.5\n", "column 'probability' line 2: must lie in"),
        ("observed,probability\n0,\n1,0.3\n", "column 'probability' line 2: empty/NaN"),
        ("observed,probability\n,0.3\n", "column 'observed' line 2: empty"),
        ("observed,probability\n", "no rows"),
        ("", "empty CSV"),
    ],
)
def test_cli_bad_csv(tmp_path, capsys, text, match):
    csv = tmp_path / "bad.csv"
    csv.write_text(text)
    assert main(["verify", "--forecasts", str(csv), "--json"]) == 2
    cap = capsys.readouterr()
    assert cap.out == ""
    err = cap.err.strip()
    assert len(err.splitlines()) == 1 and match in err


def test_cli_omit_nan_and_bad_args(tmp_path, capsys):
    csv = tmp_path / "gap.csv"
    csv.write_text("observed,probability\n0,0.1\n1,\n1,0.9\n0,nan\n")
    assert main(["verify", "--forecasts", str(csv), "--json", "--omit-nan"]) == 0
    cap = capsys.readouterr()
    assert json.loads(cap.out)["tp"] == 1 and "omitted 2" in cap.err
    for args, match in (
        (["--threshold", "1.5"], "--threshold must be a number in [0, 1]"),
        (["--threshold", "x"], "--threshold"),
        (["--base-rate", "-1"], "--base-rate"),
        (["--bins", "0"], "--bins must be a positive integer"),
    ):
        assert main(["verify", "--forecasts", str(csv), *args]) == 2
        assert match in capsys.readouterr().err
    assert main(["verify", "--forecasts", str(tmp_path / "nope.csv")]) == 2
    assert "no such file" in capsys.readouterr().err
