"""The forecaster (Ray Serve) on this machine until Ctrl-C or SIGTERM: what ``solarray serve``
runs (:func:`serve_locally`).

Without a config it serves the checkpoints ``solarray demo`` leaves
(:func:`solarray.core.checkpoints.default_checkpoint_dir`) with built-in options (each
deployment's resource request from the code); ``checkpoint_dir`` names another directory of the
same files, and ``config`` a Serve config file (``serve/config.yaml`` is the cluster's, for
``serve deploy``; read here only when named). Everything is decided before Ray starts
(:func:`resolve`): configured checkpoints that are local paths must exist and a checkpoint
directory must hold every role's file (:mod:`solarray.serve.checkpoints`), unless untrained
stand-ins are allowed; then the options are fitted to the local machine
(:func:`solarray.serve.resources.fit_to_resources`). Replicas that are not placed within
``placement_timeout`` seconds are named and the run ends with status 1; SIGTERM stops it at any
point.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from solarray.core.checkpoints import default_checkpoint_dir
from solarray.core.errors import UsageError
from solarray.core.ray_connect import connect
from solarray.serve.app import (
    DEPLOYMENTS,
    FPNET,
    IATOOLS,
    INGRESS,
    MODEL_ROLES,
    SPNET,
    build_app,
    options_from_config,
)
from solarray.serve.checkpoints import check_checkpoint_dir, check_checkpoints
from solarray.serve.resources import fit_to_resources, with_defaults


@dataclass
class LocalServe:
    """The settings of a local service (the flags of ``solarray serve``; ``None``: the config's
    value, else the default)."""

    host: str | None = None
    port: int | None = None
    config: str | None = None  # a Serve config file; default: built-in options
    checkpoint_dir: str | None = None  # default without a config: the demo's checkpoints
    allow_untrained: bool = False
    placement_timeout: float = 120.0
    goes: str | None = None
    dataset_roots: Sequence[str] = ()
    size: int | None = None
    store: str | None = None
    num_cpus: int | None = None

    def check(self) -> None:
        """UsageError naming the flag of the first value out of range or path missing."""
        if self.port is not None and not 0 < self.port < 65536:
            raise UsageError(f"--port must be in 1..65535, got {self.port}")
        if self.size is not None and not 16 <= self.size <= 4096:
            raise UsageError(f"--size must be in 16..4096 pixels, got {self.size}")
        if self.num_cpus is not None and self.num_cpus < 1:
            raise UsageError(f"--num-cpus must be ≥ 1, got {self.num_cpus}")
        if not self.placement_timeout > 0:
            raise UsageError(f"--placement-timeout must be > 0 seconds, got {self.placement_timeout}")
        for flag, value in (("--checkpoint-dir", self.checkpoint_dir), ("--goes", self.goes)):
            if value and not Path(value).expanduser().exists():
                raise UsageError(f"{flag} {value}: no such file or directory")
        for root in self.dataset_roots:
            if not Path(root).expanduser().is_dir():
                raise UsageError(f"--dataset-root {root}: no such directory")


def _user_config(opts: dict, name: str) -> dict:
    d = opts.setdefault(name, {})
    uc = dict(d.get("user_config") or {})
    d["user_config"] = uc
    return uc


def _apply_settings(s: LocalServe, opts: dict, checkpoint_dir: Path | None) -> None:
    models = (SPNET, IATOOLS, FPNET)
    if checkpoint_dir:
        for name in models:
            uc = _user_config(opts, name)
            uc["checkpoint_dir"] = str(checkpoint_dir)
            uc.pop("checkpoints", None)
    if s.allow_untrained:
        for name in models:
            _user_config(opts, name)["allow_untrained"] = True
    if s.goes:
        _user_config(opts, IATOOLS)["goes"] = {"xrs": str(Path(s.goes).expanduser())}
    if s.dataset_roots:
        uc = _user_config(opts, INGRESS)
        uc["dataset_roots"] = list(uc.get("dataset_roots") or []) + \
            [str(Path(r).expanduser().resolve()) for r in s.dataset_roots]
    if s.size:
        _user_config(opts, INGRESS)["size"] = s.size
    if s.store:
        _user_config(opts, INGRESS)["forecast_store"] = str(Path(s.store).expanduser().resolve())


def read_config(config: str | None) -> tuple[str | None, dict[str, Any]]:
    """(path, parsed YAML) of the Serve config file ``config``; ``(None, {})`` without one."""
    if not config:
        return None, {}
    try:
        return config, yaml.safe_load(Path(config).read_text()) or {}
    except FileNotFoundError:
        raise UsageError(f"--config {config}: no such file") from None
    except (yaml.YAMLError, UnicodeDecodeError) as err:
        raise UsageError(f"--config {config}: not valid YAML ({err})") from None


@dataclass
class Resolved:
    """What :func:`serve_locally` will run, decided before Ray starts."""

    source: str  # where the options come from, for messages: "--config FILE" or the defaults
    options: dict[str, dict[str, Any]]  # per deployment (not yet fitted to the machine)
    host: str
    port: int
    http: dict[str, Any]  # the config's http_options
    config: str | None  # the config file read, if any


def resolve(settings: LocalServe) -> Resolved:
    """The options of a local service from ``settings``: the config file's when one is named,
    else built-in ones serving the demo's checkpoints (``checkpoint_dir`` replaces either's).
    A one-line UsageError for a bad value or config, or checkpoints that are not there."""
    settings.check()
    path, cfg = read_config(settings.config)
    try:
        opts = options_from_config(cfg) if cfg.get("applications") else {}
    except (ValueError, KeyError, TypeError) as err:
        raise UsageError(f"--config {path}: {err}") from None
    unknown = sorted(set(opts) - set(DEPLOYMENTS))
    if unknown:
        raise UsageError(f"--config {path}: unknown deployments {unknown}; expected "
                         f"{list(DEPLOYMENTS)}")
    http = dict(cfg.get("http_options") or {})
    if settings.checkpoint_dir:
        ckdir, flag, kind = Path(settings.checkpoint_dir).expanduser(), "--checkpoint-dir", ""
    elif path is None:
        ckdir, flag, kind = default_checkpoint_dir(), "", "demo"
    else:
        ckdir, flag, kind = None, f"--config {path}", ""
    _apply_settings(settings, opts, ckdir)
    source = f"--config {path}" if path else "built-in options"
    check_checkpoints(opts, source)
    check_checkpoint_dir(opts, MODEL_ROLES, flag, kind)
    if ckdir:
        source += f", {kind + ' ' if kind else ''}checkpoints {ckdir}"
    return Resolved(source=source, options=with_defaults(opts),
                    host=settings.host or http.get("host") or "127.0.0.1",
                    port=settings.port or int(http.get("port", 8000)), http=http, config=path)


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


def serve_locally(settings: LocalServe) -> int:
    """:func:`resolve` ``settings`` (UsageError before Ray starts), then run the service until
    Ctrl-C or SIGTERM; → 0, or 1 when it failed to start or place its replicas."""
    r = resolve(settings)
    stop = threading.Event()

    def _term(signum, frame):  # SIGTERM stops like Ctrl-C, whatever the service is waiting for
        stop.set()

    previous = signal.signal(signal.SIGTERM, _term)
    try:
        return _serve(settings, r, stop, _term)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _serve(settings: LocalServe, r: Resolved, stop: threading.Event, on_term) -> int:
    # Joins $RAY_ADDRESS (or the job's cluster) if set, else starts a local instance.
    ray = connect(num_cpus=settings.num_cpus, log_to_driver=True, quiet=False)
    signal.signal(signal.SIGTERM, on_term)  # ray.init installs its own (abort) handler
    from ray import serve

    res = ray.cluster_resources()
    opts, notes = fit_to_resources(r.options, res.get("CPU", 1.0), res.get("GPU", 0.0))
    host, port = r.host, r.port
    for n in notes:
        print(f"solarray serve: {n}")
    print(f"solarray serve: starting on http://{host}:{port} ({r.source}) …",
          flush=True)
    status = 0
    try:
        serve.start(http_options={"host": host, "port": port,
                                  "request_timeout_s": r.http.get("request_timeout_s", 120)})
        status = _deploy_and_wait(serve, build_app(opts), settings.placement_timeout, stop,
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


__all__ = ["LocalServe", "Resolved", "read_config", "resolve", "serve_locally", "unplaced"]
