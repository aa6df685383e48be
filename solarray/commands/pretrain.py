"""``solarray pretrain``: train a backbone from Parquet shards with Ray Train (resumable by name)."""

from __future__ import annotations

import argparse

from solarray.core.errors import UsageError
from solarray.models import get_model_class, list_models
from solarray.train.config import TrainConfig, load_config_file
from solarray.train.data_size import with_image_size
from solarray.train.pretraining import run_pretraining

NAME = "pretrain"
HELP = "pretrain a backbone (e.g. SolarCHIP) on Parquet shards with Ray Train; resumes by run name"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument("--data", help="directory of ingest's Parquet shards")
    src.add_argument("--toy", type=int, metavar="N",
                     help="smoke run on N generated toy AIA/HMI samples instead of --data "
                          "(checks a cluster and the loop without any data)")
    parser.add_argument("--model", default=None, help="registered model name (default solarchip_vit)")
    parser.add_argument("--preset", default=None, help="model size preset: tiny | paper")
    parser.add_argument("--config", default=None,
                        help="YAML/JSON file of TrainConfig keys (flags given here override it)")
    parser.add_argument("--workers", "--num-workers", type=int, default=None, dest="workers",
                        help="Ray Train workers (0 = run in this process)")
    parser.add_argument("--gpu", "--use-gpu", action="store_true", default=None, dest="gpu",
                        help="one GPU per worker")
    parser.add_argument("--cpus-per-worker", type=float, default=None,
                        help="CPUs reserved per worker (leave some for Ray Data)")
    parser.add_argument("--steps", type=int, default=None, help="total optimiser steps")
    parser.add_argument("--batch-size", type=int, default=None, help="per-worker batch size")
    parser.add_argument("--lr", type=float, default=None, help="peak AdamW learning rate")
    parser.add_argument("--checkpoint-every", type=int, default=None, help="steps between checkpoints")
    parser.add_argument("--report-every", type=int, default=None, help="steps between metric reports")
    parser.add_argument("--max-failures", type=int, default=None,
                        help="worker-group restarts allowed, each resuming from the last checkpoint "
                             "(default: 0 on one node, 3 on a multi-node cluster)")
    parser.add_argument("--no-reuse-worker", action="store_const", const=False, default=None,
                        dest="reuse_worker",
                        help="one worker on a running single-node cluster: start a Ray Train run "
                             "instead of this node's warm trainer (which a one-worker run "
                             "otherwise starts or reuses; it stays warm_idle_s seconds for the "
                             "next command)")
    parser.add_argument("--run-name", "--name", default=None, dest="run_name",
                        help="run name; reusing it with the same --storage resumes the run")
    parser.add_argument("--storage", "--storage-path", default=None, dest="storage",
                        help="Ray Train storage path (default ./ray_results)")
    parser.add_argument("--masking", default=None, choices=("random", "ppam", "latitude"),
                        help="MAE masking strategy (models with a masking config, e.g. mae_vit)")
    parser.add_argument("--mask-ratio", type=float, default=None,
                        help="MAE fraction of patches masked, in [0, 1)")
    parser.add_argument("--image-size", type=int, default=None,
                        help="model input size in pixels (default: the shards' image size; another "
                             "size is refused before training starts)")
    parser.add_argument("--channels", default=None,
                        help="comma-separated subset of the shards' channels to train on")
    parser.add_argument("--no-split", action="store_true",
                        help="train on every sample instead of the time-split training part")


_FLAG_TO_FIELD = {
    "model": "model", "workers": "num_workers", "gpu": "use_gpu",
    "cpus_per_worker": "cpus_per_worker", "steps": "steps", "batch_size": "batch_size",
    "lr": "lr", "checkpoint_every": "checkpoint_every", "report_every": "report_every",
    "max_failures": "max_failures", "run_name": "run_name", "storage": "storage_path",
    "reuse_worker": "reuse_worker",
}


def build_config(args: argparse.Namespace):
    """Defaults < ``--config`` file < explicit flags → a validated :class:`TrainConfig`."""
    values: dict = {}
    if args.config:
        try:
            values = load_config_file(args.config)
        except (OSError, ValueError) as err:
            raise UsageError(f"--config: {err}") from None
    for flag, field_name in _FLAG_TO_FIELD.items():
        value = getattr(args, flag)
        if value is not None:
            values[field_name] = value
    if args.preset is not None:
        mc = dict(values.get("model_config") or {})
        mc["preset"] = args.preset
        values["model_config"] = mc
    size = getattr(args, "image_size", None)
    if size is not None:
        if size < 8:
            raise UsageError(f"--image-size must be a positive number of pixels ≥ 8, got {size}")
        model = values.get("model", TrainConfig.model)
        if model in list_models():  # an unknown model is reported below
            values["model_config"] = with_image_size(model, values.get("model_config") or {}, size)
    channels = getattr(args, "channels", None)
    if channels:
        values["channels"] = [c.strip() for c in channels.split(",") if c.strip()]
    masking = {k: v for k, v in (("strategy", getattr(args, "masking", None)),
                                 ("ratio", getattr(args, "mask_ratio", None))) if v is not None}
    if masking:
        mc = dict(values.get("model_config") or {})
        mc["masking"] = {**dict(mc.get("masking") or {}), **masking}
        values["model_config"] = mc
    for flag, field_name, low in (("--workers", "num_workers", 0), ("--steps", "steps", 1),
                                  ("--batch-size", "batch_size", 1),
                                  ("--max-failures", "max_failures", 0),
                                  ("--checkpoint-every", "checkpoint_every", 1)):
        v = values.get(field_name)
        if v is not None and (not isinstance(v, int) or v < low):
            raise UsageError(f"{flag} must be an integer >= {low}, got {v!r}")
    try:
        cfg = TrainConfig.from_dict(values, source=args.config or "command line")
    except (TypeError, ValueError) as err:
        raise UsageError(str(err)) from None
    if cfg.model not in list_models():
        raise UsageError(f"--model: unknown model {cfg.model!r}; known: {', '.join(list_models())}")
    if masking:
        if "masking" not in get_model_class(cfg.model).config_class.__dataclass_fields__:
            raise UsageError(f"--masking/--mask-ratio: model {cfg.model!r} has no masking "
                             "(use a masked autoencoder such as mae_vit)")
        ratio = masking.get("ratio")
        if ratio is not None and not 0.0 <= ratio < 1.0:
            raise UsageError(f"--mask-ratio must be in [0, 1), got {ratio}")
    return cfg


def execute(args: argparse.Namespace):
    """Parse into a :class:`TrainConfig`, :func:`run_pretraining` (check, Ray, train), print the
    final losses; → ``FitResult``."""
    cfg = build_config(args)
    result = run_pretraining(cfg, data=args.data, toy=args.toy, split=not args.no_split)
    if result.metrics:
        shown = {k: round(v, 4) for k, v in result.metrics.items()
                 if k.startswith("loss") and isinstance(v, float)}
        print(f"Final metrics: {shown}")
    return result


def run(args: argparse.Namespace) -> int:
    execute(args)
    return 0
