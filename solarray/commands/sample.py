"""``solarray sample``: decode N(0, I) latents of a sigma-VAE to synthetic Suns (FITS per sample
and channel, plus one PNG grid per channel)."""

from __future__ import annotations

import argparse

from solarray.compress.codec import load_vae
from solarray.compress.fits_out import write_fits_images, write_png_grids
from solarray.compress.report import sample_images
from solarray.core.atomic import staged_dir
from solarray.core.errors import UsageError
from solarray.core.paths import require_out_dir

NAME = "sample"
HELP = "generate synthetic Suns from a sigma_vae's latent prior (FITS + PNG grid per channel)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--checkpoint", required=True, help="sigma_vae checkpoint")
    parser.add_argument("--n", type=int, default=16, help="number of samples (default 16)")
    parser.add_argument("--out", required=True, help="output directory")
    parser.add_argument("--seed", type=int, default=0, help="seed of the latent draws")


def run(args: argparse.Namespace) -> int:
    if args.n < 1:
        raise UsageError(f"--n must be a positive integer, got {args.n}")
    require_out_dir("--out", args.out)
    try:
        model, digest = load_vae(args.checkpoint)
    except ValueError as err:
        raise UsageError(f"--checkpoint: {err}") from None
    c = model.config
    images = sample_images(model, args.n, args.seed)
    ids = [f"sample_s{args.seed}_{i:04d}" for i in range(args.n)]
    with staged_dir(args.out) as stage:  # all files or none
        fits_paths = write_fits_images(stage, images, c.channels, ids,
                                       origin=f"sampled from N(0,I) by sigma_vae@{digest}")
        pngs = write_png_grids(stage, images, c.channels)
    print(f"Wrote {len(fits_paths)} FITS files and {len(pngs)} PNG grids to {args.out}")
    return 0
