"""The Search Serve application over real HTTP on 127.0.0.1: upload, JSON, generate, bad queries."""

from __future__ import annotations

import io
import json
import socket
import urllib.error
import urllib.request

import numpy as np
import pytest
import torch

from solarray.core.multipart import encode_multipart
from solarray.models import build, save_model
from solarray.search.lut import build_lut
from solarray.search.patches import read_patches, synthetic_patches, write_patches


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _http(url: str, data: bytes | None = None, ctype: str = "application/json"):
    req = urllib.request.Request(url, data=data, headers={"Content-Type": ctype} if data else {})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            status, body = r.status, r.read()
    except urllib.error.HTTPError as err:
        status, body = err.code, err.read()
    try:
        return status, json.loads(body)
    except ValueError:
        return status, {"raw": body[:300].decode(errors="replace")}


@pytest.fixture(scope="module")
def service(ray_session, tmp_path_factory):
    from ray import serve

    from solarray.serve.search import ROUTE_PREFIX, build_search_app

    tmp = tmp_path_factory.mktemp("search_serve")
    torch.manual_seed(0)
    write_patches(synthetic_patches(1, days=0.5), tmp / "patches")
    ckpt = save_model(build("simsiam", preset="tiny"), tmp / "simsiam.pt")
    gan = save_model(build("ar_gan", preset="tiny"), tmp / "gan.pt")
    lut = build_lut(ckpt, tmp / "patches", tmp / "lut.parquet")
    port = _free_port()
    serve.start(http_options={"host": "127.0.0.1", "port": port})
    serve.run(build_search_app({"ray_actor_options": {"num_cpus": 0.5}, "user_config": {
        "index": str(lut), "gan": str(gan), "direction_samples": 300, "max_k": 20}}),
        name="search", route_prefix=ROUTE_PREFIX)
    yield f"http://127.0.0.1:{port}{ROUTE_PREFIX}", tmp
    serve.shutdown()


def test_search_over_http(service):
    base, tmp = service
    st, health = _http(base + "/health")
    assert st == 200 and health["index_rows"] > 0 and health["generate"], health
    images, meta, _ = read_patches(tmp / "patches")
    patch = images[3, 0] * 1500.0  # back to Gauss
    buf = io.BytesIO()
    np.save(buf, patch)
    body, ctype = encode_multipart([("file", "q.npy", buf.getvalue())])
    st, out = _http(base, body, ctype)
    assert st == 200 and out["matches"][0]["region"] == int(meta["region"][3])
    assert out["matches"][0]["similarity"] == pytest.approx(1.0, abs=1e-4)
    st, out = _http(base, json.dumps({"image": patch.tolist(), "k": 2}).encode())
    assert st == 200 and len(out["matches"]) == 2 and "tuf" in out["matches"][0]
    st, out = _http(base, json.dumps({"generate": {"param": "tuf", "delta": 2, "n": 3},
                                      "k": 1}).encode())
    assert st == 200 and len(out["steps"]) == 3 and len(out["steps"][0]["matches"]) == 1


@pytest.mark.parametrize("payload, status, words", [
    ({"image": np.zeros((16, 16)).tolist()}, 422, "expected a patch"),
    ({"image": np.zeros((32, 32)).tolist(), "channels": ["aia171"]}, 422, "channels"),
    ({"generate": {"param": "area"}}, 422, "unknown parameter"),
    ({"image": np.zeros((32, 32)).tolist(), "k": 500}, 422, "k must be"),
    ({"nothing": 1}, 422, "needs"),
    (b"{not json", 400, "not valid JSON"),
])
def test_bad_queries_get_4xx_and_service_keeps_serving(service, payload, status, words):
    base, _ = service
    data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    st, out = _http(base, data)
    assert st == status and words in out["error"]
    assert _http(base + "/health")[0] == 200
