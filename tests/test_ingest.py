"""The ingest pipeline on Ray Data: bad inputs, manifest, interrupt-and-resume, masks and labels,
the CLI. Images are tiny (48 px in, 32 px out)."""

from __future__ import annotations

import json
import os
import shutil
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from ingest_helpers import write_level1

from solarray import cli
from solarray.core.features import MASK_UNKNOWN
from solarray.core.frame import radius_grid
from solarray.data import dataset as D
from solarray.data import grouping, shards, sources
from solarray.data import ingest as ing
from solarray.data import preprocess as pp
from solarray.data.quality import measure_limb
from solarray.data.sources import FileRecord
from solarray.data.truth import Truth

T0 = datetime(2024, 3, 10, 0, 0)
CH = ("aia171", "hmi_m")


def step(k: int, seconds: float = 0) -> datetime:
    return T0 + timedelta(minutes=12 * k, seconds=seconds)


def _cfg(inp, out, **kw) -> ing.IngestConfig:
    kw.setdefault("preprocess", pp.PreprocessConfig(size=32))
    return ing.IngestConfig(input=str(inp), out_dir=str(out), channels=CH, shard_size=2,
                            num_workers=1, **kw)


@pytest.fixture(scope="module")
def bad_inputs(tmp_path_factory):
    """Good files at five time steps, plus one of every kind of bad input. Returns (dir, expected
    reason kind per rejected file name)."""
    from astropy.io import fits

    d = tmp_path_factory.mktemp("bad_inputs")
    for k in range(5):
        write_level1(str(d / f"aia_{k}.fits"), "aia171", step(k, 3), size=48)
        write_level1(str(d / f"hmi_{k}.fits"), "hmi_m", step(k, 40), size=48, crota2=180)
    expected = {}
    # truncated: header intact, data cut short → rejected by the worker
    p = write_level1(str(d / "hmi_trunc.fits"), "hmi_m", step(5, 40), size=48)
    with open(p, "r+b") as f:
        f.truncate(os.path.getsize(p) - 5000)
    expected["hmi_trunc.fits"] = "corrupt file"
    write_level1(str(d / "aia_nan.fits"), "aia171", step(5, 3), size=48, nan_fill=True)
    expected["aia_nan.fits"] = "NaN-filled image"
    (d / "junk.fits").write_bytes(b"SIMPLE = nonsense" * 10)
    expected["junk.fits"] = "corrupt file"
    p = write_level1(str(d / "aia_nowcs.fits"), "aia171", step(6, 3), size=48)
    with fits.open(p, mode="update") as h:
        del h[0].header["CRPIX1"]
    expected["aia_nowcs.fits"] = "missing keyword CRPIX1"
    write_level1(str(d / "aia_q.fits"), "aia171", step(6, 5), size=48, quality=8)
    expected["aia_q.fits"] = "QUALITY != 0"
    write_level1(str(d / "aia_dup.fits"), "aia171", step(1, 50), size=48)  # aia_1 is closer
    expected["aia_dup.fits"] = "duplicate"
    write_level1(str(d / "aia_small.fits"), "aia171", step(7, 3), size=24)
    expected["aia_small.fits"] = "mixed image sizes"
    write_level1(str(d / "aia_old.fits"), "aia171", datetime(2023, 1, 1), size=48)
    expected["aia_old.fits"] = "time outside range"
    import sunpy.data.test as t

    shutil.copy(t.get_test_filepath("EIT/efz20040301.000010_s.fits"), d / "eit.fits")
    expected["eit.fits"] = "unknown channel"
    return d, expected


def test_group_samples_pure():
    rec = lambda p, ch, t, shape=(8, 8): FileRecord(path=p, channel=ch, t_obs=t, shape=shape)  # noqa: E731
    records = [rec("a0", "aia171", step(0, 3)), rec("h0", "hmi_m", step(0, -40)),
               rec("a0b", "aia171", step(0, -1)), rec("a1", "aia171", step(1, 5)),
               rec("a_far", "aia171", step(2, 7 * 60)), rec("a3", "aia171", step(3), (9, 9)),
               rec("x", "aia94", step(1)), FileRecord(path="bad", reason="corrupt file: x")]
    steady = [rec(f"s{k}", "aia171", step(k, k % 2)) for k in range(5)]
    fast = [rec(f"f{k}", "hmi_m", T0 + timedelta(seconds=45 * k)) for k in range(5)]
    assert grouping.estimate_cadence(steady + fast) == pytest.approx(12.0, abs=0.02)  # slowest channel
    assert grouping.estimate_cadence(fast) == pytest.approx(0.75)
    samples, rejects = grouping.group_samples(records, CH, 12.0, tolerance_minutes=2)
    assert [s.sample_id for s in samples] == ["2024-03-10T00:00:00", "2024-03-10T00:12:00"]
    assert samples[0].files == {"aia171": "a0b", "hmi_m": "h0"}
    reasons = {r.path: grouping.reason_kind(r.reason) for r in rejects}
    assert reasons == {"a0": "duplicate", "a_far": "no sample time within ±2 min",
                       "a3": "mixed image sizes", "x": "channel not requested", "bad": "corrupt file"}
    samples, _ = grouping.group_samples(records, CH, 12.0, 6, start=step(1), end=step(2))
    assert [s.sample_id for s in samples] == ["2024-03-10T00:12:00"]


def test_truth_labels(tmp_path):
    pd.DataFrame({"start": [step(2), step(3), T0 + timedelta(hours=30)],
                  "goes_class": ["C3.1", "M2.5", "X1.0"]}).to_parquet(tmp_path / "events.parquet")
    pd.DataFrame({"date": ["2024-03-09", "2024-03-10"], "f107": [150.0, 160.0],
                  "f30": [120.0, 125.0]}).to_parquet(tmp_path / "indices.parquet")
    pd.DataFrame({"time": [T0.isoformat()], "kp": [3]}).to_csv(tmp_path / "user.csv", index=False)
    truth = Truth(str(tmp_path), str(tmp_path / "user.csv"))
    lab = truth.labels_for(T0)  # 10 March 00 UT: the index measured last is 9 March's (20 UT)
    assert lab == {"flare_class_24h": "M2.5", "f107": 150.0, "f30": 120.0, "kp": 3}
    later = truth.labels_for(step(3))  # M2.5 starts at t itself: not "after"; X1.0 is 30 h out
    assert later["flare_class_24h"] == "" and later["kp"] is None
    assert truth.labels_for(datetime(2024, 3, 10, 21))["f107"] == 160.0
    assert np.isnan(truth.labels_for(datetime(2024, 3, 15))["f107"])  # older than 3 days
    assert Truth().labels_for(T0)["flare_class_24h"] is None


def test_bad_inputs_become_manifest_rejects(ray_session, bad_inputs, tmp_path):
    inp, expected = bad_inputs
    out = tmp_path / "out"
    summary = ing.run_ingest(_cfg(inp, out, start="2024-01-01"), log=lambda s: None)
    man = shards.read_manifest(str(out))
    names = man["path"].map(os.path.basename)
    assert sorted(names) == sorted(os.listdir(inp))  # every input file exactly once
    rejected = dict(zip(names[man.status == "rejected"], man.reason[man.status == "rejected"], strict=True))
    assert set(rejected) == set(expected)
    for name, kind in expected.items():
        assert rejected[name].startswith(kind), (name, rejected[name])
    # Samples: steps 0-4 (both channels) and step 5 with nothing usable → empty, not written.
    assert summary.written == 5 and summary.empty == 1 and summary.samples == 8 - 2
    assert summary.rejected_files == len(expected)
    assert summary.reject_reasons["corrupt file"] == 2
    assert len(summary.shards) == 3 and all(os.path.basename(p).startswith("shard_2024") for p in summary.shards)
    used = man[man.status == "used"]
    assert len(used) == 10 and used.groupby("sample_id").size().eq(2).all()

    ds = D.read_shards(str(out))
    rows = sorted(ds.take_all(), key=lambda r: r["sample_id"])
    assert [r["sample_id"] for r in rows] == [step(k).isoformat() for k in range(5)]
    r = rows[0]
    assert r["image"].shape == (2, 32, 32) and r["image"].dtype == np.float32
    assert list(r["channels"]) == list(CH) and list(r["present"]) == [True, True]
    assert np.nanmax(np.abs(r["image"])) <= 1.0
    meta = json.loads(r["meta"])
    assert meta["version"] == pp.PREPROCESS_VERSION
    hdr = meta["channels"]["hmi_m"]["header"]
    assert hdr["CROTA2"] == 180 and "DSUN_OBS" in hdr and meta["channels"]["aia171"]["info"]["exposure"].startswith("divided")
    assert r["t_obs"].isoformat().startswith("2024-03-10T00:00:00")
    assert D.channels_of(str(out)) == list(CH)


class Interrupted(Exception):
    pass


def test_interrupt_and_resume(ray_session, tmp_path):
    inp = tmp_path / "in"
    for k in range(6):
        write_level1(str(inp / f"aia_{k}.fits"), "aia171", step(k, 2), size=48)
        write_level1(str(inp / f"hmi_{k}.fits"), "hmi_m", step(k, 30), size=48, crota2=180)
    out = tmp_path / "out"
    cfg = _cfg(inp, out)

    def die(path):
        raise Interrupted(path)

    with pytest.raises(Interrupted):
        ing.run_ingest(cfg, log=lambda s: None, on_shard=die)
    first = shards.shard_paths(str(out))
    assert len(first) == 1
    # A kill during a write leaves a temp file; it must never be read as a shard.
    (out / ".shard_20240310T002400_20240310T003600.parquet.999.tmp").write_bytes(b"PAR1 partial")
    summary = ing.run_ingest(cfg, log=lambda s: None)
    assert summary.skipped == 2 and summary.written == 4
    assert not [p for p in os.listdir(out) if p.endswith(".tmp")]
    ids = [r["sample_id"] for r in D.read_shards(str(out)).select_columns(["sample_id"]).take_all()]
    assert sorted(ids) == [step(k).isoformat() for k in range(6)]  # none missing, none twice
    man = shards.read_manifest(str(out))
    assert (man.status == "used").sum() == 12 and man.shard.nunique() == 3
    again = ing.run_ingest(cfg, log=lambda s: None)
    assert again.written == 0 and again.skipped == 6 and len(shards.shard_paths(str(out))) == 3
    with pytest.raises(ing.IngestError, match="other settings"):
        ing.run_ingest(_cfg(inp, out, preprocess=pp.PreprocessConfig(size=16)), log=lambda s: None)


def _write_masks(path, t, size=40):
    """A truth-mask file as the synthetic Sun writes it: [3, H, W] uint8, north up, ±1.1 R☉."""
    from astropy.io import fits
    from ingest_helpers import RSUN_OBS

    m = np.zeros((3, size, size), np.uint8)
    m[0, size // 2:, size // 2:] = 1  # AR mask: NW quadrant
    m[1, : size // 4, :] = 1  # CH: southern band
    h = fits.Header()
    h["CTYPE1"], h["CTYPE2"], h["CUNIT1"], h["CUNIT2"] = "HPLN-TAN", "HPLT-TAN", "arcsec", "arcsec"
    h["CDELT1"] = h["CDELT2"] = 2.2 * RSUN_OBS / size
    h["CRPIX1"] = h["CRPIX2"] = (size + 1) / 2
    h["CRVAL1"] = h["CRVAL2"] = 0.0
    h["CROTA2"] = 0.0
    h["DATE-OBS"] = t.isoformat()
    h["RSUN_OBS"] = RSUN_OBS
    h["DSUN_OBS"] = 1.496e11
    h["HGLN_OBS"], h["HGLT_OBS"] = 0.0, 0.0
    h["MASKS"] = "AR,CH,FL"
    fits.PrimaryHDU(m, header=h).writeto(path)


def test_masks_labels_and_cli(ray_session, tmp_path, capsys):
    inp, truth = tmp_path / "in", tmp_path / "truth"
    (truth / "masks").mkdir(parents=True)
    (truth / "tables").mkdir()
    for k in range(3):
        write_level1(str(inp / f"aia_{k}.fits"), "aia171", step(k, 2), size=48)
        write_level1(str(inp / f"hmi_{k}.fits"), "hmi_m", step(k, 30), size=48, crota2=180)
    for k in range(2):  # no mask for step 2 → filled with MASK_UNKNOWN
        _write_masks(str(truth / "masks" / f"masks_{step(k):%Y%m%dT%H%M%S}.fits"), step(k))
    pd.DataFrame({"start": [step(1, 60)], "goes_class": ["M1.0"]}).to_parquet(truth / "tables" / "events.parquet")
    pd.DataFrame({"date": ["2024-03-09", "2024-03-10"], "f107": [90.0, 95.0],
                  "f30": [70.0, 75.0]}).to_parquet(truth / "tables" / "indices.parquet")
    pd.DataFrame({"time": [step(1, 20).isoformat()], "kp": [4.5]}).to_csv(tmp_path / "kp.csv", index=False)
    out = tmp_path / "out"
    rc = cli.main(["ingest", "--input", str(inp), "--out", str(out), "--size", "32", "--channels",
                   "aia171,hmi_m", "--num-cpus", "2", "--masks", str(truth / "masks"),
                   "--tables", str(truth / "tables"), "--off-limb", "nan",
                   "--labels", str(tmp_path / "kp.csv")])
    text = capsys.readouterr().out
    assert rc == 0, text
    assert "written: 3" in text and "samples/s" in text

    ds = D.read_shards(str(out))
    rows = sorted(ds.take_all(), key=lambda r: r["sample_id"])
    assert [r["flare_class_24h"] for r in rows] == ["M1.0", "M1.0", ""]
    assert rows[0]["f107"] == 90.0  # before 20 UT: the previous day's value
    assert np.isnan(rows[0]["kp"]) and rows[1]["kp"] == 4.5  # user labels: nearest within ±6 min
    m0 = rows[0]["masks"]
    assert m0.shape == (3, 32, 32) and m0.dtype == np.uint8
    assert m0[0, 20:, 20:].all() and not m0[0, :12, :].any() and m0[1, :6, :].all()
    assert (rows[2]["masks"] == MASK_UNKNOWN).all()
    assert np.isnan(rows[0]["image"][:, radius_grid(32) > 1.0]).all()

    batches = list(D.to_training(ds).iter_torch_batches(batch_size=3))
    b = batches[0]
    assert tuple(b["image"].shape) == (3, 2, 32, 32) and not b["image"].isnan().any()
    assert tuple(b["masks"].shape) == (3, 3, 32, 32) and tuple(b["present"].shape) == (3, 2)
    assert sorted(b["flare_m24"].tolist()) == [0, 1, 1]

    # Empty input: a clear error and a non-zero exit code.
    (tmp_path / "empty").mkdir()
    rc = cli.main(["ingest", "--input", str(tmp_path / "empty"), "--out", str(tmp_path / "o2")])
    err = capsys.readouterr().err
    assert rc != 0 and "no FITS files found" in err
    with pytest.raises(ing.IngestError, match="no FITS files"):
        ing.run_ingest(_cfg(tmp_path / "empty", tmp_path / "o3"), log=lambda s: None)
    assert cli.main(["ingest", "--input", str(inp), "--out", str(out), "--size", "-3"]) == 2
    assert "--size" in capsys.readouterr().err
    assert cli.main(["ingest", "--input", str(inp), "--out", str(out), "--channels", "aia999"]) == 2


@pytest.mark.slow
@pytest.mark.timeout(900)  # generous: CI machines shared with other jobs
def test_synthetic_sun_to_torch_batches(ray_session, tmp_path, capsys):
    """synth → ingest (CLI, synth layout auto-detected) → shards → torch batches with masks and
    labels; off-pointed frames are QUALITY rejects; the HMI roll is removed (fields sit on the
    AR masks)."""
    from solarray.core import channels as chans
    from solarray.data.synthetic import SynthConfig, generate

    syn = tmp_path / "syn"
    res = generate(SynthConfig(start="2024-01-01T00:00", hours=1.6, cadence_minutes=12, size=64,
                               seed=1, channels=("aia171", "aia193", "hmi_m"), bad_frame_rate=0.2,
                               compress=True, preview=False), str(syn))
    n = 48
    out = tmp_path / "ml"
    rc = cli.main(["ingest", "--input", str(syn), "--out", str(out), "--size", str(n),
                   "--channels", "aia171,aia193,hmi_m", "--num-cpus", "2", "--shard-size", "4"])
    text = capsys.readouterr().out
    assert rc == 0, text
    man = shards.read_manifest(str(out))
    assert len(man) == res.n_files
    offpointed = sum(b["kind"] == "off-pointed" for b in res.bad_frames)
    assert offpointed > 0 and man.reason.str.startswith("QUALITY != 0").sum() == offpointed
    assert (man.status == "used").sum() == res.n_files - offpointed

    ds = D.read_shards(str(out))
    rows = sorted(ds.take_all(), key=lambda r: r["sample_id"])
    assert len(rows) == len(res.times)
    events = pd.read_parquet(syn / "tables" / "events.parquet")
    assert any(r["flare_class_24h"] for r in rows) == (len(events) > 0)
    assert all(np.isfinite(r["f107"]) and r["masks"].shape == (3, n, n) for r in rows)
    ratios = []
    for r in rows:
        img, present = r["image"], list(r["present"])
        if present[0]:
            assert 0.98 <= measure_limb(chans.get("aia171").unscale(img[0])) <= 1.08
        ar = r["masks"][0] == 1
        if present[2] and ar.sum() >= 3:
            b = np.abs(chans.get("hmi_m").unscale(img[2]))
            ratios.append(np.nanmean(b[ar]) / np.nanmean(b[~ar & (radius_grid(n) < 0.95)]))
    assert ratios and np.median(ratios) > 5, ratios  # a 180°-rolled magnetogram would miss the ARs

    splits = D.split_by_time(ds, val_months=(2,), test_months=(3,), gap_hours=1)
    assert splits["train"].count() == len(rows) and splits["val"].count() == 0
    b = next(iter(D.to_training(ds).iter_torch_batches(batch_size=4)))
    assert tuple(b["image"].shape) == (4, 3, n, n) and tuple(b["masks"].shape) == (4, 3, n, n)
    assert set(b["flare_m24"].tolist()) <= {0, 1} and b["f30"].isfinite().all()


def test_distributed_header_scan_matches_local(ray_session, bad_inputs):
    inp, _ = bad_inputs
    paths = sources.list_fits(str(inp))
    local = grouping.scan_inputs(paths, CH, use_ray=False)
    remote = grouping.scan_inputs(paths, CH, use_ray=True)
    assert [r.to_dict() for r in remote] == [r.to_dict() for r in local]
    assert sum(r.reason is None for r in local) >= 10


KILL_SCRIPT = """
import sys, time, warnings
warnings.simplefilter("ignore")
import ray
ray.init(address=sys.argv[1], log_to_driver=False)
from solarray.data import ingest as ing, preprocess as pp
cfg = ing.IngestConfig(input=sys.argv[2], out_dir=sys.argv[3], channels=("aia171", "hmi_m"),
                       preprocess=pp.PreprocessConfig(size=32), shard_size=1, num_workers=1)
ing.run_ingest(cfg, log=lambda s: None, on_shard=lambda p: time.sleep(3))  # slow storage
"""


@pytest.mark.slow
@pytest.mark.timeout(900)  # generous: CI machines shared with other jobs
def test_sigkill_midway_then_rerun(ray_session, tmp_path):
    """A driver killed with SIGKILL after its first shard: the rerun completes the set with no
    duplicate, no missing sample and no unreadable shard."""
    import signal
    import subprocess
    import sys
    import time

    import pyarrow.parquet as pq

    inp, out = tmp_path / "in", tmp_path / "out"
    for k in range(5):
        write_level1(str(inp / f"aia_{k}.fits"), "aia171", step(k, 2), size=48)
        write_level1(str(inp / f"hmi_{k}.fits"), "hmi_m", step(k, 30), size=48, crota2=180)
    address = ray_session.get_runtime_context().gcs_address
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    proc = subprocess.Popen([sys.executable, "-c", KILL_SCRIPT, address, str(inp), str(out)],
                            cwd=root, env={**os.environ, "PYTHONPATH": root},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 120
        while not shards.shard_paths(str(out)) and time.time() < deadline and proc.poll() is None:
            time.sleep(0.05)
        assert shards.shard_paths(str(out)), "the subprocess wrote no shard"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert len(shards.shard_paths(str(out))) < 5  # killed midway
    summary = ing.run_ingest(_cfg(inp, out), log=lambda s: None)
    assert summary.skipped >= 1 and summary.skipped + summary.written == 5
    ids = []
    for p in shards.shard_paths(str(out)):
        ids += pq.read_table(p, columns=["sample_id"])["sample_id"].to_pylist()
    assert sorted(ids) == [step(k).isoformat() for k in range(5)]
    assert not [p for p in os.listdir(out) if p.endswith(".tmp")]
