"""``solarray decompress``: decode a latents Parquet with its sigma-VAE to FITS images (physical
units; headers name the channel, time, frame and ``reconstructed by sigma_vae@<hash>``)."""

from __future__ import annotations

import argparse

from solarray.compress.codec import decode, load_vae
from solarray.compress.fits_out import write_fits_images
from solarray.compress.latents import read_latents
from solarray.core.atomic import staged_dir
from solarray.core.errors import UsageError
from solarray.core.paths import require_file, require_out_dir

NAME = "decompress"
HELP = "decode a latents Parquet with its sigma_vae checkpoint to FITS images"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--checkpoint", required=True,
                        help="the sigma_vae checkpoint that wrote the latents")
    parser.add_argument("--latents", required=True, help="latents Parquet from `solarray compress`")
    parser.add_argument("--out", required=True, help="output directory for FITS files")
    parser.add_argument("--limit", type=int, default=None, help="only the first N samples")
    parser.add_argument("--force", action="store_true",
                        help="decode even when the latents name another checkpoint hash")


def run(args: argparse.Namespace) -> int:
    require_file("--latents", args.latents)
    require_out_dir("--out", args.out)
    try:
        model, digest = load_vae(args.checkpoint)
    except ValueError as err:
        raise UsageError(f"--checkpoint: {err}") from None
    try:
        latents = read_latents(args.latents)
    except ValueError as err:  # not a latents table, or (pyarrow's ArrowInvalid) not Parquet
        raise UsageError(f"--latents: {' '.join(str(err).split())}") from None
    except Exception as err:  # pyarrow's other read errors
        raise UsageError(f"--latents: {args.latents} is not a latents Parquet from `solarray "
                         f"compress` ({' '.join(str(err).split())[:120]})") from None
    c = model.config
    if latents.mu.shape[1] != c.bottleneck:
        raise UsageError(f"--latents {args.latents}: {latents.mu.shape[1]} latent dimensions, the "
                         f"checkpoint decodes {c.bottleneck}")
    have = latents.info.get("hash")
    if have and have != digest and not args.force:
        raise UsageError(f"--latents {args.latents}: written by sigma_vae@{have}, not this "
                         f"checkpoint (sigma_vae@{digest}); pass --force to decode anyway")
    n = len(latents) if args.limit is None else min(args.limit, len(latents))
    images = decode(model, latents.mu[:n])
    with staged_dir(args.out) as stage:  # all files or none
        paths = write_fits_images(stage, images, c.channels, latents.sample_id[:n],
                                  origin=f"reconstructed by sigma_vae@{digest}",
                                  times=latents.t_obs[:n], frame=latents.info.get("frame"))
    print(f"Wrote {len(paths)} FITS files ({n} samples × {len(c.channels)} channels) "
          f"to {args.out}")
    return 0
