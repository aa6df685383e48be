"""The forecaster's HTTP API: a FastAPI app as the Ray Serve ingress ``Forecaster``.

::

    HTTP ──► Forecaster (validation, uploads → sample, results, map, HTML page)
                 ├─► SPNet    (perception, batched)
                 ├─► IATools  (analysis)
                 └─► FPNet    (forecast, batched)

Requests become samples (:mod:`solarray.pipeline.inputs`), the three stages run in their
deployments (:mod:`solarray.serve.deployments`), and the last ``max_results`` forecasts are kept
for ``GET /v1/forecast/{id}`` and its map (drawn on first request).
"""

# No `from __future__ import annotations`: FastAPI must see real annotations (Request) on the
# methods Serve's ingress rewrites.
import asyncio
import logging
import time
from collections import OrderedDict
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field, ValidationError
from ray import serve
from ray.serve.handle import DeploymentHandle

from solarray import __version__
from solarray.core.server_timing import server_timing_header
from solarray.live.store import ForecastStore
from solarray.pipeline.degraded import assess
from solarray.pipeline.forecast_stage import fallback_forecast
from solarray.pipeline.inputs import InputConfig, InputError, sample_from_dataset, sample_from_fits
from solarray.pipeline.map_view import map_inputs
from solarray.pipeline.model_set import ModelLoadError
from solarray.pipeline.perception import empty_perception
from solarray.pipeline.response import build_response, new_id
from solarray.serve.deployments import FPNET, IATOOLS, INGRESS, SPNET, degraded_reasons
from solarray.serve.errors import RequestError, error_response
from solarray.serve.history import (
    forecast_csv,
    forecast_records,
    history_section,
    parse_since,
    scores,
    track_record_png,
)
from solarray.serve.http import read_body, read_form
from solarray.serve.page import render_index_html
from solarray.viz.forecast_map import map_png

log = logging.getLogger("ray.serve")

api = FastAPI(
    title="solarray: Solar Activity AI Forecaster",
    version=__version__,
    description=(
        "Perception (SPNet) → analysis (IATools) → forecast (FPNet) on one observation. POST "
        "FITS files (one per channel, channels recognised from the headers) or name a sample of "
        "an ingested dataset; get active regions with coordinates, classes, flare index and "
        "P(≥M1 flare within 24 h), coronal holes, filaments, the full-disk probability and a "
        "situational-awareness map. Models without trained checkpoints are tiny and untrained: "
        "their versions say 'untrained' and, unless the operator allowed it, /v1/health reports "
        "'degraded' (503) and every response warns. Unknown values are null, with a warning. "
        "An observation missing a channel is still forecast, from the channels present: the "
        "response says `degraded: true` and names the `missing` channels; without the HMI "
        "magnetogram no region gets a probability and the full-disk one comes from the flare "
        "history (`fallback`)."),
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
        "422": {"description": "invalid input: a required channel missing (none by default), "
                               "size, header, times"},
        "503": {"description": "a model is not loaded"},
        "504": {"description": "the forecast took longer than the request timeout"},
    },
}


def _error(status: int, message: str, **extra) -> JSONResponse:
    return JSONResponse({"error": message, "status": status, **extra}, status_code=status)


# Helpers the ingress methods call are defined above the class: @serve.ingress snapshots the
# module globals when the class is decorated.
def _root_cause(err: BaseException) -> BaseException:
    """The user-level exception inside Ray's wrappers (RayTaskError keeps it as ``cause``)."""
    seen = 0
    while seen < 5:
        inner = getattr(err, "cause", None) or err.__cause__
        if inner is None or inner is err:
            return err
        err, seen = inner, seen + 1
    return err


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
        self.stage_channels: dict[str, tuple[str, ...]] = {}
        self._accepted_at = -1e9
        self._versions_cache: dict[str, str] = {}
        self._versions_at = -1e9
        self.reconfigure({})

    def reconfigure(self, config: dict) -> None:
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
        # the `solarray watch` store whose history /v1/forecasts and the page show (optional)
        self.store = ForecastStore(cfg["forecast_store"]) if cfg.get("forecast_store") else None
        InputConfig(**self.input_kw)  # validate now: a bad config fails the deployment

    async def _input_config(self):
        now = time.monotonic()
        if self.accepted is None or now - self._accepted_at > 30.0:  # models may be reconfigured
            self._accepted_at = now
            # the channels each stage's models read: what a degraded observation is weighed against
            self.stage_channels = {"perception": tuple(await self.spnet.channels.remote()),
                                   "forecast": tuple(await self.fpnet.channels.remote())}
            if self.configured_accepted:
                self.accepted = self.configured_accepted
            else:  # the channels the models read
                chans = list(self.stage_channels["perception"])
                chans += [c for c in self.stage_channels["forecast"] if c not in chans]
                self.accepted = tuple(chans)
        required = tuple(c for c in self.input_kw.get("required", ())
                         if not self.accepted or c in self.accepted)
        return InputConfig(**{**self.input_kw, "accepted": self.accepted, "required": required})

    # -- the cycle ---------------------------------------------------------------------------

    async def _sample(self, request: Request):
        """``(sample, seconds spent receiving and parsing the body)``."""
        ctype = request.headers.get("content-type", "").lower()
        icfg = await self._input_config()
        t0 = time.perf_counter()
        if ctype.startswith("multipart/form-data"):
            parts = await read_form(request, self.max_request_bytes, max_parts=icfg.max_files + 4,
                                    max_file_bytes=icfg.max_file_bytes)
            files = [(p.filename or p.name, p.data) for p in parts if p.name == "files"]
            if not files:
                raise RequestError("no 'files' field in the form (one FITS file per channel)", 422,
                                 fields=sorted({p.name for p in parts}))
            del parts  # `files` holds the only reference to each upload's bytes
            t_parse = time.perf_counter() - t0
            return await asyncio.to_thread(sample_from_fits, files, icfg), t_parse
        body = await read_body(request, self.max_request_bytes)
        t_parse = time.perf_counter() - t0
        if ctype.startswith("application/json"):
            try:
                req = DatasetRequest.model_validate_json(body)
            except ValidationError as err:
                raise RequestError("invalid JSON request: expected {\"dataset\": DIR, "
                                 "\"sample_id\": ID}", 422,
                                 errors=[e["msg"] for e in err.errors()][:5]) from None
            return (await asyncio.to_thread(sample_from_dataset, req.dataset, req.sample_id, icfg),
                    t_parse)
        raise RequestError(f"unsupported content type {ctype or 'none'!r}: use multipart/form-data "
                         "(field 'files') or application/json", 415)

    async def _cycle(self, request: Request) -> tuple[dict, float, float]:
        """``(response body, start, end of the cycle)`` (``time.perf_counter`` seconds)."""
        t0 = time.perf_counter()
        sample, t_parse = await self._sample(request)
        t1 = time.perf_counter()
        thr = self.cycle.get("threshold")  # None: the SPNet checkpoint's tuned thresholds
        thr = None if thr is None else float(thr)
        status = assess(sample.present_channels, self.stage_channels)  # degrade, don't refuse
        if status.perceive:
            perception, t_seg, b_seg = await self.spnet.segment.remote(sample, thr)
        else:
            perception, t_seg, b_seg = empty_perception(sample), 0.0, 0
        t2 = time.perf_counter()
        analysis, t_an = await self.iatools.analyse.remote(sample, perception, self.cycle,
                                                           not status.models_forecast)
        t3 = time.perf_counter()
        if status.models_forecast:
            fc, t_fc, b_fc = await self.fpnet.predict.remote(
                sample, analysis, int(self.cycle.get("max_regions", 64)))
        else:
            fc, t_fc, b_fc = fallback_forecast(analysis), 0.0, 0
        t4 = time.perf_counter()
        versions, degraded = await self._versions()
        # input = upload_parse + decode + preprocess (+ handing over to the thread)
        timings = {"upload_parse": t_parse, **((sample.source or {}).get("timings") or {}),
                   "input": t1 - t0, "perception": t2 - t1, "analysis": t3 - t2,
                   "forecast": t4 - t3, "cycle": t4 - t1, "total": t4 - t0,
                   "perception_compute": t_seg, "analysis_compute": t_an,
                   "forecast_compute": t_fc, "perception_batch": b_seg, "forecast_batch": b_fc}
        rid = new_id()
        body = build_response(rid, sample, analysis, fc, versions, timings,
                              [f"DEGRADED: {d}" for d in degraded], status)
        m = map_inputs(sample, perception, analysis, fc, body["untrained"], status)
        self.results[rid] = {"json": body, "map": m, "png": None}
        while len(self.results) > self.max_results:
            self.results.popitem(last=False)
        self.latest = rid
        return body, t0, t4

    async def _versions(self) -> tuple[dict[str, str], list[str]]:
        """``(model versions by role, degraded reasons)``. Cached briefly: a reconfigured
        deployment reports new versions within 10 s."""
        now = time.monotonic()
        if now - self._versions_at > 10.0:
            out, degraded = {}, []
            for name, h in ((SPNET, self.spnet), (IATOOLS, self.iatools), (FPNET, self.fpnet)):
                st = await h.status.remote()
                out.update({k: v["version"] for k, v in st.items() if k != "goes"})
                degraded += degraded_reasons(name, st)
            self._versions_cache, self._versions_at = (out, degraded), now
        versions, degraded = self._versions_cache
        return dict(versions), list(degraded)

    @api.post("/v1/forecast", openapi_extra=_FORECAST_BODY,
              summary="Run one perception → analysis → forecast cycle")
    async def forecast(self, request: Request):
        try:
            body, t0, t_cycle = await asyncio.wait_for(self._cycle(request),
                                                       self.request_timeout_s)
        except (InputError, RequestError) as err:
            return error_response(err)
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
        response = JSONResponse(body)
        # The body cannot time its own building and encoding: the header carries every stage.
        t_end = time.perf_counter()
        stages = {k: v for k, v in body["timings_s"].items() if not k.endswith("_batch")}
        response.headers["Server-Timing"] = server_timing_header(
            {**stages, "response": t_end - t_cycle, "server": t_end - t0})
        return response

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
        r = self.results.get(forecast_id)
        if r is None:
            return _error(404, f"no forecast {forecast_id!r}")
        if r["png"] is None:
            r["png"] = await asyncio.to_thread(map_png, r["map"])
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

    @api.get("/v1/health", summary="Health: 200 when every model is loaded and trained (or "
                                    "untrained models are allowed), else 503")
    async def health(self):
        """``status``: ``ok`` (200); ``degraded`` (503: a role serves an untrained stand-in and
        ``allow_untrained`` is not set; ``degraded`` lists why); ``unhealthy`` (503: a model is
        not loaded; ``problems`` lists why)."""
        st = await self._statuses()
        problems = [f"{d}/{r}: {m.get('error', 'not loaded')}" for d, roles in st.items()
                    for r, m in roles.items() if not m.get("loaded")]
        degraded = []
        for d, roles in st.items():
            degraded += degraded_reasons(d, roles)
        untrained = [f"{d}/{r}" for d, roles in st.items() for r, m in roles.items()
                     if "untrained" in str(m.get("version", ""))]
        status = "unhealthy" if problems else "degraded" if degraded else "ok"
        body = {"status": status, "problems": problems, "degraded": degraded,
                "untrained": untrained, "version": __version__}
        return JSONResponse(body, status_code=200 if status == "ok" else 503)

    @api.get("/v1/models", summary="Models per deployment: version, source, config")
    async def models(self):
        return JSONResponse(await self._statuses())

    # -- track record (the forecast store of `solarray watch`) ---------------------------------

    def _store(self) -> ForecastStore:
        if self.store is None:
            raise RequestError("no forecast store configured (serve option forecast_store: the "
                             "--out of `solarray watch`)", 404)
        return self.store

    @api.get("/v1/forecasts", summary="Stored forecasts with outcomes (JSON, or format=csv)")
    async def forecasts(self, since: str | None = None, format: str = "json"):
        try:
            store, t = self._store(), parse_since(since)
            if format not in ("json", "csv"):
                raise RequestError(f"format: expected json or csv, got {format!r}", 422)
            if format == "csv":
                text = await asyncio.to_thread(forecast_csv, store, t)
                return Response(text, media_type="text/csv")
            return JSONResponse(await asyncio.to_thread(forecast_records, store, t))
        except (InputError, RequestError) as err:
            return error_response(err)
        except ValueError as err:
            return _error(422, str(err))

    @api.get("/v1/forecasts/history.png", summary="Track record plot (PNG)",
             responses={200: {"content": {"image/png": {}}}})
    async def history_plot(self):
        try:
            png = await asyncio.to_thread(track_record_png, self._store())
        except (InputError, RequestError) as err:
            return error_response(err)
        if png is None:
            return _error(404, "the forecast store holds no forecasts yet")
        return Response(png, media_type="image/png")

    @api.get("/v1/scores", summary="Running verification scores of the stored forecasts")
    async def running_scores(self):
        try:
            return JSONResponse(scores(self._store()))
        except (InputError, RequestError) as err:
            return error_response(err)

    @api.get("/", response_class=HTMLResponse, summary="Latest map and tables")
    async def index(self):
        latest = self.results.get(self.latest)["json"] if self.latest in self.results else None
        extra = await asyncio.to_thread(history_section, self.store) if self.store else ""
        return HTMLResponse(render_index_html(latest, extra))


__all__ = ["DatasetRequest", "Forecaster", "api"]
