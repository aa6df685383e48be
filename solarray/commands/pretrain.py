"""``solarray pretrain``: train a backbone from Parquet shards with Ray Train (resumable by name)."""

from __future__ import annotations

import argparse

from solarray.commands._checks import (
    require_channels,
    require_dir,
    require_shards,
    require_split,
    shard_channels,
)
from solarray.core.errors import UsageError
from solarray.core.ray_connect import connect
from solarray.data.synthetic.toy import toy_dataset
from solarray.models import get_model_class, list_models
from solarray.train.config import TrainConfig, load_config_file
from solarray.train.loop import fit, pretrain, resolved_image_size

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
                        help="worker-group restarts allowed (resume from the last checkpoint)")
    parser.add_argument("--run-name", "--name", default=None, dest="run_name",
                        help="run name; reusing it with the same --storage resumes the run")
    parser.add_argument("--storage", "--storage-path", default=None, dest="storage",
                        help="Ray Train storage path (default ./ray_results)")
    parser.add_argument("--masking", default=None, choices=("random", "ppam", "latitude"),
                        help="MAE masking strategy (models with a masking config, e.g. mae_vit)")
    parser.add_argument("--mask-ratio", type=float, default=None,
                        help="MAE fraction of patches masked, in [0, 1)")
    parser.add_argument("--image-size", type=int, default=None,
                        help="model input size in pixels (the shards' size; presets assume 64)")
    parser.add_argument("--channels", default=None,
                        help="comma-separated subset of the shards' channels to train on")
    parser.add_argument("--no-split", action="store_true",
                        help="train on every sample instead of the time-split training part")


_FLAG_TO_FIELD = {
    "model": "model", "workers": "num_workers", "gpu": "use_gpu",
    "cpus_per_worker": "cpus_per_worker", "steps": "steps", "batch_size": "batch_size",
    "lr": "lr", "checkpoint_every": "checkpoint_every", "report_every": "report_every",
    "max_failures": "max_failures", "run_name": "run_name", "storage": "storage_path",
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
        values["model_config"] = {**dict(values.get("model_config") or {}), "image_size": size}
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
    """Validate, join or start Ray (:func:`solarray.core.ray_connect.connect`: the job's cluster
    inside ``ray job submit`` or ``$RAY_ADDRESS``, else a local Ray), train; → ``FitResult``."""
    if args.toy is not None and args.toy <= 0:
        raise UsageError(f"--toy must be a positive sample count, got {args.toy}")
    local = args.data is not None and "://" not in args.data
    if local:
        require_dir("--data", args.data)
    cfg = build_config(args)
    if local:
        require_shards("--data", args.data)
        if not args.no_split:
            check_training_split(args.data)
        if cfg.channels:
            require_channels("--channels", cfg.channels, shard_channels("--data", args.data),
                             f"the shards in {args.data}", "choose among the shards' channels")
    connect(quiet=False, log_to_driver=True)  # the loop fits the workers to its CPUs
    source = args.data if args.toy is None else f"{args.toy} toy samples"
    print(f"Pretraining {cfg.model} on {source} with {cfg.num_workers} worker(s), "
          f"{cfg.steps} steps")
    if args.toy is None:
        result = pretrain(cfg, args.data, split=not args.no_split)
    else:
        result = fit(*_toy_input(cfg, args.toy))
    if result.metrics:
        shown = {k: round(v, 4) for k, v in result.metrics.items()
                 if k.startswith("loss") and isinstance(v, float)}
        print(f"Final metrics: {shown}")
    return result


def check_training_split(data: str) -> None:
    """UsageError when the time split leaves no training sample (e.g. a week of January data:
    January is the test month, March validation), naming the fix."""
    require_shards("--data", data)
    require_split("--data", data, "train", "add data from other months or pass --no-split to "
                  "train on every sample")


def _toy_input(cfg, n: int):
    """(config with toy channels, Ray Dataset of ``n`` toy samples at the model's image size)."""
    channels = cfg.channels or ("aia171", "aia193", "aia304", "hmi_m")
    cfg = cfg.replace(channels=tuple(channels))
    return cfg, toy_dataset(n, channels, size=resolved_image_size(cfg), seed=cfg.seed)


def run(args: argparse.Namespace) -> int:
    execute(args)
    return 0
