"""The forecaster service: inputs, model loading, the cycle as a library, and the Serve app over
real HTTP on 127.0.0.1 (bad inputs, a bounded burst, size limit, timeout, failed model load)."""

from __future__ import annotations

import concurrent.futures as cf
import gzip
import io
import json
import pickle
import socket
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
import torch
from astropy.io import fits

from solarray.benchmarks.reliability import request as http_request
from solarray.core.multipart import encode_multipart
from solarray.pipeline.inputs import InputConfig, InputError, sample_from_dataset, sample_from_fits
from solarray.serve.errors import RequestError, error_body, http_status
from solarray.serve.http import read_form

CHANNELS = ("aia193", "aia304", "hmi_m")
SIZE = 96


@pytest.fixture(scope="module")
def synth(tmp_path_factory):
    """One time step of the synthetic Sun (3 channels, 128²) with its tables."""
    from solarray.data.synthetic import SynthConfig, generate

    out = tmp_path_factory.mktemp("synth")
    generate(SynthConfig(start="2024-01-01T00:00", hours=0, size=128, seed=3, channels=CHANNELS,
                         preview=False), out)
    files = {ch: sorted((out / "fits" / ch).glob("*.fits"))[0] for ch in CHANNELS}
    return out, files


def _uploads(files, channels=CHANNELS):
    return [(files[c].name, files[c].read_bytes()) for c in channels]


def _icfg(**kw):
    return InputConfig(**{"size": SIZE, "accepted": CHANNELS, **kw})


def _edit_fits(path: Path, data=None, **header) -> bytes:
    with fits.open(path) as hdul:
        hdu = hdul[0] if hdul[0].data is not None else hdul[1]
        d = hdu.data if data is None else data
        h = hdu.header.copy()
    for k, v in header.items():
        h[k.replace("_", "-") if k == "DATE_OBS" else k] = v
    buf = io.BytesIO()
    fits.PrimaryHDU(d, h).writeto(buf)
    return buf.getvalue()


# ---------------------------------------------------------------------------------------------
# Multipart parsing and uploads (no Ray)
# ---------------------------------------------------------------------------------------------


def _request(body: bytes, ctype: str, chunk: int = 4096, declare_length: bool = True):
    """A Starlette request streaming ``body`` in chunks, as the Serve proxy delivers it."""
    from starlette.requests import Request

    pieces = [body[i:i + chunk] for i in range(0, len(body), chunk)] or [b""]
    messages = [{"type": "http.request", "body": c, "more_body": i < len(pieces) - 1}
                for i, c in enumerate(pieces)]

    async def receive():
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    headers = [(b"content-type", ctype.encode())]
    if declare_length:
        headers.append((b"content-length", str(len(body)).encode()))
    return Request({"type": "http", "method": "POST", "headers": headers}, receive)


def test_upload_form_keeps_binary_exact_and_enforces_limits():
    """Uploads go through FastAPI's parser (python-multipart) fed by a counting stream: bytes
    arrive exactly, and the body, part-count and per-file limits give 413; a truncated or
    boundary-less body gives 400."""
    import asyncio

    rng = np.random.default_rng(0)
    blobs = [rng.bytes(50_000) + b"\r\n--not-the-boundary\r\n\r\n" + rng.bytes(100), b"", b"\r\n"]
    body, ctype = encode_multipart([("files", f"f{i}.fits", b) for i, b in enumerate(blobs)])

    def form(*args, **kw):
        return asyncio.run(read_form(*args, **kw))

    parts = form(_request(body, ctype, chunk=777), 2**20)
    assert [p.data for p in parts] == blobs
    assert [p.filename for p in parts] == ["f0.fits", "f1.fits", "f2.fits"]
    for request, kw, status, words in [
        (_request(body[:-30], ctype), {}, 400, "missing closing boundary"),
        (_request(body, "multipart/form-data"), {}, 400, "without a boundary"),
        (_request(body, ctype), {"limit": 1000}, 413, "exceeds the limit"),
        (_request(body, ctype, declare_length=False), {"limit": 1000}, 413, "exceeds the limit"),
        (_request(body, ctype), {"max_parts": 2}, 413, "more than 2 parts"),
        (_request(body, ctype), {"max_file_bytes": 10_000}, 413, "more than 10000 bytes"),
    ]:
        with pytest.raises(RequestError) as err:
            form(request, **{"limit": 2**20, **kw})
        assert err.value.status == status and words in str(err.value), (kw, err.value)


def test_upload_becomes_a_centred_sample(synth):
    _, files = synth
    s = sample_from_fits(_uploads(files), _icfg())
    assert s.channels == CHANNELS and s.image.shape == (3, SIZE, SIZE)
    from solarray.core.frame import disk_mask

    disk = disk_mask(SIZE, 1.1 / 0.97)  # a little inside the limb
    assert s.present.all() and np.isfinite(s.image[:, disk]).all()  # HMI is NaN off-disk
    assert abs(s.t_obs - datetime(2024, 1, 1)).total_seconds() < 120
    # Physical magnetogram kept unclipped; disk centred (magnetogram finite on disk, NaN-free).
    assert s.b_los is not None and np.nanmax(np.abs(s.b_los)) > 100
    assert s.header["CRPIX1"] == pytest.approx((SIZE + 1) / 2)
    # gzip-compressed uploads are accepted too
    gz = [(n + ".gz", gzip.compress(b)) for n, b in _uploads(files)]
    s2 = sample_from_fits(gz, _icfg())
    np.testing.assert_allclose(s2.image, s.image)


@pytest.mark.parametrize("case, status, words", [
    ("not_fits", 415, "not a FITS file"),
    ("missing_required_hmi", 422, "wrong channel set"),
    ("duplicate", 422, "one file per channel"),
    ("tiny_image", 422, "unsupported image size"),
    ("not_cotemporal", 422, "not co-temporal"),
    ("no_date", 422, "DATE-OBS"),
    ("unknown_instrument", 422, "unknown channel"),
    ("empty", 422, "no files"),
])
def test_upload_validation_errors(synth, case, status, words):
    _, files = synth
    ups = _uploads(files)
    cfg = _icfg()
    if case == "not_fits":
        ups[0] = ("notes.txt", b"hello, I am not an image")
    elif case == "missing_required_hmi":  # refused only when the operator requires HMI
        ups, cfg = ups[:2], _icfg(required=("hmi_m",))
    elif case == "duplicate":
        ups.append(("copy.fits", ups[0][1]))
    elif case == "tiny_image":
        ups[0] = ("small.fits", _edit_fits(files["aia193"], data=np.ones((32, 32), np.float32)))
    elif case == "not_cotemporal":
        ups[0] = ("late.fits", _edit_fits(files["aia193"], DATE_OBS="2024-01-01T03:00:00"))
    elif case == "no_date":
        raw = _edit_fits(files["aia193"])
        with fits.open(io.BytesIO(raw)) as h:
            hdr = h[0].header.copy()
            d = h[0].data
        for k in ("DATE-OBS", "T_OBS", "DATE_OBS"):
            hdr.remove(k, ignore_missing=True)
        buf = io.BytesIO()
        fits.PrimaryHDU(d, hdr).writeto(buf)
        ups[0] = ("nodate.fits", buf.getvalue())
    elif case == "unknown_instrument":
        ups[0] = ("other.fits", _edit_fits(files["aia193"], INSTRUME="XYZ", TELESCOP="ELSEWHERE"))
    elif case == "empty":
        ups = []
    with pytest.raises(InputError) as err:
        sample_from_fits(ups, cfg)
    assert http_status(err.value) == status
    assert words in str(err.value)
    json.dumps(error_body(err.value))


def test_missing_channel_is_an_absent_plane_not_an_error(synth):
    """Without HMI (nothing required by default) the upload is a sample whose hmi_m plane is
    NaN and flagged absent: the cycle forecasts it degraded instead of refusing it."""
    _, files = synth
    s = sample_from_fits(_uploads(files, ("aia193", "aia304")), _icfg())
    assert s.channels == CHANNELS and s.present.tolist() == [True, True, False]
    assert s.present_channels == ("aia193", "aia304")
    assert np.isnan(s.image[2]).all() and s.magnetogram() is None and s.b_los is None


def test_unused_channels_are_ignored_with_a_warning(synth):
    """A full time step (here + a real AIA 171 file the forecaster does not read) is accepted:
    the unused channels are left out and named in a warning, not refused."""
    from sunpy.data.test import get_test_filepath

    _, files = synth
    aia171 = Path(get_test_filepath("aia_171_level1.fits"))
    s = sample_from_fits(_uploads(files) + [(aia171.name, aia171.read_bytes())],
                         _icfg(accepted=("aia304", "hmi_m")))
    assert s.channels == ("aia304", "hmi_m")
    (warning,) = s.source["warnings"]
    assert "aia171" in warning and "aia193" in warning and "does not use" in warning
    with pytest.raises(InputError, match="no uploaded file is a channel this forecaster uses"):
        sample_from_fits([(aia171.name, aia171.read_bytes())], _icfg(accepted=("aia304", "hmi_m")))


def test_dataset_request_reads_a_shard_and_guards_paths(synth, tmp_path):
    from solarray.data.shards import write_shard

    _, files = synth
    s = sample_from_fits(_uploads(files), _icfg())
    meta = json.dumps({"preprocess": {"frame": 1.1}, "channels": {
        ch: {"header": v["header"]} for ch, v in s.source["files"].items()}})
    shards = tmp_path / "shards"
    shards.mkdir()
    write_shard([{"t_obs": s.t_obs, "sample_id": "S1", "image": s.image, "present": s.present,
                  "meta": meta, "labels": {}}], str(shards), CHANNELS)
    cfg = _icfg(dataset_roots=(str(tmp_path),))
    got = sample_from_dataset(str(shards), "S1", cfg)
    np.testing.assert_allclose(got.image, s.image)
    assert got.t_obs == s.t_obs and got.channels == CHANNELS
    for args, status in (((str(shards), "nope"), 404), (("/etc", "S1"), 403),
                         ((str(tmp_path / "missing"), "S1"), 404)):
        with pytest.raises(InputError) as err:
            sample_from_dataset(*args, cfg)
        assert http_status(err.value) == status
    with pytest.raises(InputError) as err:
        sample_from_dataset(str(shards), "S1", _icfg())  # no roots configured
    assert http_status(err.value) == 403


# ---------------------------------------------------------------------------------------------
# Model loading
# ---------------------------------------------------------------------------------------------


class _Evil:
    def __reduce__(self):
        return (print, ("pickle code ran",))


def test_model_loading_order_and_unsafe_checkpoints(tmp_path):
    from solarray.core.checkpoints import ROLE_FILES
    from solarray.models import build, save_model
    from solarray.pipeline.model_set import load_role

    empty = tmp_path / "empty"
    empty.mkdir()
    lm = load_role("fpnet_ar", checkpoint_dir=empty)
    assert lm.ok and "untrained" in lm.version and not lm.trained
    assert str(empty) in lm.fallback and "UNTRAINED" in lm.fallback

    demo = tmp_path / "demo"
    torch.manual_seed(1)
    save_model(build("fpnet", preset="tiny", channels=CHANNELS, mode="ar"),
               demo / ROLE_FILES["fpnet_ar"])
    lm = load_role("fpnet_ar", checkpoint_dir=demo)
    assert lm.ok and lm.trained and lm.version.startswith("fpnet@")
    assert lm.source.endswith("fpnet_ar.pt") and lm.fallback is None

    # An unreadable demo checkpoint falls back, and the model set says so (degraded) unless
    # the operator allowed untrained models.
    from solarray.pipeline.model_set import load_models

    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / ROLE_FILES["fpnet_ar"]).write_bytes(b"truncated")
    ms = load_models(roles=("fpnet_ar",), checkpoint_dir=broken)
    assert ms.get("fpnet_ar") is not None and "unreadable" in ms.degraded()["fpnet_ar"]
    assert str(broken / ROLE_FILES["fpnet_ar"]) in ms.degraded()["fpnet_ar"]
    assert load_models(roles=("fpnet_ar",), checkpoint_dir=broken,
                       allow_untrained=True).degraded() == {}
    assert load_models(roles=("fpnet_ar",), checkpoint_dir=demo).degraded() == {}

    # A configured checkpoint of the wrong mode / corrupt / pickled code is an error, never a
    # silent substitute.
    wrong = load_role("fpnet_full_disk", str(demo / ROLE_FILES["fpnet_ar"]),
                      checkpoint_dir=empty)
    assert not wrong.ok and "mode" in wrong.error
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"\x00garbage")
    assert not load_role("spnet", str(bad)).ok
    evil = tmp_path / "evil.pt"
    with open(evil, "wb") as f:
        pickle.dump({"format": "solarray.model/1", "model": "spnet", "x": _Evil()}, f)
    lm = load_role("spnet", str(evil))
    assert not lm.ok and "weights-only" in lm.error
    assert not load_role("hale", str(tmp_path / "missing.pt")).ok


# ---------------------------------------------------------------------------------------------
# The cycle as a library
# ---------------------------------------------------------------------------------------------


def test_run_cycle_library(synth, tmp_path):
    from solarray.pipeline.cycle import run_cycle
    from solarray.pipeline.flare_history import FlareHistory
    from solarray.pipeline.model_set import load_models
    from solarray.serve.page import render_index_html
    from solarray.viz.forecast_map import map_png

    out, files = synth
    s = sample_from_fits(_uploads(files), _icfg())
    models = load_models(checkpoint_dir=tmp_path)
    history = FlareHistory.load(xrs=str(out))
    r = run_cycle(s, models, history=history)
    body = r.to_json()
    json.dumps(body, allow_nan=False)
    assert set(r.timings) >= {"perception", "analysis", "forecast", "total"}
    assert body["untrained"] and all("untrained" in v for v in body["model_versions"].values())
    assert body["warnings"][0].startswith("UNTRAINED")
    assert r.perception.masks.shape == (3, SIZE, SIZE)
    disk = body["full_disk"]
    assert 0.0 <= disk["p_m24"] <= 1.0 and disk["f107"] > 0
    # The disk flare index is the library's over the same 24 h.
    from solarray.analysis.flares import flare_index

    expect, _ = flare_index(history.events, np.datetime64(s.t_obs, "s"), by=None)
    assert disk["flare_index"] == pytest.approx(expect["fi"])
    for row in body["regions"]:
        assert {"number", "hgs_lon", "hgs_lat", "carr_lon", "area_msh", "hale", "mcintosh", "r",
                "flare_index", "p_m24"} <= set(row)
        assert 0.0 <= row["p_m24"] <= 1.0 and -90 <= row["hgs_lat"] <= 90
    png = map_png(r.map_inputs())
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert r.id in render_index_html(body)


def test_region_flare_index_follows_rotation():
    import pandas as pd

    from solarray.core.geometry import synodic_rate
    from solarray.pipeline.flare_history import FlareHistory

    t_obs = pd.Timestamp("2024-01-02T00:00")
    # An M2 flare 12 h earlier at (lon −10°, lat 15°) has rotated to ≈ −10 + 6.6° by t_obs.
    ev = pd.DataFrame({"peak": [t_obs - pd.Timedelta(hours=12), t_obs - pd.Timedelta(hours=30)],
                       "goes_class": ["M2.0", "X1.0"], "hgs_lon": [-10.0, -10.0],
                       "hgs_lat": [15.0, 15.0]})
    h = FlareHistory(ev, source="test")
    lon_now = -10 + synodic_rate(15.0) * 0.5
    regions = pd.DataFrame({"number": [1, 2], "hgs_lon": [lon_now, -40.0],
                            "hgs_lat": [15.0, 15.0], "area_msh": [100.0, 100.0]})
    per = h.region_index(t_obs, regions, assign_deg=2.0)
    assert per.set_index("number").loc[1, "fi"] == 10  # one M flare; the X1 is > 24 h old
    assert per.set_index("number").loc[2, "fi"] == 0  # located history, no flare: known 0
    assert h.disk_index(t_obs)["fi"] == 10
    mag = h.region_index(t_obs, regions, assign_deg=2.0, weighting="magnitude")
    assert mag.set_index("number").loc[1, "fi"] == pytest.approx(20.0)
    assert h.disk_index(t_obs, window_hours=48)["fi"] == 110
    assert h.disk_index(t_obs, min_class="M5.0")["fi"] == 0


def test_region_flare_index_without_locations_is_unknown():
    from types import SimpleNamespace

    import pandas as pd

    from solarray.pipeline.analysis_stage import _flare_history
    from solarray.pipeline.config import CycleConfig
    from solarray.pipeline.flare_history import FlareHistory

    t_obs = datetime(2024, 1, 2)
    ev = pd.DataFrame({"peak": [pd.Timestamp(t_obs) - pd.Timedelta(hours=h) for h in (2, 3, 5)],
                       "goes_class": ["M2.0", "C6.0", "C2.0"], "hgs_lon": [-10.0, np.nan, 30.0],
                       "hgs_lat": [15.0, np.nan, -5.0]})
    regions = pd.DataFrame({"number": [1, 2], "hgs_lon": [-10.0, 60.0], "hgs_lat": [15.0, 0.0],
                            "area_msh": [100.0, 100.0]})
    sample = SimpleNamespace(t_obs=t_obs)

    def run(history, config=None):
        rows, notes = [{"number": 1}, {"number": 2}], []
        disk = _flare_history(rows, regions, sample, history, config or CycleConfig(), notes)
        return rows, disk, notes

    # XRS alone (no positions): regions unknown (None / NaN), the disk known (M2 + C6 ≥ C5).
    xrs_only = FlareHistory(ev.assign(hgs_lon=np.nan, hgs_lat=np.nan), source="xrs:test")
    assert not xrs_only.located
    assert xrs_only.region_index(t_obs, regions)[["fi", "n"]].isna().all().all()
    rows, disk, notes = run(xrs_only)
    assert [r["flare_index"] for r in rows] == [None, None] and disk["flare_index"] == 11
    assert "flare history has no locations: per-region flare index unknown" in notes
    no_columns = FlareHistory(ev[["peak", "goes_class"]], source="events:test")
    assert not no_columns.located and run(no_columns)[0][0]["flare_index"] is None
    # Located flares: region 1 has the M2 (the C6 is unlocated, the C2 below C5), region 2 none.
    rows, disk, notes = run(FlareHistory(ev, source="events:test"))
    assert [r["flare_index"] for r in rows] == [10.0, 0.0] and [r["n_m"] for r in rows] == [1, 0]
    assert disk["flare_index"] == 11 and not any("no locations" in n for n in notes)
    rows, disk, _ = run(FlareHistory(ev, source="events:test"),
                        CycleConfig(fi_weighting="magnitude", fi_min_class="C1.0"))
    assert rows[0]["flare_index"] == pytest.approx(20.0) and disk["flare_index"] == 28
    # Nothing configured: everything unknown.
    rows, disk, notes = run(None)
    assert disk["flare_index"] is None and rows[0]["flare_index"] is None
    with pytest.raises(ValueError, match="fi_weighting"):
        CycleConfig(fi_weighting="sum")
    with pytest.raises(ValueError, match="fi_min_class"):
        CycleConfig(fi_min_class="Z1")


# ---------------------------------------------------------------------------------------------
# Config files and the CLI
# ---------------------------------------------------------------------------------------------


def test_serve_config_matches_code_and_cluster_checks():
    import yaml

    from solarray.ops.placement import JOB_REQUESTS
    from solarray.ops.serve_config import validate_serve_config
    from solarray.serve.app import DEPLOYMENTS, build_app, options_from_config

    text = Path("serve/config.yaml").read_text()
    cfg = yaml.safe_load(text)
    assert cfg["http_options"]["host"] == "127.0.0.1"
    assert cfg["applications"][0]["import_path"] == "solarray.serve.entrypoint:app"
    problems, requests = validate_serve_config(text, "serve/config.yaml", "2.60.0")
    assert problems == []
    opts = options_from_config(cfg)
    assert set(opts) == set(DEPLOYMENTS)
    assert opts["SPNet"]["ray_actor_options"]["num_gpus"] == 0.5
    build_app(opts)  # every option is a valid deployment option
    # Every model role names the checkpoint the user must provide (a placeholder, not null), a
    # failed load stops the deployment, and untrained stand-ins are not allowed silently.
    from solarray.core.checkpoints import ROLE_FILES
    from solarray.serve.deployments import FPNetDeployment, IAToolsDeployment, SPNetDeployment

    for cls in (SPNetDeployment, IAToolsDeployment, FPNetDeployment):
        uc = opts[cls.name]["user_config"]
        for role in cls.func_or_class.roles:
            assert str(uc["checkpoints"][role]).endswith(ROLE_FILES[role]), (cls.name, role)
        assert uc["allow_untrained"] is False and uc["fail_replica_on_load_error"] is True
    # The cluster sizing in solarray.ops.placement knows the same deployments and sizes.
    roles = {r.role.split(" ")[0]: r for r in JOB_REQUESTS["serve"]}
    for req in requests:
        name = req.role.split("/")[1].split(" ")[0]
        key = "Ingress" if name == "Forecaster" else name
        assert dict(roles[key].bundle) == dict(req.bundle) and roles[key].count == req.count


def test_fit_to_resources_and_cli_errors(capsys):
    from solarray.cli import main
    from solarray.serve.resources import fit_to_resources

    opts = {"A": {"ray_actor_options": {"num_cpus": 1, "num_gpus": 0.5},
                  "autoscaling_config": {"min_replicas": 1, "max_replicas": 3}},
            "B": {"ray_actor_options": {"num_cpus": 2}}}
    out, notes = fit_to_resources(opts, cpus=2, gpus=0)
    assert "num_gpus" not in out["A"]["ray_actor_options"]
    total = sum(o["ray_actor_options"]["num_cpus"] for o in out.values())
    assert total <= 1.75 and out["A"]["autoscaling_config"]["max_replicas"] == 1
    assert opts["A"]["ray_actor_options"]["num_gpus"] == 0.5  # input untouched
    assert main(["serve", "--port", "0"]) == 2
    assert main(["serve", "--goes", "/no/such/file"]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["serve", "--placement-timeout", "0"]) == 2
    # The shipped config's placeholder checkpoints stop the command before Ray starts, naming
    # the path and the ways out.
    assert main(["serve", "--config", "serve/config.yaml"]) == 2
    err = capsys.readouterr().err
    assert "/path/to/checkpoints/spnet.pt does not exist" in err and "--checkpoint-dir" in err
    # Built-in options (no config file) carry the code's resource requests and are fitted too.
    from solarray.serve.app import DEPLOYMENTS
    from solarray.serve.resources import with_defaults

    builtin = with_defaults({})
    assert set(builtin) == set(DEPLOYMENTS)
    fitted, notes = fit_to_resources(builtin, cpus=2, gpus=0)
    assert notes and sum(o["ray_actor_options"]["num_cpus"] for o in fitted.values()) <= 1.75


# ---------------------------------------------------------------------------------------------
# The Serve app over HTTP
# ---------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _http(base, path, data=None, ctype=None, timeout=120):
    return http_request(base, path, data, ctype, timeout)


def _options(tmp, synth_dir, **ingress):
    from solarray.serve.app import FPNET, IATOOLS, INGRESS, SPNET

    common = {"ray_actor_options": {"num_cpus": 0.5}, "graceful_shutdown_wait_loop_s": 0.1,
              "graceful_shutdown_timeout_s": 1}
    empty = str(tmp / "no-checkpoints")
    return {
        SPNET: {**common, "user_config": {"checkpoint_dir": empty, "max_batch_size": 4}},
        IATOOLS: {**common, "user_config": {"checkpoint_dir": empty,
                                            "goes": {"xrs": str(synth_dir)}}},
        FPNET: {**common, "user_config": {"checkpoint_dir": empty}},
        INGRESS: {**common, "user_config": {"size": SIZE, "max_request_mb": 3,
                                            "dataset_roots": [str(tmp)], **ingress}},
    }


@pytest.fixture(scope="module")
def service(ray_session, synth, tmp_path_factory):
    from ray import serve

    from solarray.serve.app import build_app

    tmp = tmp_path_factory.mktemp("serve")
    (tmp / "no-checkpoints").mkdir()
    port = _free_port()
    serve.start(http_options={"host": "127.0.0.1", "port": port, "request_timeout_s": 120})
    serve.run(build_app(_options(tmp, synth[0])), name="forecaster", route_prefix="/")
    yield f"http://127.0.0.1:{port}", tmp
    serve.shutdown()


@pytest.mark.slow
def test_service_end_to_end(service, synth):
    base, tmp = service
    _, files = synth
    # No checkpoints and no allow_untrained: the service works but says it is degraded, and why.
    st, _, body = _http(base, "/v1/health")
    health = json.loads(body)
    assert st == 503 and health["status"] == "degraded" and len(health["untrained"]) == 5
    assert len(health["degraded"]) == 5 and health["problems"] == []
    assert all("no-checkpoints" in d and "UNTRAINED" in d for d in health["degraded"])

    st, _, body = _http(base, "/v1/models")
    models = json.loads(body)
    assert st == 200 and models["SPNet"]["spnet"]["source"] == "untrained"
    assert models["IATools"]["goes"]["n_flares"] > 0

    payload, ctype = encode_multipart([("files", n, b) for n, b in _uploads(files)])
    st, ct, body = _http(base, "/v1/forecast", payload, ctype)
    assert st == 200, body[:500]
    fc = json.loads(body)
    assert fc["observation_time"].startswith("2024-01-01T00:0")
    assert all("untrained" in v for v in fc["model_versions"].values())
    assert sum(w.startswith("DEGRADED: ") for w in fc["warnings"]) == 5
    assert fc["degraded"] is False and fc["missing"] == []  # every input present
    assert {"perception", "analysis", "forecast", "total"} <= set(fc["timings_s"])
    assert fc["full_disk"]["p_m24"] is not None and fc["full_disk"]["flare_index"] is not None
    assert isinstance(fc["coronal_holes"], list) and isinstance(fc["filaments"], list)
    for row in fc["regions"]:
        assert row["p_m24"] is not None and row["carr_lon"] is not None

    st, ct, png = _http(base, fc["map_url"])
    assert st == 200 and ct == "image/png" and png[:4] == b"\x89PNG"
    st, _, page = _http(base, "/")
    assert st == 200 and fc["id"].encode() in page and b"UNTRAINED" in page
    st, _, spec = _http(base, "/openapi.json")
    assert st == 200 and "/v1/forecast" in json.loads(spec)["paths"]
    assert _http(base, "/v1/forecast/unknown/map.png")[0] == 404


@pytest.mark.slow
def test_service_rejects_bad_inputs_and_keeps_serving(service, synth):
    base, tmp = service
    _, files = synth
    good = _uploads(files)
    cases = [
        (encode_multipart([("files", "a.txt", b"plain text")]), 415, "not a FITS"),
        (encode_multipart([("files", n, b) for n, b in good] + [("files", "big.fits",
                          b"SIMPLE  =" + bytes(4 * 2**20))]), 413, "exceeds the limit"),
        (encode_multipart([("other", n, b) for n, b in good]), 422, "no 'files' field"),
        ((b"--x\r\nbroken", "multipart/form-data; boundary=x"), 400, "malformed"),
        ((b"hello", "text/plain"), 415, "unsupported content type"),
        ((b'{"dataset": "/etc", "sample_id": "x"}', "application/json"), 403, "outside"),
        ((b'{"nonsense": 1}', "application/json"), 422, "invalid JSON request"),
    ]
    for (payload, ctype), status, words in cases:
        st, ct, body = _http(base, "/v1/forecast", payload, ctype)
        assert st == status, (words, body[:300])
        assert ct.startswith("application/json") and words in json.loads(body)["error"]
    # A full time step with a channel the forecaster does not read: answered, with a warning.
    from sunpy.data.test import get_test_filepath

    aia171 = Path(get_test_filepath("aia_171_level1.fits"))
    payload, ctype = encode_multipart([("files", n, b) for n, b in good]
                                      + [("files", aia171.name, aia171.read_bytes())])
    st, _, body = _http(base, "/v1/forecast", payload, ctype)
    assert st == 200, body[:300]
    assert any("aia171" in w and "does not use" in w for w in json.loads(body)["warnings"])
    health = json.loads(_http(base, "/v1/health")[2])
    assert health["status"] == "degraded" and not health["problems"]


@pytest.mark.slow
def test_service_degrades_instead_of_refusing(service, synth):
    """A time step missing a channel is answered 200, not 422: ``degraded``, the channel named in
    ``missing``, a warning and the page. Without 304 Å FPNet forecasts from the channels
    present; without the magnetogram no region gets a probability and the full disk comes from
    the flare history."""
    base, _ = service
    _, files = synth
    for absent in ("aia304", "hmi_m"):
        present = [c for c in CHANNELS if c != absent]
        payload, ctype = encode_multipart([("files", n, b) for n, b in _uploads(files, present)])
        st, _, body = _http(base, "/v1/forecast", payload, ctype)
        assert st == 200, body[:300]
        fc = json.loads(body)
        assert fc["degraded"] is True and fc["missing"] == [absent]
        assert sorted(fc["channels_present"]) == sorted(present)
        assert any(w.startswith(f"DEGRADED: missing input(s) {absent}") for w in fc["warnings"])
        p = fc["full_disk"]["p_m24"]
        assert p is not None and 0.0 < p < 1.0
        if absent == "hmi_m":
            assert fc["fallback"] == "flare history" and fc["fallback_detail"]["hours"] >= 24
            assert all(r["p_m24"] is None for r in fc["regions"])
            assert fc["full_disk"]["p_m24_from_regions"] is None
        else:
            assert fc["fallback"] is None and fc["fallback_detail"] is None
            assert all(r["p_m24"] is not None for r in fc["regions"])
        st, _, page = _http(base, "/")
        assert st == 200 and f"data-missing='{absent}'".encode() in page
        assert _http(base, fc["map_url"])[0] == 200
    payload, ctype = encode_multipart([("files", n, b) for n, b in _uploads(files)])
    fc = json.loads(_http(base, "/v1/forecast", payload, ctype)[2])
    assert fc["degraded"] is False and fc["missing"] == [] and fc["fallback"] is None


@pytest.mark.slow
def test_service_concurrent_burst(service, synth):
    base, _ = service
    payload, ctype = encode_multipart([("files", n, b) for n, b in _uploads(synth[1])])
    with cf.ThreadPoolExecutor(6) as pool:
        results = list(pool.map(lambda _: _http(base, "/v1/forecast", payload, ctype),
                                range(6)))
    assert [r[0] for r in results] == [200] * 6
    ids = {json.loads(r[2])["id"] for r in results}
    assert len(ids) == 6


@pytest.mark.slow
def test_service_forecast_history_from_the_watch_store(service, synth):
    """GET /v1/forecasts (JSON, CSV, since), /v1/scores, the track-record plot and the page's
    history section read the `solarray watch` store named by forecast_store."""
    import pandas as pd
    from ray import serve

    from solarray.live.scores import update_scores
    from solarray.live.store import ForecastStore
    from solarray.serve.app import build_app

    base, tmp = service
    assert _http(base, "/v1/forecasts")[0] == 404  # no store configured
    store = ForecastStore(tmp / "store")
    t0 = pd.Timestamp("2024-01-01T00:00:00")
    for k, (p, seen) in enumerate([(0.8, 1), (0.1, 0), (0.6, 1), (0.3, None)]):
        t = t0 + pd.Timedelta(hours=6 * k)
        store.add_forecast({"observation_time": f"{t:%Y-%m-%dT%H:%M:%S}Z",
                            "full_disk": {"p_m24": p}, "regions": [],
                            "model_versions": {"fpnet_full_disk": "fpnet@1"}}, ["x.fits"], 1.0)
        if seen is not None:
            store.add_outcome(t, bool(seen), "M1.0" if seen else "C1.0", {}, "test")
    update_scores(store)
    serve.run(build_app(_options(tmp, synth[0], forecast_store=str(tmp / "store"))),
              name="forecaster", route_prefix="/")
    st, ct, body = _http(base, "/v1/forecasts")
    rows = json.loads(body)
    assert st == 200 and [r["p_full_disk"] for r in rows] == [0.8, 0.1, 0.6, 0.3]
    assert [r["observed"] for r in rows] == [1, 0, 1, None]
    st, _, body = _http(base, "/v1/forecasts?since=2024-01-01T10:00:00Z")
    assert [r["observation_time"] for r in json.loads(body)] == ["2024-01-01T12:00:00Z",
                                                                 "2024-01-01T18:00:00Z"]
    st, ct, body = _http(base, "/v1/forecasts?format=csv")
    assert st == 200 and ct.startswith("text/csv") and body.decode().count("\n") == 5
    assert _http(base, "/v1/forecasts?since=yesterday-ish")[0] == 422
    st, _, body = _http(base, "/v1/scores")
    assert json.loads(body)["full_disk"]["all"]["since_start"]["roca"] == 1.0
    st, ct, png = _http(base, "/v1/forecasts/history.png")
    assert st == 200 and png[:4] == b"\x89PNG"
    st, _, page = _http(base, "/")
    assert b"Track record" in page and b"history.png" in page
    # (the next test redeploys with its own options)


@pytest.mark.slow
def test_service_reconfigure_timeout_and_failed_model(service, synth):
    """user_config changes reconfigure replicas in place: a 1 ms request timeout gives 504;
    allow_untrained turns "degraded" into "ok"; a corrupt SPNet checkpoint stops the deployment
    at start-up with its path (fail_replica_on_load_error, the default) and, with that switched
    off, fails /v1/health and forecasts with 503 — never a silent untrained stand-in."""
    from ray import serve

    from solarray.serve.app import FPNET, IATOOLS, SPNET, build_app

    base, tmp = service
    payload, ctype = encode_multipart([("files", n, b) for n, b in _uploads(synth[1])])
    opts = _options(tmp, synth[0], request_timeout_s=0.001)
    for name in (SPNET, IATOOLS, FPNET):
        opts[name]["user_config"]["allow_untrained"] = True
    serve.run(build_app(opts), name="forecaster", route_prefix="/")
    st, _, body = _http(base, "/v1/forecast", payload, ctype)
    assert st == 504 and "longer than" in json.loads(body)["error"]
    st, _, body = _http(base, "/v1/health")
    health = json.loads(body)
    assert st == 200 and health["status"] == "ok" and health["degraded"] == []
    assert len(health["untrained"]) == 5  # still named, but accepted by the operator

    bad = tmp / "corrupt_spnet.pt"
    bad.write_bytes(b"definitely not a checkpoint")
    opts = _options(tmp, synth[0])
    opts[SPNET]["user_config"]["checkpoints"] = {"spnet": str(bad)}
    opts[SPNET]["max_constructor_retry_count"] = 1
    with pytest.raises(RuntimeError, match=r"deployments \['SPNet'\]"):
        serve.run(build_app(opts), name="forecaster", route_prefix="/")
    spnet = serve.status().applications["forecaster"].deployments[SPNET]
    assert str(spnet.status).endswith("DEPLOY_FAILED") and "corrupt_spnet.pt" in spnet.message

    opts[SPNET]["user_config"]["fail_replica_on_load_error"] = False
    serve.run(build_app(opts), name="forecaster", route_prefix="/")
    st, _, body = _http(base, "/v1/health")
    health = json.loads(body)
    assert st == 503 and health["status"] == "unhealthy"
    assert any("spnet" in p and "corrupt_spnet.pt" in p for p in health["problems"])
    st, _, body = _http(base, "/v1/forecast", payload, ctype)
    assert st == 503 and "spnet" in json.loads(body)["error"]
