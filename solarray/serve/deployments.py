"""The three model deployments of the forecaster, one per stage of :mod:`solarray.pipeline`.

* ``SPNet`` — :func:`~solarray.pipeline.perception.perceive` on batched samples (``@serve.batch``);
* ``IATools`` — :func:`~solarray.pipeline.analysis_stage.analyse` with the classifiers and the
  flare history (GOES source from ``user_config["goes"]``);
* ``FPNet`` — :func:`~solarray.pipeline.forecast_stage.forecast` on batched samples.

Each loads its roles in ``reconfigure`` from its ``user_config`` (``checkpoints``,
``checkpoint_dir``, ``untrained_channels``, ``untrained_preset``, ``allow_untrained``,
``fail_replica_on_load_error``, batching), so ``serve/config.yaml`` changes models without code
changes.

Truthful status: a configured checkpoint that cannot be read stops the replica from starting
(``fail_replica_on_load_error``, default true: Serve reports the deployment failed, with the path)
— it never becomes an untrained model; set it false to keep the replica up and answer 503 instead.
A role served by an untrained stand-in (no checkpoint configured, or the demo's unreadable) is
``degraded`` in :meth:`_ModelStage.status` unless ``allow_untrained: true``.
"""

# No `from __future__ import annotations`, as in the ingress: Serve wraps these methods.
import asyncio
import logging
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import numpy as np
from ray import serve

from solarray.core.frame_header import sample_frame_header
from solarray.pipeline.analysis_stage import analyse
from solarray.pipeline.config import CycleConfig
from solarray.pipeline.flare_history import FlareHistory, FlareSourceError
from solarray.pipeline.forecast_stage import forecast
from solarray.pipeline.model_set import UNTRAINED_CHANNELS, ModelLoadError, load_models
from solarray.pipeline.perception import Perception, perceive
from solarray.pipeline.sample import Sample

log = logging.getLogger("ray.serve")

#: Deployment names (solarray.ops.placement.JOB_REQUESTS and k8s/rayservice-forecaster.yaml use them).
SPNET, IATOOLS, FPNET, INGRESS = "SPNet", "IATools", "FPNet", "Forecaster"
DEPLOYMENTS = (SPNET, IATOOLS, FPNET, INGRESS)


def degraded_reasons(deployment: str, roles: Mapping[str, Any]) -> list[str]:
    """``"<deployment>/<role>: <reason>"`` for each role a stage's ``status()`` reports as
    degraded."""
    return [f"{deployment}/{r}: {m['degraded']}" for r, m in roles.items()
            if isinstance(m, Mapping) and m.get("degraded")]


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
        self.fail_replica_on_load_error = True

    def _load(self, config: Mapping[str, Any]) -> None:
        cfg = dict(config or {})
        paths = {r: (cfg.get("checkpoints") or {}).get(r) for r in self.roles}
        self.models = load_models(
            paths, roles=self.roles, checkpoint_dir=cfg.get("checkpoint_dir"),
            channels=tuple(cfg.get("untrained_channels", UNTRAINED_CHANNELS)),
            untrained_preset=cfg.get("untrained_preset", "tiny"),
            allow_untrained=bool(cfg.get("allow_untrained", False)))
        self.fail_replica_on_load_error = bool(cfg.get("fail_replica_on_load_error", True))
        self.config = cfg
        errors = self.models.errors()
        if errors and self.fail_replica_on_load_error:
            # Fail fast: Serve marks the deployment failed with this message (the paths).
            raise ModelLoadError(f"{type(self).__name__}: configured checkpoint(s) cannot be "
                                 "loaded — " + "; ".join(f"{r}: {e}" for r, e in errors.items()))
        for role, why in self.models.degraded().items():
            log.warning("%s: %s is DEGRADED: %s (set allow_untrained: true to accept it)",
                        type(self).__name__, role, why)

    def status(self) -> dict[str, Any]:
        """Model descriptions of this replica (``/v1/models``, ``/v1/health``): each role's
        ``degraded`` says why it serves a stand-in (absent when trained or allowed)."""
        degraded = self.models.degraded()
        out = {r: lm.describe() for r, lm in self.models.roles.items()}
        for r, why in degraded.items():
            out[r]["degraded"] = why
        return out

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


@serve.deployment(name=SPNET, max_constructor_retry_count=3,
                  max_ongoing_requests=16, user_config={},
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
        """``Sample`` → (:class:`~solarray.pipeline.perception.Perception`, seconds, batch size)."""
        spnet = self.models.get("spnet")
        t0 = time.perf_counter()
        thr = None if threshold[0] is None else float(threshold[0])
        out = await asyncio.to_thread(perceive, spnet, samples, thr)
        dt = time.perf_counter() - t0
        return [(p, dt, len(samples)) for p in out]


#: Observation time of the IATools warm-up sample.
_WARM_UP_TIME = datetime(2024, 1, 1)


@serve.deployment(name=IATOOLS, max_constructor_retry_count=3,
                  max_ongoing_requests=4, user_config={},
                  ray_actor_options={"num_cpus": 1})
class IAToolsDeployment(_ModelStage):
    """Entities, coordinates, parameters, classes and flare history for one sample."""

    roles = ("hale", "mcintosh")

    def __init__(self) -> None:
        super().__init__()
        self.history = None
        self.history_error: str | None = None

    def reconfigure(self, config: dict) -> None:
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
        n = 64
        s = Sample(np.zeros((1, n, n), np.float32), ("hmi_m",), _WARM_UP_TIME,
                   sample_frame_header(n, _WARM_UP_TIME))
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

    async def analyse(self, sample, perception, cycle: dict, fallback: bool = False) -> tuple:
        """(:class:`~solarray.pipeline.analysis_stage.Analysis`, seconds); ``fallback``: FPNet
        will not forecast this (degraded) observation, so the full-disk fallback is computed
        here, where the flare history is."""
        if self.history_error:
            raise RuntimeError(f"flare history not loaded: {self.history_error}")
        cfg = CycleConfig(**cycle)
        t0 = time.perf_counter()
        a = await asyncio.to_thread(
            analyse, sample, perception, hale=self.models.optional("hale"),
            mcintosh=self.models.optional("mcintosh"), history=self.history, config=cfg,
            fallback=fallback)
        return a, time.perf_counter() - t0


@serve.deployment(name=FPNET, max_constructor_retry_count=3,
                  max_ongoing_requests=16, user_config={},
                  ray_actor_options={"num_cpus": 1})
class FPNetDeployment(_ModelStage):
    """Full-disk and per-AR flare probabilities (batched)."""

    roles = ("fpnet_full_disk", "fpnet_ar")

    def reconfigure(self, config: dict) -> None:
        self._load(config)
        _batch_settings(self.predict, self.config)

    @serve.batch(max_batch_size=4, batch_wait_timeout_s=0.01)
    async def predict(self, samples: list, analyses: list, max_regions: list) -> list:
        """(Sample, Analysis) → (:class:`~solarray.pipeline.forecast_stage.Forecast`, seconds,
        batch size)."""
        for role in self.roles:  # a failed configured checkpoint is an error, not "no model"
            self.models.get(role)
        t0 = time.perf_counter()
        out = await asyncio.to_thread(forecast, self.models.optional("fpnet_full_disk"),
                                      self.models.optional("fpnet_ar"), samples, analyses,
                                      int(max_regions[0]))
        dt = time.perf_counter() - t0
        return [(f, dt, len(samples)) for f in out]


__all__ = ["DEPLOYMENTS", "FPNET", "FPNetDeployment", "IATOOLS", "INGRESS", "IAToolsDeployment",
           "SPNET", "SPNetDeployment", "degraded_reasons"]
