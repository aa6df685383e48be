"""The forecaster as one Ray Serve application: three model deployments behind a FastAPI ingress.

::

    HTTP ──► Forecaster (FastAPI ingress: validation, uploads → sample, results, map, HTML)
                 ├─► SPNet    (@serve.batch: segmentation of batched samples)
                 ├─► IATools  (entities, coordinates, magnetic parameters, classes, flare index)
                 └─► FPNet    (@serve.batch: full-disk and per-AR probabilities)

The stages are :mod:`solarray.pipeline` (no Ray); :mod:`solarray.serve.deployments` wraps them,
:mod:`solarray.serve.ingress` is the HTTP API. Each deployment reads its settings from its
``user_config`` (``reconfigure``), so ``serve/config.yaml`` sets checkpoints, GOES source, limits,
autoscaling and resources without code changes; :func:`build_app` applies the same per-deployment
options in code (tests, ``solarray serve``); ``serve/app.py`` at the repository root is the thin
import path ``serve.app:app``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from solarray.serve.deployments import (
    DEPLOYMENTS,
    FPNET,
    IATOOLS,
    INGRESS,
    SPNET,
    FPNetDeployment,
    IAToolsDeployment,
    SPNetDeployment,
)
from solarray.serve.ingress import Forecaster

#: The model roles each model deployment loads (file names: ``core.checkpoints.ROLE_FILES``).
MODEL_ROLES: dict[str, tuple[str, ...]] = {
    d.name: tuple(d.func_or_class.roles) for d in (SPNetDeployment, IAToolsDeployment,
                                                   FPNetDeployment)}

#: Deployment option keys ``build_app`` accepts per deployment (as in a Serve config file).
OPTION_KEYS = ("num_replicas", "autoscaling_config", "ray_actor_options", "user_config",
               "max_ongoing_requests", "max_queued_requests", "graceful_shutdown_wait_loop_s",
               "graceful_shutdown_timeout_s", "health_check_period_s", "health_check_timeout_s",
               "max_constructor_retry_count")


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


def default_options() -> dict[str, dict[str, Any]]:
    """Each deployment's resource request as the code declares it (``ray_actor_options``), so
    that built-in options can be fitted to a machine like a config file's."""
    classes = {SPNET: SPNetDeployment, IATOOLS: IAToolsDeployment, FPNET: FPNetDeployment,
               INGRESS: Forecaster}
    return {name: {"ray_actor_options": dict(d.ray_actor_options or {})}
            for name, d in classes.items()}


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


__all__ = ["DEPLOYMENTS", "FPNET", "IATOOLS", "INGRESS", "MODEL_ROLES", "OPTION_KEYS", "SPNET",
           "build_app", "default_options", "options_from_config"]
