"""``solarray serve``: run the forecaster (Ray Serve) on this machine until Ctrl-C.

Reads the same ``serve/config.yaml`` as ``serve deploy`` and fits it to the local machine: GPU
requests are dropped when Ray sees no GPU and CPU requests are scaled down so that every
deployment's minimum replicas fit (autoscaling is then capped at the minimum).
"""

from __future__ import annotations

import argparse
import copy
import signal
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from solarray.core.errors import UsageError
from solarray.core.ray_connect import connect
from solarray.serve.app import (
    DEPLOYMENTS,
    FPNET,
    IATOOLS,
    INGRESS,
    SPNET,
    build_app,
    options_from_config,
)

NAME = "serve"
HELP = "run the flare forecaster HTTP service locally (Ray Serve) until Ctrl-C"

DEFAULT_CONFIG = "serve/config.yaml"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default=None, help="bind address (default 127.0.0.1, or the config's)")
    p.add_argument("--port", type=int, default=None, help="port (default 8000, or the config's)")
    p.add_argument("--config", default=None,
                   help=f"Serve config file (default: {DEFAULT_CONFIG} if present, else built-in)")
    p.add_argument("--checkpoint-dir", default=None,
                   help="directory of spnet.pt, fpnet_*.pt, hale.pt, mcintosh.pt "
                        "(default ~/.solarray/demo/checkpoints, as `solarray demo` writes)")
    p.add_argument("--goes", default=None,
                   help="GOES flare history: an XRS file or a synthetic-Sun output directory")
    p.add_argument("--dataset-root", action="append", default=[],
                   help="directory JSON requests may name as 'dataset' (repeatable)")
    p.add_argument("--size", type=int, default=None, help="sample grid size in pixels (512)")
    p.add_argument("--store", default=None,
                   help="forecast store of `solarray watch` (its --out): history on the page and "
                        "GET /v1/forecasts, /v1/scores")
    p.add_argument("--num-cpus", type=int, default=None,
                   help="CPUs of the local Ray instance (default: all; ignored with RAY_ADDRESS)")


def fit_to_resources(options: Mapping[str, Mapping[str, Any]], cpus: float, gpus: float
                     ) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """Per-deployment options adjusted so that every deployment's minimum replicas fit into
    ``cpus``/``gpus``; returns ``(options, notes)``."""
    out = copy.deepcopy({k: dict(v) for k, v in options.items()})
    notes: list[str] = []
    need = 0.0
    for name, o in out.items():
        ao = dict(o.get("ray_actor_options") or {})
        if ao.get("num_gpus") and gpus <= 0:
            notes.append(f"{name}: no GPU here, dropping num_gpus={ao['num_gpus']}")
            ao.pop("num_gpus")
        o["ray_actor_options"] = ao
        auto = o.get("autoscaling_config") or {}
        n = int(auto.get("min_replicas", o.get("num_replicas", 1)) or 1)
        need += n * float(ao.get("num_cpus", 1.0))
    budget = max(cpus - 0.25, 0.5)  # leave room for Serve's controller and proxy
    if need > budget:
        f = budget / need
        notes.append(f"scaling CPU requests by {f:.2f} to fit {cpus:g} CPUs "
                     f"(minimum replicas need {need:g}); autoscaling capped at the minimum")
        for o in out.values():
            ao = o["ray_actor_options"]
            ao["num_cpus"] = round(max(float(ao.get("num_cpus", 1.0)) * f, 0.05), 3)
            auto = o.get("autoscaling_config")
            if auto:
                auto = dict(auto)
                auto["max_replicas"] = auto.get("min_replicas", 1)
                auto["initial_replicas"] = auto["max_replicas"]
                o["autoscaling_config"] = auto
    return out, notes


def _user_config(opts: dict, name: str) -> dict:
    d = opts.setdefault(name, {})
    uc = dict(d.get("user_config") or {})
    d["user_config"] = uc
    return uc


def run(args: argparse.Namespace) -> int:
    if args.port is not None and not 0 < args.port < 65536:
        raise UsageError(f"--port must be in 1..65535, got {args.port}")
    if args.size is not None and not 16 <= args.size <= 4096:
        raise UsageError(f"--size must be in 16..4096 pixels, got {args.size}")
    if args.num_cpus is not None and args.num_cpus < 1:
        raise UsageError(f"--num-cpus must be ≥ 1, got {args.num_cpus}")
    for flag, value in (("--checkpoint-dir", args.checkpoint_dir), ("--goes", args.goes)):
        if value and not Path(value).expanduser().exists():
            raise UsageError(f"{flag} {value}: no such file or directory")
    for root in args.dataset_root:
        if not Path(root).expanduser().is_dir():
            raise UsageError(f"--dataset-root {root}: no such directory")
    path = args.config or (DEFAULT_CONFIG if Path(DEFAULT_CONFIG).exists() else None)
    cfg: dict[str, Any] = {}
    if path:
        try:
            cfg = yaml.safe_load(Path(path).read_text()) or {}
        except FileNotFoundError:
            raise UsageError(f"--config {path}: no such file") from None
        except yaml.YAMLError as err:
            raise UsageError(f"--config {path}: not valid YAML ({err})") from None

    try:
        opts = options_from_config(cfg) if cfg.get("applications") else {}
    except (ValueError, KeyError, TypeError) as err:
        raise UsageError(f"--config {path}: {err}") from None
    unknown = sorted(set(opts) - set(DEPLOYMENTS))
    if unknown:
        raise UsageError(f"--config {path}: unknown deployments {unknown}; expected "
                         f"{list(DEPLOYMENTS)}")
    http = dict(cfg.get("http_options") or {})
    host = args.host or http.get("host") or "127.0.0.1"
    port = args.port or int(http.get("port", 8000))
    if args.checkpoint_dir:
        for name in (SPNET, IATOOLS, FPNET):
            _user_config(opts, name)["checkpoint_dir"] = str(Path(args.checkpoint_dir).expanduser())
    if args.goes:
        _user_config(opts, IATOOLS)["goes"] = {"xrs": str(Path(args.goes).expanduser())}
    if args.dataset_root:
        uc = _user_config(opts, INGRESS)
        uc["dataset_roots"] = list(uc.get("dataset_roots") or []) + \
            [str(Path(r).expanduser().resolve()) for r in args.dataset_root]
    if args.size:
        _user_config(opts, INGRESS)["size"] = args.size
    if args.store:
        _user_config(opts, INGRESS)["forecast_store"] = str(Path(args.store).expanduser().resolve())

    # Joins $RAY_ADDRESS (or the job's cluster) if set, else starts a local instance.
    ray = connect(num_cpus=args.num_cpus, log_to_driver=True, quiet=False)
    from ray import serve

    res = ray.cluster_resources()
    opts, notes = fit_to_resources(opts, res.get("CPU", 1.0), res.get("GPU", 0.0))
    for n in notes:
        print(f"solarray serve: {n}")
    print(f"solarray serve: starting on http://{host}:{port} (config: {path or 'built-in'}) …",
          flush=True)
    stop = {"flag": False}

    def _term(signum, frame):  # SIGTERM stops like Ctrl-C
        stop["flag"] = True

    signal.signal(signal.SIGTERM, _term)
    try:
        serve.start(http_options={"host": host, "port": port,
                                  "request_timeout_s": http.get("request_timeout_s", 120)})
        serve.run(build_app(opts), name="forecaster", route_prefix="/")
        print(f"solarray serve: ready — http://{host}:{port}/ (API docs /docs); Ctrl-C to stop",
              flush=True)
        while not stop["flag"]:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        print("solarray serve: shutting down", flush=True)
        serve.shutdown()
        ray.shutdown()
    return 0
