"""``solarray train-fpnet``: train FPNet (full-disk or per-AR), calibrate on validation, verify."""

from __future__ import annotations

import argparse
import os

from solarray.core.errors import UsageError
from solarray.forecast.fpnet_run import run_fpnet_training
from solarray.forecast.training import FPNetTrainConfig

NAME = "train-fpnet"
HELP = "train the FPNet flare forecaster on shards + a feature table; calibrate; verify on test"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", required=True, help="directory of ingest's Parquet shards")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--table", help="feature table (CSV/Parquet): per-AR rows (t_obs, ar_number, "
                     "hgs_lon, hgs_lat, area_msh, hale, mcintosh, flare_index, log_r, f107, "
                     "label) or full-disk rows (t_obs, features, label)")
    src.add_argument("--synthetic", help="synthetic-Sun output dir or forecasting-set root: "
                     "features and labels from its truth tables")
    p.add_argument("--out", required=True, help="output directory (model.pt, forecast CSVs)")
    p.add_argument("--mode", default="full-disk", choices=("full-disk", "ar"))
    p.add_argument("--encoder", default=None,
                   help="pretrained checkpoint (mae_vit/vit_ae model.pt or checkpoint dir)")
    p.add_argument("--freeze-encoder", action="store_true")
    p.add_argument("--preset", default="tiny", help="FPNet size preset: tiny | paper")
    p.add_argument("--image-size", type=int, default=None,
                   help="model input size (default: the encoder's for full disk, preset for AR)")
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--lr", type=float, default=5e-4)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--imbalance", default="weight", choices=("weight", "resample", "none"))
    p.add_argument("--calibration", default="platt", choices=("platt", "isotonic", "none"))
    p.add_argument("--operating-point", default="reliable",
                   choices=("reliable", "tss", "hss", "f1", "csi"),
                   help="reliable probabilities, or map the validation-optimal threshold of a "
                        "score to 0.5")
    p.add_argument("--val-months", default="3", help="comma-separated validation months")
    p.add_argument("--test-months", default="1", help="comma-separated test months")
    p.add_argument("--workers", type=int, default=0,
                   help="Ray Train workers (0 = run the loop in this process)")
    p.add_argument("--torch-threads", type=int, default=0,
                   help="torch threads per training worker (0 = torch's default)")
    p.add_argument("--storage", default="ray_results", help="Ray Train storage path")
    p.add_argument("--run-name", default=None, help="run name (default fpnet-<mode>)")


def _months(flag: str, text: str) -> tuple[int, ...]:
    try:
        months = tuple(int(m) for m in text.split(",") if m.strip())
    except ValueError:
        raise UsageError(f"{flag} must be comma-separated month numbers, got {text!r}") from None
    if not months or any(not 1 <= m <= 12 for m in months):
        raise UsageError(f"{flag} must be months 1-12, got {text!r}")
    return months


def build_config(args: argparse.Namespace) -> FPNetTrainConfig:
    for flag, v, low in (("--steps", args.steps, 1), ("--batch-size", args.batch_size, 1),
                         ("--workers", args.workers, 0),
                         ("--torch-threads", args.torch_threads, 0)):
        if v < low:
            raise UsageError(f"{flag} must be an integer >= {low}, got {v}")
    if args.lr <= 0:
        raise UsageError(f"--lr must be > 0, got {args.lr}")
    mode = args.mode.replace("-", "_")
    mc: dict = {"preset": args.preset}
    if args.image_size is not None:
        if args.image_size <= 0:
            raise UsageError(f"--image-size must be a positive integer, got {args.image_size}")
        mc["image_size"] = args.image_size
    try:
        return FPNetTrainConfig(
            mode=mode, model_config=mc, encoder_checkpoint=args.encoder or "",
            freeze_encoder=args.freeze_encoder, imbalance=args.imbalance,
            calibration=args.calibration, operating_point=args.operating_point,
            steps=args.steps, batch_size=args.batch_size, lr=args.lr, seed=args.seed,
            num_workers=args.workers, torch_threads=args.torch_threads,
            storage_path=os.path.abspath(args.storage),
            run_name=args.run_name or f"fpnet-{args.mode}",
            val_months=_months("--val-months", args.val_months),
            test_months=_months("--test-months", args.test_months))
    except ValueError as err:
        raise UsageError(str(err)) from None


def run(args: argparse.Namespace) -> int:
    cfg = build_config(args)
    result, _ = run_fpnet_training(cfg, args.data, args.out, args.table, args.synthetic)
    print(result.reports["test"].table(f"FPNet {cfg.mode} (test)"))
    print(f"Model: {result.model_path}")
    print(f"Forecasts: {args.out}/forecasts_val.csv, {args.out}/forecasts_test.csv "
          f"(solarray verify --forecasts ...)")
    return 0
