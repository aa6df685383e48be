"""``solarray serve``: run the forecaster (Ray Serve) on this machine until Ctrl-C or SIGTERM
(:func:`solarray.serve.local.serve_locally`).

Without ``--config`` it serves the checkpoints ``solarray demo`` left
(:func:`solarray.core.checkpoints.default_checkpoint_dir`) with built-in options (each
deployment's resource request from the code); ``--checkpoint-dir`` names another directory of the
same files, ``--config`` a Serve config file (``serve/config.yaml`` is the cluster's, for
``serve deploy``, and is read only when named). Either is fitted to the local machine: GPU
requests are dropped when Ray sees no GPU and CPU requests are scaled down so that every
deployment's minimum replicas fit (autoscaling is then capped at the minimum). Missing
checkpoints stop it before Ray starts with one line naming them (unless ``--allow-untrained``).
Replicas that are not placed within ``--placement-timeout`` seconds are named and the command
exits 1; SIGTERM stops it at any point.
"""

from __future__ import annotations

import argparse

from solarray.core.checkpoints import ROLE_FILES, default_checkpoint_dir
from solarray.core.frame import DEFAULT_GRID
from solarray.serve.local import LocalServe, serve_locally

NAME = "serve"
HELP = "run the flare forecaster HTTP service locally (Ray Serve) until Ctrl-C / SIGTERM"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default=None, help="bind address (default 127.0.0.1, or the config's)")
    p.add_argument("--port", type=int, default=None, help="port (default 8000, or the config's)")
    p.add_argument("--config", default=None,
                   help="Serve config file, e.g. serve/config.yaml with your checkpoints "
                        "(default: built-in options)")
    p.add_argument("--checkpoint-dir", default=None,
                   help=f"directory of {', '.join(ROLE_FILES.values())} (replaces the config's "
                        f"checkpoints; without --config the default is {default_checkpoint_dir()}"
                        ", where `solarray demo` writes them)")
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
    p.add_argument("--size", type=int, default=None, help=f"sample grid size in pixels ({DEFAULT_GRID})")
    p.add_argument("--store", default=None,
                   help="forecast store of `solarray watch` (its --out): history on the page and "
                        "GET /v1/forecasts, /v1/scores")
    p.add_argument("--num-cpus", type=int, default=None,
                   help="CPUs of the local Ray instance (default: all; ignored with RAY_ADDRESS)")


def run(args: argparse.Namespace) -> int:
    return serve_locally(LocalServe(
        host=args.host, port=args.port, config=args.config, checkpoint_dir=args.checkpoint_dir,
        allow_untrained=args.allow_untrained, placement_timeout=args.placement_timeout,
        goes=args.goes, dataset_roots=list(args.dataset_root), size=args.size, store=args.store,
        num_cpus=args.num_cpus))
