"""``solarray embed``: class-token embeddings of every sample to Parquet (Ray Data inference)."""

from __future__ import annotations

import argparse

from solarray.core.checkpoints import model_file as checkpoint_file
from solarray.core.errors import UsageError
from solarray.core.paths import require_out_file
from solarray.core.ray_connect import connect
from solarray.data import dataset as data_api
from solarray.data.dataset import require_channels, shard_channels
from solarray.models.registry import load_checkpoint
from solarray.train.embed import embed_dataset, write_parquet_file

NAME = "embed"
HELP = "write per-sample class-token embeddings of a checkpointed model to a Parquet file"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--checkpoint", required=True,
                        help="model.pt, or a training checkpoint directory containing it")
    parser.add_argument("--data", required=True, help="directory of ingest's Parquet shards")
    parser.add_argument("--out", required=True, help="output Parquet file")
    parser.add_argument("--batch-size", type=int, default=32, help="samples per inference batch")
    parser.add_argument("--actors", type=int, default=1, help="inference actors (model copies)")
    parser.add_argument("--gpu", action="store_true", help="one GPU per actor")


def run(args: argparse.Namespace) -> int:
    if args.batch_size <= 0:
        raise UsageError(f"--batch-size must be a positive integer, got {args.batch_size}")
    if args.actors <= 0:
        raise UsageError(f"--actors must be a positive integer, got {args.actors}")
    model_file = str(checkpoint_file(args.checkpoint))
    model = load_checkpoint("--checkpoint", args.checkpoint, ())
    channels = shard_channels("--data", args.data)
    model_channels = getattr(getattr(model, "config", None), "channels", None)
    if model_channels:
        require_channels("--checkpoint", model_channels, channels, f"the shards in {args.data}")
    require_out_file("--out", args.out)
    del model  # the inference actors load their own copies

    connect()
    ds = data_api.read_shards(args.data)
    emb = embed_dataset(ds, model_file, channels, batch_size=args.batch_size,
                        num_actors=args.actors, use_gpu=args.gpu)
    rows = write_parquet_file(emb, args.out)
    print(f"Wrote {rows} embeddings from {model_file} to {args.out}")
    return 0
