"""``solarray forecast``: calibrated ≥M-flare probabilities from a trained FPNet checkpoint."""

from __future__ import annotations

import argparse
import os

import pandas as pd

from solarray.core.errors import UsageError
from solarray.core.paths import require_out_dir
from solarray.core.ray_connect import connect
from solarray.data.dataset import require_channels, shard_channels
from solarray.forecast.features import load_feature_table, table_for_mode, write_table
from solarray.forecast.frames import load_frames
from solarray.forecast.prediction import forecast, verify_table
from solarray.models.registry import load_checkpoint

NAME = "forecast"
HELP = ("≥M flare probabilities (next 24 h) per sample and per active region from an FPNet "
        "checkpoint")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--checkpoint", required=True, help="FPNet model.pt (or a checkpoint dir)")
    p.add_argument("--data", required=True, help="directory of ingest's Parquet shards")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--table", help="feature table (CSV/Parquet), as for train-fpnet")
    src.add_argument("--synthetic", help="synthetic-Sun output dir or forecasting-set root")
    p.add_argument("--out", required=True, help="output directory for per_sample.csv [per_ar.csv]")
    p.add_argument("--tolerance", type=float, default=6.0,
                   help="max minutes between a table time and a frame")


def run(args: argparse.Namespace) -> int:
    if args.tolerance <= 0:
        raise UsageError(f"--tolerance must be > 0 minutes, got {args.tolerance}")
    available = shard_channels("--data", args.data)
    require_out_dir("--out", args.out)
    model = load_checkpoint("--checkpoint", args.checkpoint, "fpnet")
    require_channels("--checkpoint", model.config.channels, available,
                     f"the shards in {args.data}")
    if tuple(available) != tuple(model.config.channels):
        raise UsageError(f"--data: the shards' channels {list(available)} differ from the "
                         f"model's {list(model.config.channels)} (order matters); ingest with "
                         f"--channels {','.join(model.config.channels)}")
    model.eval()
    mode = model.config.mode
    connect()
    frames = load_frames(args.data)
    if args.table or args.synthetic:
        try:
            table = table_for_mode(load_feature_table(args.table, args.synthetic), mode)
        except (OSError, ValueError) as err:
            raise UsageError(f"{'--table' if args.table else '--synthetic'}: {err}") from None
    elif mode == "full_disk":  # images + the shards' F10.7 only
        table = pd.DataFrame({"t_obs": frames.t.astype("datetime64[us]"),
                              "label": frames.flare_m24})
    else:
        raise UsageError("per-AR checkpoints need --table or --synthetic (region positions)")
    out = forecast(model, frames, table, args.tolerance)
    for name, df in out.items():
        path = write_table(df, os.path.join(args.out, f"{name}.csv"))
        print(f"{name}: {len(df)} forecasts → {path}")
        known = df[df["observed"] >= 0]
        if len(known) and known["observed"].nunique() == 2:
            print(verify_table(known).table(f"{name} (labels known)"))
    return 0
