"""Offline checks of a Ray Serve config (``serve/config.yaml``, a RayService's serveConfigV2) and
the resources its deployments request at their maximum replica counts."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import yaml

from solarray.ops.fields import as_int, as_list, as_mapping, numeric_resources
from solarray.ops.placement import Request
from solarray.ops.versions import runtime_env_problems


def serve_requests(serve_config: Mapping) -> tuple[Request, ...]:
    """Resource requests of a Serve config (``serve build`` output / serveConfigV2) at max size."""
    out = []
    for app in as_list(serve_config.get("applications")):
        for d in as_list(as_mapping(app).get("deployments")):
            d = as_mapping(d)
            opts = numeric_resources(d.get("ray_actor_options"))
            bundle = {"CPU": opts.get("num_cpus", 1.0)}  # Serve's default is 1 CPU per replica
            if opts.get("num_gpus"):
                bundle["GPU"] = opts["num_gpus"]
            auto = as_mapping(d.get("autoscaling_config"))
            count = as_int(auto.get("max_replicas", d.get("num_replicas", 1))) or 1
            out.append(Request(f"{as_mapping(app).get('name')}/{d.get('name')} replica", bundle, count))
    return tuple(out)


def validate_serve_config(text: Any, where: str, ray_version: str) -> tuple[list[str], tuple]:
    """(problems, :func:`serve_requests`) of a Serve config given as YAML text: applications with
    a ``module:attribute`` import path, pinned runtime envs, no options Serve removed, and
    autoscaling bounds in order."""
    if not isinstance(text, str):
        return [f"{where}: expected a YAML string (use `|`)"], ()
    try:
        cfg = yaml.safe_load(text) or {}
    except yaml.YAMLError as err:
        return [f"{where}: not valid YAML: {err}"], ()
    problems = []
    apps = cfg.get("applications") if isinstance(cfg, Mapping) else None
    if not apps:
        return [f"{where}.applications: no Serve applications"], ()
    for i, app in enumerate(as_list(apps)):
        at = f"{where}.applications[{i}]"
        if not isinstance(app, Mapping):
            problems.append(f"{at}: expected a mapping")
            continue
        if not re.match(r"^[\w.]+:[\w]+$", str(app.get("import_path", ""))):
            problems.append(f"{at}.import_path: expected 'module.path:app', got {app.get('import_path')!r}")
        if "runtime_env" in app:
            problems += runtime_env_problems(app["runtime_env"], f"{at}.runtime_env", ray_version)
        for j, d in enumerate(as_list(app.get("deployments"))):
            d = as_mapping(d)
            if not d.get("name"):
                problems.append(f"{at}.deployments[{j}]: name is missing")
            auto = as_mapping(d.get("autoscaling_config"))
            for key in ("max_concurrent_queries", "target_num_ongoing_requests_per_replica"):
                if key in d or key in auto:
                    problems.append(f"{at}.deployments[{j}]: {key!r} was removed from Serve")
            lo, hi = auto.get("min_replicas", 1), auto.get("max_replicas", 1)
            if not (isinstance(lo, int) and isinstance(hi, int)) or lo > hi:
                problems.append(f"{at}.deployments[{j}].autoscaling_config: min_replicas > max_replicas")
    return problems, serve_requests(cfg)


__all__ = ["serve_requests", "validate_serve_config"]
