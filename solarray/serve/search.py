"""The reverse image search (Chatterjee 2025) as its own Ray Serve application: ``Search``.

::

    POST /v1/search   multipart (a ``file``: .npy or FITS patch in G; optional field ``k``)
                      or JSON {"image": [[...]], "channels": ["hmi_m"], "k": 10}
                      or JSON {"generate": {"param": "tuf", "delta": 2, "n": 4}, "k": 3}
    GET  /v1/search/health

It shares nothing with the forecaster (its own deployment and route prefix ``/v1/search``), so
either application can be deployed alone (``serve/search.yaml``; append its entry to the
``applications`` of ``serve/config.yaml`` to run both on one cluster). Settings come from
``user_config``: ``index`` (a look-up table from ``solarray search index``), ``checkpoint``
(default: the one the index records; another is refused), ``gan`` and ``directions`` (for
generated queries), ``max_k``, ``max_request_mb``. Bad queries get a 4xx with a one-line error;
the replica keeps serving.
"""

# No `from __future__ import annotations`: FastAPI must see real annotations (Request).
import io
import json
import logging
from typing import Any

import numpy as np
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from ray import serve

from solarray import __version__
from solarray.models import load_model
from solarray.search import directions as D
from solarray.search.lut import Searcher
from solarray.search.parameters import PARAMETERS, check_parameter, parameter_table
from solarray.serve.errors import RequestError
from solarray.serve.http import read_body, read_form

log = logging.getLogger("ray.serve")
SEARCH = "Search"
ROUTE_PREFIX = "/v1/search"
SHOWN = ["id", "similarity", "t_obs", "region", "hgs_lon", "hgs_lat", *PARAMETERS]

api = FastAPI(title="solarray: reverse image search over AR magnetogram patches",
              version=__version__,
              description="Upload a magnetogram patch (or ask for a generated one) and get the "
                          "nearest real active-region patches with time, position and TUF, TPF, "
                          "TNF, PSEP.")


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message, "status": status}, status_code=status)


def _records(df) -> list[dict]:
    df = df[[c for c in SHOWN if c in df.columns]].copy()
    df["t_obs"] = df["t_obs"].astype(str)
    return json.loads(df.to_json(orient="records"))


def _load_npy_or_fits(name: str, data: bytes) -> np.ndarray:
    if data[:6] == b"\x93NUMPY":
        return np.load(io.BytesIO(data), allow_pickle=False)
    if data[:6] == b"SIMPLE":
        from astropy.io import fits

        with fits.open(io.BytesIO(data)) as hdus:
            img = next((h.data for h in hdus if h.data is not None), None)
        if img is not None:
            return np.asarray(img, dtype=np.float32)
    raise RequestError(f"file {name!r} is neither a .npy array nor a FITS image", 415)


class _PrefixRoot:
    """ASGI middleware: a request for the route prefix itself (``POST /v1/search``) is served
    by the app's ``/`` route, instead of Starlette's 307 redirect to ``/v1/search/`` that most
    clients do not follow for a POST."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        root = scope.get("root_path", "")
        if scope.get("type") == "http" and root and scope.get("path") == root:
            scope = {**scope, "path": root + "/", "raw_path": (root + "/").encode()}
        await self.app(scope, receive, send)


api.add_middleware(_PrefixRoot)


@serve.deployment(name=SEARCH, max_ongoing_requests=16, user_config={},
                  ray_actor_options={"num_cpus": 0.5})
@serve.ingress(api)
class Search:
    """The look-up table, its SimSiam encoder and (optionally) the GAN with its directions."""

    def __init__(self) -> None:
        self.searcher: Searcher | None = None
        self.gan, self.directions, self.load_error = None, None, None
        self.reconfigure({})

    def reconfigure(self, config: dict) -> None:
        cfg = dict(config or {})
        self.max_k = int(cfg.get("max_k", 100))
        self.max_request_bytes = int(float(cfg.get("max_request_mb", 8)) * 2**20)
        self.searcher, self.gan, self.directions, self.load_error = None, None, None, None
        try:
            if cfg.get("index"):
                self.searcher = Searcher(cfg["index"], cfg.get("checkpoint"))
            if cfg.get("gan"):
                self.gan = load_model(cfg["gan"]).eval()
                if cfg.get("directions"):
                    self.directions = D.load_directions(cfg["directions"],
                                                        self.gan.config.latent_dim)
                else:
                    self.directions = D.learn_directions(
                        self.gan, float(cfg.get("pixel_size_mm", 11.9625)),
                        n=int(cfg.get("direction_samples", 2000)))
        except (OSError, ValueError, KeyError) as err:
            self.load_error = str(err)
            log.error("Search: %s", err)

    def _query(self, patch: np.ndarray, k: int, channels=None) -> list[dict]:
        if self.searcher is None:
            raise RequestError(self.load_error or "no index configured (user_config.index)", 503)
        try:
            return _records(self.searcher.search(patch, k, channels))
        except ValueError as err:
            raise RequestError(str(err), 422) from None

    def _k(self, value: Any) -> int:
        try:
            k = int(value)
        except (TypeError, ValueError):
            raise RequestError(f"k must be an integer, got {value!r}", 422) from None
        if not 1 <= k <= self.max_k:
            raise RequestError(f"k must be in 1…{self.max_k}, got {k}", 422)
        return k

    def _generate(self, spec: Any, k: int) -> dict:
        if self.gan is None:
            raise RequestError(self.load_error or "no GAN configured (user_config.gan)", 503)
        if not isinstance(spec, dict):
            raise RequestError('"generate" must be an object {"param", "delta", "n"}', 422)
        try:
            name = check_parameter(str(spec.get("param", "")))
            delta, n = float(spec.get("delta", 2.0)), int(spec.get("n", 4))
        except (TypeError, ValueError) as err:
            raise RequestError(str(err), 422) from None
        if not 1 <= n <= 32 or not np.isfinite(delta):
            raise RequestError(f"generate: n must be in 1…32 and delta finite, got {n}, {delta}",
                               422)
        try:
            direction = D.direction_of(self.directions, name)
        except ValueError as err:
            raise RequestError(str(err), 422) from None
        deltas = np.linspace(-delta, delta, n) if n > 1 else np.array([delta])
        z0 = np.random.default_rng(int(spec.get("seed", 0))).standard_normal(
            (1, self.gan.config.latent_dim))
        gauss = D.to_gauss(D.generate(self.gan, D.walk(z0, direction["normal"], deltas)[:, 0]),
                           self.gan.config.channels)
        params = parameter_table(gauss[:, 0], self.directions["pixel_size_mm"])
        steps = []
        for i, d in enumerate(deltas):
            # NaN (e.g. PSEP of a one-polarity patch) → null: JSON has no NaN
            step = {"delta": float(d), **{p: float(v[i]) if np.isfinite(v[i]) else None
                                          for p, v in params.items()}}
            if self.searcher is not None:
                step["matches"] = self._query(gauss[i], k)
            steps.append(step)
        return {"param": name, "steps": steps}

    @api.post("/")
    async def search(self, request: Request):
        try:
            ctype = request.headers.get("content-type", "")
            if ctype.startswith("multipart/form-data"):
                parts = await read_form(request, self.max_request_bytes, max_parts=4)
                files = [p for p in parts if p.name == "file"]
                if len(files) != 1:
                    raise RequestError("multipart upload needs exactly one part named 'file'", 422)
                kpart = next((p for p in parts if p.name == "k"), None)
                k = self._k(kpart.data.decode() if kpart else 10)
                patch = _load_npy_or_fits(files[0].filename or "file", files[0].data)
                return {"k": k, "matches": self._query(patch, k)}
            body = await read_body(request, self.max_request_bytes)
            try:
                req = json.loads(body or b"null")
            except ValueError:
                raise RequestError("body is not valid JSON", 400) from None
            if not isinstance(req, dict):
                raise RequestError('JSON body must be an object with "image" or "generate"', 400)
            k = self._k(req.get("k", 10))
            if "generate" in req:
                return self._generate(req["generate"], k)
            if "image" not in req:
                raise RequestError('JSON body needs "image" (a patch in G) or "generate"', 422)
            try:
                patch = np.asarray(req["image"], dtype=np.float32)
            except (TypeError, ValueError):
                raise RequestError('"image" must be a numeric array', 422) from None
            return {"k": k, "matches": self._query(patch, k, req.get("channels"))}
        except RequestError as err:
            return _error(err.status, str(err))

    @api.get("/health")
    async def health(self):
        ok = self.searcher is not None and self.load_error is None
        body = {"status": "ok" if ok else "error", "error": self.load_error,
                "index_rows": len(self.searcher.lut.meta) if self.searcher else 0,
                "generate": self.gan is not None}
        return JSONResponse(body, status_code=200 if ok else 503)


def build_search_app(options: dict | None = None):
    """The Search application; ``options`` are the deployment's options (``user_config``, ...)."""
    return Search.options(**dict(options or {})).bind()


__all__ = ["ROUTE_PREFIX", "SEARCH", "Search", "build_search_app"]
