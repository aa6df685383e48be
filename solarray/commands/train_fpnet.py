"""``solarray train-fpnet``: train FPNet (full-disk or per-AR), calibrate on validation, verify."""

from __future__ import annotations

import argparse
import os

from solarray.commands._checks import (
    require_encoder,
    require_out_dir,
    require_shards,
    require_split,
)
from solarray.core.atomic import write_json
from solarray.core.errors import UsageError
from solarray.core.ray_connect import connect
from solarray.forecast.features import load_feature_table, table_for_mode
from solarray.forecast.frames import load_frames
from solarray.forecast.training import FPNetTrainConfig, train_fpnet

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
    if args.encoder:
        require_encoder("--encoder", args.encoder, "mae_vit, vit_ae, solarchip_vit")
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
    require_shards("--data", args.data)
    require_out_dir("--out", args.out)
    cfg = build_config(args)
    for split, flag in (("train", "--test-months/--val-months"), ("val", "--val-months")):
        require_split("--data", args.data, split, f"add data from other months or change {flag}",
                      val_months=cfg.val_months, test_months=cfg.test_months)
    try:
        table = table_for_mode(load_feature_table(args.table, args.synthetic), cfg.mode)
    except (OSError, ValueError) as err:
        raise UsageError(f"{'--table' if args.table else '--synthetic'}: {err}") from None
    connect(log_to_driver=True)  # training workers' progress lines
    frames = load_frames(args.data)
    try:
        result = train_fpnet(cfg, frames, table, args.out)
    except ValueError as err:
        raise UsageError(str(err)) from None
    report = result.reports["test"]
    print(report.table(f"FPNet {cfg.mode} (test)"))
    summary = {"model": str(result.model_path), "examples": result.n_examples,
               "train_base_rate": result.train_base_rate, "pos_weight": result.pos_weight,
               "test": report.scores(), "val": result.reports["val"].scores()}
    write_json(os.path.join(args.out, "report.json"), summary, indent=1)
    print(f"Model: {result.model_path}")
    print(f"Forecasts: {args.out}/forecasts_val.csv, {args.out}/forecasts_test.csv "
          f"(solarray verify --forecasts ...)")
    return 0
