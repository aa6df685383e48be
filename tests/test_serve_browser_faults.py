"""The forecaster service as a user and an operator meet it, on one
Serve app on 127.0.0.1: the home page in headless Chromium (DOM content, the map image loaded, a
screenshot), a fuzz of the upload path, a bounded burst of good and bad requests, and — last —
one replica killed mid-run."""

from __future__ import annotations

import json
import re
import time

import pytest
from serve_helpers import APP, CHANNELS, browse, free_port, make_time_step, options

from solarray.benchmarks.reliability import (
    burst,
    encode_multipart,
    fuzz_cases,
    kill_replica_under_load,
    report,
    request,
    run_fuzz,
    summarise_replies,
)

pytestmark = pytest.mark.slow

#: The deployment that runs two replicas, one of which the last test kills.
KILLED = "IATools"


@pytest.fixture(scope="module")
def time_step(tmp_path_factory):
    out = tmp_path_factory.mktemp("synth")
    files = make_time_step(out)
    return out, {ch: (p.name, p.read_bytes()) for ch, p in files.items()}


@pytest.fixture(scope="module")
def service(ray_session, time_step, tmp_path_factory):
    from ray import serve

    from solarray.serve.app import build_app

    tmp = tmp_path_factory.mktemp("serve-faults")
    port = free_port()
    serve.start(http_options={"host": "127.0.0.1", "port": port, "request_timeout_s": 120})
    serve.run(build_app(options(tmp, time_step[0], replicas={KILLED: 2}, max_file_mb=8)),
              name=APP, route_prefix="/")
    yield f"http://127.0.0.1:{port}"
    serve.shutdown()


@pytest.fixture(scope="module")
def good(time_step):
    _, files = time_step
    return encode_multipart([("files", files[c][0], files[c][1]) for c in CHANNELS])


def _healthy(base: str) -> bool:
    st, _, body = request(base, "/v1/health")
    return st == 200 and json.loads(body)["status"] == "ok"


def _attr(tag: str, name: str) -> str | None:
    m = re.search(rf'{name}="([^"]*)"', tag)
    return m.group(1) if m else None


def test_page_in_headless_chromium(service, good, tmp_path):
    base = service
    st, _, page = request(base, "/")
    assert st == 200 and b"No forecast yet" in page
    st, _, body = request(base, "/v1/forecast", *good)
    assert st == 200, body[:300]
    fc = json.loads(body)

    dom = browse(base + "/", tmp_path / "profile", "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    html = dom.stdout
    assert fc["id"] in html and fc["observation_time"] in html
    # the full-disk probability, rounded, as a percentage
    p = re.search(r"<span id=\"p-full-disk\"[^>]*>([^<]*)</span>", html).group(1)
    assert p == f"{100 * fc['full_disk']['p_m24']:.1f} %"
    # every model version and every warning (untrained models are allowed, and said so)
    for role, version in fc["model_versions"].items():
        assert role in html and version in html
    assert fc["warnings"] and "UNTRAINED" in html
    assert re.search(r'id="warnings"[^>]*data-count="(\d+)"', html).group(1) == \
        str(len(fc["warnings"]))
    # the region table: one row per region, units in the headers, rounded cells
    table = re.search(r'<table id="regions">(.*?)</table>', html, re.S)
    assert table is not None, "no region table"
    rows = re.findall(r"<tr>(.*?)</tr>", table.group(1), re.S)
    assert len(rows) == 1 + len(fc["regions"]) > 1
    for unit in ("(MSH)", "(HGS)", "(Mx)", "P(≥M1, 24 h)"):
        assert unit in rows[0]
    cells = re.findall(r"<td[^>]*>(.*?)</td>", table.group(1), re.S)
    assert not [c for c in cells if re.search(r"\d\.\d{3,}", c)], "unrounded numbers"
    r0 = fc["regions"][0]
    assert f"{r0['area_msh']:,.0f}" in rows[1] and f"{100 * r0['p_m24']:.1f} %" in rows[1]
    # the map image was fetched and decoded by the browser
    img = re.search(r"<img id=\"map\"[^>]*>", html).group(0)
    assert _attr(img, "src") == fc["map_url"]
    assert _attr(img, "data-loaded") == "yes", img
    assert int(_attr(img, "data-natural-width")) >= 400

    shot = tmp_path / "page.png"
    res = browse(base + "/", tmp_path / "profile", f"--screenshot={shot}",
                 "--window-size=1200,1600", "--hide-scrollbars")
    assert res.returncode == 0 and shot.exists(), res.stderr[-2000:]
    png = shot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 50_000
    w, h = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert (w, h) == (1200, 1600)


def test_fuzzed_uploads_are_refused_with_reasons(service, time_step):
    base = service
    cases = fuzz_cases(time_step[1], bomb_bytes=16 * 2**20, request_limit=3 * 2**20)
    results = run_fuzz(base, cases)
    bad = [r for r in results if not (400 <= r["status"] < 500 and r["reason"])]
    assert not bad, bad
    assert len(results) >= 25
    assert _healthy(base)


def test_burst_of_good_and_bad_requests(service, time_step, good):
    """32 requests (16 forecasts, 16 bad uploads interleaved), 8 in flight: no 5xx, every
    forecast 200, every bad request 4xx."""
    base = service
    cases = fuzz_cases(time_step[1], bomb_bytes=16 * 2**20)
    jobs = []
    for i in range(16):
        jobs.append(("good", "2xx", good))
        c = cases[i % len(cases)]
        jobs.append((c.name, "4xx", c.payload))
    t0 = time.perf_counter()
    replies = burst(base, jobs, in_flight=8)
    s = summarise_replies(replies, time.perf_counter() - t0)
    assert s["requests"] == 32 and s["5xx"] == 0 and s["no_answer"] == 0, s
    assert s["n_unexpected"] == 0, s["unexpected"]
    assert _healthy(base)


def test_replica_killed_mid_run(service, good):
    """Last in the module: ray.kill one of the two IATools replicas while forecasts run, 4 in
    flight. Only requests in flight at the kill may fail; the service keeps answering and Serve
    runs two replicas again within 60 s."""
    base = service
    res = kill_replica_under_load(base, APP, KILLED, good, requests=12, in_flight=4,
                                  kill_after=4, replicas=2, recover_timeout_s=60)
    rep = report(res)
    assert rep["failed_not_in_flight"] == 0, rep
    assert rep["failed"] <= rep["in_flight_at_kill"] <= 4, rep
    assert rep["answer_again_s"] is not None and rep["answer_again_s"] < 30, rep
    assert rep["replica_restored_s"] is not None and rep["replica_restored_s"] < 60, rep
    assert res["victim"] not in res["replicas_after"]
    assert _healthy(base)
    assert request(base, "/v1/forecast", *good)[0] == 200
