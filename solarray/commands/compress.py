"""``solarray compress``: encode every sample of ingest's shards with a sigma-VAE to a latents
Parquet (``t_obs``, ``sample_id``, ``mu_*``, ``logsigma_*``)."""

from __future__ import annotations

import argparse
import os

from solarray.compress.codec import compress_shards
from solarray.compress.latents import write_latents
from solarray.core.errors import UsageError
from solarray.core.paths import require_out_file
from solarray.data.dataset import require_shards
from solarray.models.registry import load_checkpoint

NAME = "compress"
HELP = "encode shards with a sigma_vae checkpoint to a latents Parquet (t_obs, mu, logsigma)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--checkpoint", required=True,
                        help="sigma_vae model.pt, or a training checkpoint directory")
    parser.add_argument("--data", required=True, help="directory of ingest's Parquet shards")
    parser.add_argument("--out", required=True, help="output latents Parquet file")
    parser.add_argument("--batch-size", type=int, default=32, help="samples per batch")
    parser.add_argument("--limit", type=int, default=None, help="only the first N samples")


def run(args: argparse.Namespace) -> int:
    if args.batch_size < 1 or (args.limit is not None and args.limit < 1):
        raise UsageError("--batch-size and --limit must be positive integers")
    require_shards("--data", args.data)
    require_out_file("--out", args.out)
    load_checkpoint("--checkpoint", args.checkpoint, "sigma_vae")  # channels: compress_shards
    try:
        latents = compress_shards(args.checkpoint, args.data, args.batch_size, args.limit)
    except (ValueError, FileNotFoundError) as err:
        raise UsageError(str(err)) from None
    write_latents(args.out, latents)
    mb = os.path.getsize(args.out) / 1e6
    print(f"Wrote {len(latents)} latents ({latents.mu.shape[1]} dims) from "
          f"sigma_vae@{latents.info['hash']} to {args.out} ({mb:.3f} MB)")
    return 0
