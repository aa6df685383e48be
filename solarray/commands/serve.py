"""``solarray serve``: run the forecaster (Ray Serve) on this machine until Ctrl-C or SIGTERM.

Reads the same ``serve/config.yaml`` as ``serve deploy`` (or the built-in options: each
deployment's resource request from the code) and fits it to the local machine: GPU requests are
dropped when Ray sees no GPU and CPU requests are scaled down so that every deployment's minimum
replicas fit (autoscaling is then capped at the minimum). Configured checkpoints that are local
paths must exist (a one-line error otherwise; ``--checkpoint-dir`` replaces them). Replicas that
are not placed within ``--placement-timeout`` seconds are named and the command exits 1; SIGTERM
stops it at any point.
"""

from __future__ import annotations

import argparse
import copy
import signal
import threading
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
    default_options,
    options_from_config,
)

NAME = "serve"
HELP = "run the flare forecaster HTTP service locally (Ray Serve) until Ctrl-C / SIGTERM"

DEFAULT_CONFIG = "serve/config.yaml"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default=None, help="bind address (default 127.0.0.1, or the config's)")
    p.add_argument("--port", type=int, default=None, help="port (default 8000, or the config's)")
    p.add_argument("--config", default=None,
                   help=f"Serve config file (default: {DEFAULT_CONFIG} if present, else built-in)")
    p.add_argument("--checkpoint-dir", default=None,
                   help="directory of spnet.pt, fpnet_*.pt, hale.pt, mcintosh.pt (replaces the "
                        "config's checkpoints; default ~/.solarray/demo/checkpoints, as "
                        "`solarray demo` writes)")
    p.add_argument("--allow-untrained", action="store_true",
                   help="serve tiny untrained stand-ins for missing checkpoints without "
                        "reporting 'degraded' (a try-out; GET /v1/health is 503 otherwise)")
    p.add_argument("--placement-timeout", type=float, default=120.0,
                   help="seconds to wait for every replica to start; then name the ones that "
                        "did not and exit 1 (default 120)")
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


def with_defaults(options: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Every deployment's options, its resource request from the code where none is given."""
    out = {k: dict(v) for k, v in options.items()}
    for name, d in default_options().items():
        o = out.setdefault(name, {})
        o.setdefault("ray_actor_options", d["ray_actor_options"])
    return out


def check_checkpoints(opts: Mapping[str, Mapping[str, Any]], source: str) -> None:
    """A configured checkpoint that is a local path must exist (URIs are read by the replica,
    which fails to start when it cannot)."""
    for name, o in opts.items():
        for role, path in ((o.get("user_config") or {}).get("checkpoints") or {}).items():
            if path and "://" not in str(path) and not Path(str(path)).expanduser().exists():
                raise UsageError(
                    f"{source}: {name} checkpoints.{role}: {path} does not exist — set it to your "
                    f"trained checkpoint, or pass --checkpoint-dir DIR (e.g. "
                    f"~/.solarray/demo/checkpoints after `solarray demo`), or remove the "
                    f"checkpoints and pass --allow-untrained for a try-out")


def _apply_arguments(args: argparse.Namespace, opts: dict) -> None:
    models = (SPNET, IATOOLS, FPNET)
    if args.checkpoint_dir:
        for name in models:
            uc = _user_config(opts, name)
            uc["checkpoint_dir"] = str(Path(args.checkpoint_dir).expanduser())
            uc.pop("checkpoints", None)
    if args.allow_untrained:
        for name in models:
            _user_config(opts, name)["allow_untrained"] = True
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


def _read_config(args: argparse.Namespace) -> tuple[str | None, dict[str, Any]]:
    path = args.config or (DEFAULT_CONFIG if Path(DEFAULT_CONFIG).exists() else None)
    if not path:
        return None, {}
    try:
        return path, yaml.safe_load(Path(path).read_text()) or {}
    except FileNotFoundError:
        raise UsageError(f"--config {path}: no such file") from None
    except (yaml.YAMLError, UnicodeDecodeError) as err:
        raise UsageError(f"--config {path}: not valid YAML ({err})") from None


def _check_arguments(args: argparse.Namespace) -> None:
    if args.port is not None and not 0 < args.port < 65536:
        raise UsageError(f"--port must be in 1..65535, got {args.port}")
    if args.size is not None and not 16 <= args.size <= 4096:
        raise UsageError(f"--size must be in 16..4096 pixels, got {args.size}")
    if args.num_cpus is not None and args.num_cpus < 1:
        raise UsageError(f"--num-cpus must be ≥ 1, got {args.num_cpus}")
    if not args.placement_timeout > 0:
        raise UsageError(f"--placement-timeout must be > 0 seconds, got {args.placement_timeout}")
    for flag, value in (("--checkpoint-dir", args.checkpoint_dir), ("--goes", args.goes)):
        if value and not Path(value).expanduser().exists():
            raise UsageError(f"{flag} {value}: no such file or directory")
    for root in args.dataset_root:
        if not Path(root).expanduser().is_dir():
            raise UsageError(f"--dataset-root {root}: no such directory")


def unplaced(serve, app: str = "forecaster") -> list[str]:
    """``"<deployment> (<status>: <message>)"`` for each deployment of ``app`` not yet healthy."""
    try:
        st = serve.status().applications.get(app)
    except Exception as err:  # noqa: BLE001 - the controller itself may be unreachable
        return [f"status unavailable ({type(err).__name__}: {err})"]
    if st is None:
        return [f"application {app!r} not found"]
    out = []
    for name, d in st.deployments.items():
        status = str(getattr(d.status, "value", d.status))
        if status != "HEALTHY":
            out.append(f"{name} ({status}: {(d.message or '').strip()[-1500:]})")
    return out


def run(args: argparse.Namespace) -> int:
    _check_arguments(args)
    path, cfg = _read_config(args)
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
    _apply_arguments(args, opts)
    check_checkpoints(opts, f"--config {path}" if path else "built-in options")
    opts = with_defaults(opts)

    stop = threading.Event()

    def _term(signum, frame):  # SIGTERM stops like Ctrl-C, whatever the service is waiting for
        stop.set()

    previous = signal.signal(signal.SIGTERM, _term)
    try:
        return _serve(args, opts, path, host, port, http, stop, _term)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _serve(args: argparse.Namespace, opts: dict, path: str | None, host: str, port: int,
           http: Mapping[str, Any], stop: threading.Event, on_term) -> int:
    # Joins $RAY_ADDRESS (or the job's cluster) if set, else starts a local instance.
    ray = connect(num_cpus=args.num_cpus, log_to_driver=True, quiet=False)
    signal.signal(signal.SIGTERM, on_term)  # ray.init installs its own (abort) handler
    from ray import serve

    res = ray.cluster_resources()
    opts, notes = fit_to_resources(opts, res.get("CPU", 1.0), res.get("GPU", 0.0))
    for n in notes:
        print(f"solarray serve: {n}")
    print(f"solarray serve: starting on http://{host}:{port} (config: {path or 'built-in'}) …",
          flush=True)
    status = 0
    try:
        serve.start(http_options={"host": host, "port": port,
                                  "request_timeout_s": http.get("request_timeout_s", 120)})
        status = _deploy_and_wait(serve, build_app(opts), args.placement_timeout, stop,
                                  res.get("CPU", 0.0))
        if status == 0:
            print(f"solarray serve: ready — http://{host}:{port}/ (API docs /docs); Ctrl-C or "
                  "SIGTERM to stop", flush=True)
            while not stop.wait(0.5):
                pass
    except KeyboardInterrupt:
        pass
    finally:
        print("solarray serve: shutting down", flush=True)
        serve.shutdown()
        ray.shutdown()
    return status


def _deploy_and_wait(serve, app, timeout_s: float, stop: threading.Event, cpus: float) -> int:
    """Deploy in a helper thread; 0 when running, 1 when it failed or did not place its replicas
    within ``timeout_s``; 0 as well when ``stop`` is set meanwhile (SIGTERM)."""
    outcome: dict[str, BaseException | None] = {}

    def deploy() -> None:
        try:
            serve.run(app, name="forecaster", route_prefix="/")
            outcome["error"] = None
        except BaseException as err:  # noqa: BLE001 - reported by the main thread
            outcome["error"] = err

    threading.Thread(target=deploy, name="serve-deploy", daemon=True).start()
    deadline = time.monotonic() + timeout_s
    while not stop.wait(0.5):
        if "error" in outcome:
            if outcome["error"] is None:
                return 0
            print(f"solarray serve: error: the service failed to start: "
                  f"{str(outcome['error']).strip()[:500]} — {'; '.join(unplaced(serve))}",
                  flush=True)
            return 1
        if time.monotonic() > deadline:
            waiting = unplaced(serve)
            print(f"solarray serve: error: replicas not running after {timeout_s:g} s: "
                  f"{'; '.join(waiting) or 'unknown'} — this machine has "
                  f"{cpus:g} CPUs; lower the deployments' num_cpus or raise "
                  "--placement-timeout", flush=True)
            return 1
    return 0
