"""Ray Serve deployments of the forecaster, composed behind one FastAPI ingress.

::

    HTTP ──► Forecaster (FastAPI ingress: validation, uploads → sample, results, map, HTML)
                 ├─► SPNet    (@serve.batch: segmentation of batched samples)
                 ├─► IATools  (entities, coordinates, magnetic parameters, classes, flare index)
                 └─► FPNet    (@serve.batch: full-disk and per-AR probabilities)

Each deployment reads its settings from its ``user_config`` (``reconfigure``), so
``serve/config.yaml`` sets checkpoints, GOES source, limits, autoscaling and resources without
code changes; ``build_app(options)`` applies the same per-deployment options in code (tests,
``solarray serve``). Importing this module is cheap (FastAPI and Ray Serve only): torch, sunpy and
the models are imported inside the replicas.
"""

# No `from __future__ import annotations`: FastAPI must see real annotations (Request) on the
# methods Serve's ingress rewrites.
import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field, ValidationError
from ray import serve
from ray.serve.handle import DeploymentHandle

from solarray import __version__
from solarray.serve.uploads import InputError

log = logging.getLogger("ray.serve")

#: Deployment names (solarray.deploy.JOB_REQUESTS and k8s/rayservice-forecaster.yaml use them).
SPNET, IATOOLS, FPNET, INGRESS = "SPNet", "IATools", "FPNet", "Forecaster"
DEPLOYMENTS = (SPNET, IATOOLS, FPNET, INGRESS)

#: Deployment option keys ``build_app`` accepts per deployment (as in a Serve config file).
OPTION_KEYS = ("num_replicas", "autoscaling_config", "ray_actor_options", "user_config",
               "max_ongoing_requests", "max_queued_requests", "graceful_shutdown_wait_loop_s",
               "graceful_shutdown_timeout_s", "health_check_period_s", "health_check_timeout_s")


def _batch_settings(method, config: Mapping[str, Any]) -> None:
    if "max_batch_size" in config:
        method.set_max_batch_size(int(config["max_batch_size"]))
    if "batch_wait_timeout_s" in config:
        method.set_batch_wait_timeout_s(float(config["batch_wait_timeout_s"]))


class _ModelStage:
    """Shared replica logic: load the roles of this stage in ``reconfigure``."""

    roles: tuple[str, ...] = ()

    def __init__(self) -> None:
        self.models = None
        self.config: dict[str, Any] = {}
        self.fail_replica_on_load_error = False

    def _load(self, config: Mapping[str, Any]) -> None:
        from solarray.serve.models import UNTRAINED_CHANNELS, load_models

        cfg = dict(config or {})
        paths = {r: cfg.get("checkpoints", {}).get(r) for r in self.roles}
        self.models = load_models(
            paths, roles=self.roles, checkpoint_dir=cfg.get("checkpoint_dir"),
            channels=tuple(cfg.get("untrained_channels", UNTRAINED_CHANNELS)),
            untrained_preset=cfg.get("untrained_preset", "tiny"))
        self.fail_replica_on_load_error = bool(cfg.get("fail_replica_on_load_error", False))
        self.config = cfg

    def status(self) -> dict[str, Any]:
        """Model descriptions of this replica (``/v1/models``, ``/v1/health``)."""
        return {r: lm.describe() for r, lm in self.models.roles.items()}

    def channels(self) -> list[str]:
        out = []
        for lm in self.models.roles.values():
            cfg = getattr(lm.model, "config", None)
            out += [c for c in getattr(cfg, "channels", ()) if c not in out]
        return out

    def check_health(self) -> None:
        # Serve restarts replicas whose check fails: opt-in, for checkpoints behind URIs that
        # may be transiently unreachable. Otherwise /v1/health reports the failed load.
        if self.fail_replica_on_load_error and self.models is not None and self.models.errors():
            raise RuntimeError(f"models not loaded: {self.models.errors()}")


@serve.deployment(name=SPNET, max_ongoing_requests=16, user_config={},
                  ray_actor_options={"num_cpus": 1})
class SPNetDeployment(_ModelStage):
    """Segmentation (AR, CH, FL) of batched samples."""

    roles = ("spnet",)

    def reconfigure(self, config: dict) -> None:
        self._load(config)
        _batch_settings(self.segment, self.config)
        spnet = self.models.optional("spnet")
        if spnet is not None:  # warm-up: first request pays no lazy initialisation
            import torch

            c = spnet.config
            with torch.inference_mode():
                spnet.predict_proba(torch.zeros(1, len(c.channels), c.image_size, c.image_size))

    @serve.batch(max_batch_size=4, batch_wait_timeout_s=0.01)
    async def segment(self, samples: list, threshold: list) -> list:
        """``Sample`` → :class:`~solarray.serve.cycle.Perception` (batched)."""
        from solarray.serve.cycle import perceive

        spnet = self.models.get("spnet")
        t0 = time.perf_counter()
        out = await asyncio.to_thread(perceive, spnet, samples, float(threshold[0]))
        dt = time.perf_counter() - t0
        return [(p, dt, len(samples)) for p in out]


@serve.deployment(name=IATOOLS, max_ongoing_requests=4, user_config={},
                  ray_actor_options={"num_cpus": 1})
class IAToolsDeployment(_ModelStage):
    """Entities, coordinates, parameters, classes and flare history for one sample."""

    roles = ("hale", "mcintosh")

    def __init__(self) -> None:
        super().__init__()
        self.history = None
        self.history_error: str | None = None

    def reconfigure(self, config: dict) -> None:
        from solarray.serve.flares import FlareHistory, FlareSourceError

        self._load(config)
        goes = dict(self.config.get("goes") or {})
        try:
            self.history = FlareHistory.load(goes.get("xrs"), goes.get("events"),
                                             goes.get("indices"))
            self.history_error = None
        except FlareSourceError as err:
            self.history, self.history_error = None, str(err)
            log.error("IATools: flare history not loaded: %s", err)
        self._warm_up()

    def _warm_up(self) -> None:
        import numpy as np

        from solarray.serve.cycle import Perception, Sample, analyse, sample_header

        n = 64
        s = Sample(np.zeros((1, n, n), np.float32), ("hmi_m",), _epoch(),
                   sample_header(_epoch(), n))
        z = np.zeros((3, n, n), np.float32)
        analyse(s, Perception(z, z.astype(np.uint8), 0.5), history=None)

    def status(self) -> dict[str, Any]:
        out = super().status()
        h = self.history
        out["goes"] = {"role": "goes", "loaded": self.history_error is None,
                       "source": h.source if h else None, "n_flares": len(h.events) if h else 0,
                       "version": h.source if h else "not loaded", "trained": True}
        if self.history_error:
            out["goes"]["error"] = self.history_error
        return out

    async def analyse(self, sample, perception, cycle: dict) -> tuple:
        """(:class:`~solarray.serve.cycle.Analysis`, seconds)."""
        from solarray.serve.cycle import CycleConfig, analyse

        if self.history_error:
            raise RuntimeError(f"flare history not loaded: {self.history_error}")
        cfg = CycleConfig(**cycle)
        t0 = time.perf_counter()
        a = await asyncio.to_thread(
            analyse, sample, perception, hale=self.models.optional("hale"),
            mcintosh=self.models.optional("mcintosh"), history=self.history, config=cfg)
        return a, time.perf_counter() - t0


def _epoch():
    from datetime import datetime

    return datetime(2024, 1, 1)


@serve.deployment(name=FPNET, max_ongoing_requests=16, user_config={},
                  ray_actor_options={"num_cpus": 1})
class FPNetDeployment(_ModelStage):
    """Full-disk and per-AR flare probabilities (batched)."""

    roles = ("fpnet_full_disk", "fpnet_ar")

    def reconfigure(self, config: dict) -> None:
        self._load(config)
        _batch_settings(self.predict, self.config)

    @serve.batch(max_batch_size=4, batch_wait_timeout_s=0.01)
    async def predict(self, samples: list, analyses: list, max_regions: list) -> list:
        """(Sample, Analysis) → (:class:`~solarray.serve.cycle.Forecast`, seconds, batch size)."""
        from solarray.serve.cycle import forecast

        for role in self.roles:  # a failed configured checkpoint is an error, not "no model"
            self.models.get(role)
        t0 = time.perf_counter()
        out = await asyncio.to_thread(forecast, self.models.optional("fpnet_full_disk"),
                                      self.models.optional("fpnet_ar"), samples, analyses,
                                      int(max_regions[0]))
        dt = time.perf_counter() - t0
        return [(f, dt, len(samples)) for f in out]


# --------------------------------------------------------------------------------------------------
# Ingress
# --------------------------------------------------------------------------------------------------

api = FastAPI(
    title="solarray: Solar Activity AI Forecaster",
    version=__version__,
    description=(
        "Perception (SPNet) → analysis (IATools) → forecast (FPNet) on one observation. POST "
        "FITS files (one per channel, channels recognised from the headers) or name a sample of "
        "an ingested dataset; get active regions with coordinates, classes, flare index and "
        "P(≥M1 flare within 24 h), coronal holes, filaments, the full-disk probability and a "
        "situational-awareness map. Models without trained checkpoints are tiny and untrained: "
        "their versions say 'untrained'."),
)


class DatasetRequest(BaseModel):
    """A sample of an ingested shard directory (``solarray ingest`` output) on the server."""

    dataset: str = Field(description="shard directory (must lie under an allowed root)")
    sample_id: str = Field(description="sample id, e.g. 2024-01-01T00:00:00")


_FORECAST_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {"schema": {
                "type": "object", "required": ["files"],
                "properties": {"files": {"type": "array", "description": (
                    "one FITS file per channel (level 1, e.g. AIA DN with EXPTIME, HMI "
                    "magnetogram in G; .fits or .fits.gz)"),
                    "items": {"type": "string", "format": "binary"}}}}},
            "application/json": {"schema": DatasetRequest.model_json_schema()},
        },
    },
    "responses": {
        "200": {"description": "the forecast (JSON)"},
        "400": {"description": "malformed request"},
        "403": {"description": "dataset outside the allowed directories"},
        "404": {"description": "dataset or sample not found"},
        "413": {"description": "request too large"},
        "415": {"description": "a file is not FITS / unsupported content type"},
        "422": {"description": "invalid input: wrong channel set, size, header, times"},
        "503": {"description": "a model is not loaded"},
        "504": {"description": "the forecast took longer than the request timeout"},
    },
}


def _error(status: int, message: str, **extra) -> JSONResponse:
    return JSONResponse({"error": message, "status": status, **extra}, status_code=status)


@serve.deployment(name=INGRESS, max_ongoing_requests=32, user_config={},
                  ray_actor_options={"num_cpus": 0.5})
@serve.ingress(api)
class Forecaster:
    """HTTP API: validation, composition of the three stages, results, map and HTML page."""

    def __init__(self, spnet: DeploymentHandle, iatools: DeploymentHandle,
                 fpnet: DeploymentHandle) -> None:
        self.spnet, self.iatools, self.fpnet = spnet, iatools, fpnet
        self.results: OrderedDict[str, dict] = OrderedDict()
        self.latest: str | None = None
        self.accepted: tuple[str, ...] | None = None
        self._accepted_at = -1e9
        self._versions_cache: dict[str, str] = {}
        self._versions_at = -1e9
        self.reconfigure({})

    def reconfigure(self, config: dict) -> None:
        from solarray.serve.uploads import InputConfig

        cfg = dict(config or {})
        self.max_request_bytes = int(cfg.get("max_request_mb", 200) * 2**20)
        self.request_timeout_s = float(cfg.get("request_timeout_s", 60.0))
        self.max_results = int(cfg.get("max_results", 64))
        self.cycle = dict(cfg.get("cycle") or {})
        self.input_kw = {k: cfg[k] for k in ("size", "frame", "required", "max_files",
                                             "min_pixels", "max_pixels", "max_time_spread_s",
                                             "degradation_table", "dataset_roots") if k in cfg}
        if "max_file_mb" in cfg:
            self.input_kw["max_file_bytes"] = int(cfg["max_file_mb"] * 2**20)
        self.input_kw = {k: tuple(v) if isinstance(v, list) else v
                         for k, v in self.input_kw.items()}
        self.configured_accepted = tuple(cfg.get("accepted", ()))
        InputConfig(**self.input_kw)  # validate now: a bad config fails the deployment

    async def _input_config(self):
        from solarray.serve.uploads import InputConfig

        now = time.monotonic()
        if self.accepted is None or now - self._accepted_at > 30.0:  # models may be reconfigured
            self._accepted_at = now
            if self.configured_accepted:
                self.accepted = self.configured_accepted
            else:  # the channels the models read
                chans = await self.spnet.channels.remote()
                chans += [c for c in await self.fpnet.channels.remote() if c not in chans]
                self.accepted = tuple(chans)
        required = tuple(c for c in self.input_kw.get("required", ("hmi_m",))
                         if not self.accepted or c in self.accepted)
        return InputConfig(**{**self.input_kw, "accepted": self.accepted, "required": required})

    # -- the cycle ---------------------------------------------------------------------------

    async def _sample(self, request: Request):
        from solarray.serve.http import parse_multipart, read_body
        from solarray.serve.uploads import sample_from_dataset, sample_from_fits

        ctype = request.headers.get("content-type", "").lower()
        body = await read_body(request, self.max_request_bytes)
        icfg = await self._input_config()
        if ctype.startswith("multipart/form-data"):
            parts = parse_multipart(request.headers["content-type"], body,
                                    max_parts=icfg.max_files + 4)
            files = [(p.filename or p.name, p.data) for p in parts if p.name == "files"]
            if not files:
                raise InputError("no 'files' field in the form (one FITS file per channel)", 422,
                                 fields=sorted({p.name for p in parts}))
            return await asyncio.to_thread(sample_from_fits, files, icfg)
        if ctype.startswith("application/json"):
            try:
                req = DatasetRequest.model_validate_json(body)
            except ValidationError as err:
                raise InputError("invalid JSON request: expected {\"dataset\": DIR, "
                                 "\"sample_id\": ID}", 422,
                                 errors=[e["msg"] for e in err.errors()][:5]) from None
            return await asyncio.to_thread(sample_from_dataset, req.dataset, req.sample_id, icfg)
        raise InputError(f"unsupported content type {ctype or 'none'!r}: use multipart/form-data "
                         "(field 'files') or application/json", 415)

    async def _cycle(self, request: Request) -> dict:
        from solarray.serve.cycle import build_response, map_inputs, new_id

        t0 = time.perf_counter()
        sample = await self._sample(request)
        t1 = time.perf_counter()
        thr = float(self.cycle.get("threshold", 0.5))
        perception, t_seg, b_seg = await self.spnet.segment.remote(sample, thr)
        t2 = time.perf_counter()
        analysis, t_an = await self.iatools.analyse.remote(sample, perception, self.cycle)
        t3 = time.perf_counter()
        fc, t_fc, b_fc = await self.fpnet.predict.remote(
            sample, analysis, int(self.cycle.get("max_regions", 64)))
        t4 = time.perf_counter()
        versions = await self._versions()
        timings = {"input": t1 - t0, "perception": t2 - t1, "analysis": t3 - t2,
                   "forecast": t4 - t3, "total": t4 - t0, "perception_compute": t_seg,
                   "analysis_compute": t_an, "forecast_compute": t_fc,
                   "perception_batch": b_seg, "forecast_batch": b_fc}
        rid = new_id()
        body = build_response(rid, sample, analysis, fc, versions, timings)
        m = map_inputs(sample, perception, analysis, fc, body["untrained"])
        self.results[rid] = {"json": body, "map": m, "png": None}
        while len(self.results) > self.max_results:
            self.results.popitem(last=False)
        self.latest = rid
        return body

    async def _versions(self) -> dict[str, str]:
        # Cached briefly: a reconfigured deployment reports new versions within 10 s.
        now = time.monotonic()
        if now - self._versions_at > 10.0:
            out = {}
            for h in (self.spnet, self.iatools, self.fpnet):
                st = await h.status.remote()
                out.update({k: v["version"] for k, v in st.items() if k != "goes"})
            self._versions_cache, self._versions_at = out, now
        return dict(self._versions_cache)

    @api.post("/v1/forecast", openapi_extra=_FORECAST_BODY,
              summary="Run one perception → analysis → forecast cycle")
    async def forecast(self, request: Request):
        from solarray.serve.models import ModelLoadError

        try:
            body = await asyncio.wait_for(self._cycle(request), self.request_timeout_s)
        except InputError as err:
            return JSONResponse(err.to_json(), status_code=err.status)
        except TimeoutError:
            return _error(504, f"forecast took longer than {self.request_timeout_s:g} s")
        except ModelLoadError as err:
            return _error(503, str(err))
        except Exception as err:  # noqa: BLE001 - a failed request must not take the service down
            cause = _root_cause(err)
            if isinstance(cause, ModelLoadError):
                return _error(503, str(cause))
            log.exception("forecast failed")
            return _error(500, f"forecast failed: {type(cause).__name__}: {str(cause)[:300]}")
        return JSONResponse(body)

    @api.get("/v1/forecast/{forecast_id}", summary="A stored forecast (JSON)")
    async def get_forecast(self, forecast_id: str):
        r = self.results.get(forecast_id)
        if r is None:
            return _error(404, f"no forecast {forecast_id!r} (this replica keeps the last "
                               f"{self.max_results})")
        return JSONResponse(r["json"])

    @api.get("/v1/forecast/{forecast_id}/map.png", summary="Situational-awareness map (PNG)",
             responses={200: {"content": {"image/png": {}}}})
    async def get_map(self, forecast_id: str):
        from solarray.serve.render import render_map_png

        r = self.results.get(forecast_id)
        if r is None:
            return _error(404, f"no forecast {forecast_id!r}")
        if r["png"] is None:
            r["png"] = await asyncio.to_thread(render_map_png, r["map"])
        return Response(r["png"], media_type="image/png")

    # -- service ----------------------------------------------------------------------------

    async def _statuses(self) -> dict[str, Any]:
        out = {}
        for name, h in ((SPNET, self.spnet), (IATOOLS, self.iatools), (FPNET, self.fpnet)):
            try:
                out[name] = await asyncio.wait_for(h.status.remote(), 10.0)
            except Exception as err:  # noqa: BLE001
                out[name] = {"deployment": {"loaded": False,
                                            "error": f"{type(err).__name__}: {err}"[:300]}}
        return out

    @api.get("/v1/health", summary="Health: 200 when every model loaded, else 503")
    async def health(self):
        st = await self._statuses()
        problems = [f"{d}/{r}: {m.get('error', 'not loaded')}" for d, roles in st.items()
                    for r, m in roles.items() if not m.get("loaded")]
        untrained = [f"{d}/{r}" for d, roles in st.items() for r, m in roles.items()
                     if "untrained" in str(m.get("version", ""))]
        body = {"status": "unhealthy" if problems else "ok", "problems": problems,
                "untrained": untrained, "version": __version__}
        return JSONResponse(body, status_code=503 if problems else 200)

    @api.get("/v1/models", summary="Models per deployment: version, source, config")
    async def models(self):
        return JSONResponse(await self._statuses())

    @api.get("/", response_class=HTMLResponse, summary="Latest map and tables")
    async def index(self):
        from solarray.serve.render import render_index_html

        latest = self.results.get(self.latest)["json"] if self.latest in self.results else None
        return HTMLResponse(render_index_html(latest))


def _root_cause(err: BaseException) -> BaseException:
    """The user-level exception inside Ray's wrappers (RayTaskError keeps it as ``cause``)."""
    seen = 0
    while seen < 5:
        inner = getattr(err, "cause", None) or err.__cause__
        if inner is None or inner is err:
            return err
        err, seen = inner, seen + 1
    return err


def build_app(options: Mapping[str, Mapping[str, Any]] | None = None):
    """The forecaster application; ``options[<deployment name>]`` holds per-deployment options
    (:data:`OPTION_KEYS`, as in a Serve config file's ``deployments`` list)."""
    options = dict(options or {})
    unknown = sorted(set(options) - set(DEPLOYMENTS))
    if unknown:
        raise ValueError(f"unknown deployment(s) {unknown}; expected {list(DEPLOYMENTS)}")

    def opts(name: str) -> dict[str, Any]:
        o = dict(options.get(name) or {})
        bad = sorted(set(o) - set(OPTION_KEYS) - {"name"})
        if bad:
            raise ValueError(f"deployment {name}: unknown option(s) {bad}; expected {OPTION_KEYS}")
        o.pop("name", None)
        return o

    return Forecaster.options(**opts(INGRESS)).bind(
        SPNetDeployment.options(**opts(SPNET)).bind(),
        IAToolsDeployment.options(**opts(IATOOLS)).bind(),
        FPNetDeployment.options(**opts(FPNET)).bind(),
    )


def options_from_config(config: Mapping[str, Any], app_name: str | None = None
                        ) -> dict[str, dict[str, Any]]:
    """Per-deployment options of one application of a Serve config file (``serve/config.yaml``)."""
    apps = list(config.get("applications") or [])
    if not apps:
        raise ValueError("Serve config has no applications")
    app = next((a for a in apps if a.get("name") == app_name), None) if app_name else apps[0]
    if app is None:
        raise ValueError(f"no application {app_name!r} in the Serve config")
    return {d["name"]: {k: v for k, v in d.items() if k != "name"}
            for d in app.get("deployments") or []}


__all__ = ["DEPLOYMENTS", "FPNET", "IATOOLS", "INGRESS", "SPNET", "build_app",
           "options_from_config"]
