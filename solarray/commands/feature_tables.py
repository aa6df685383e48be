"""``solarray feature-tables``: FPNet's training tables computed by the served chain."""

from __future__ import annotations

import argparse
from pathlib import Path

from solarray.core.checkpoints import ROLE_FILES
from solarray.core.errors import UsageError
from solarray.core.paths import require_dir, require_out_dir
from solarray.data.synthetic import forecast_set
from solarray.forecast.features import write_table
from solarray.pipeline.feature_tables import TABLE_ROLES, build_tables
from solarray.pipeline.model_set import load_models

NAME = "feature-tables"
HELP = ("FPNet's per-region and full-disk tables from the served chain (SPNet, IATools, CNN "
        "classes) over a synthetic forecasting set; the truth gives only the labels")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--synthetic", required=True,
                   help="a synthetic forecasting set (runs.json, shards/, synth/<run>/tables)")
    p.add_argument("--checkpoint-dir", required=True,
                   help="directory of spnet.pt, hale.pt and mcintosh.pt (e.g. the demo's)")
    p.add_argument("--out", required=True, help="directory for pipeline_ar/disk.parquet")


def run(args: argparse.Namespace) -> int:
    root = Path(args.synthetic)
    require_dir("--synthetic", str(root))
    if not forecast_set.is_complete(root):
        raise UsageError(f"--synthetic: {root} has no {forecast_set.RUNS_FILE}: not a complete "
                         "synthetic forecasting set")
    require_dir("--checkpoint-dir", args.checkpoint_dir)
    require_out_dir("--out", args.out)
    missing = [ROLE_FILES[r] for r in TABLE_ROLES
               if not (Path(args.checkpoint_dir) / ROLE_FILES[r]).exists()]
    if missing:
        raise UsageError(f"--checkpoint-dir: {args.checkpoint_dir} lacks {', '.join(missing)}")
    models = load_models(roles=TABLE_ROLES, checkpoint_dir=args.checkpoint_dir)
    bad = {**models.errors(), **{r: "untrained stand-in" for r in models.untrained}}
    if bad:  # tables from a stand-in would train FPNet on noise
        raise UsageError("--checkpoint-dir: " + "; ".join(f"{r}: {e}" for r, e in bad.items()))

    def progress(run_name: str, i: int, n: int) -> None:
        if i == n or i % 50 == 0:
            print(f"{run_name}: {i}/{n} observations", flush=True)

    tables = build_tables(root, models, progress=progress)
    out = Path(args.out)
    ar = write_table(tables.ar, out / "pipeline_ar.parquet")
    disk = write_table(tables.disk, out / "pipeline_disk.parquet")
    print(f"{len(tables.ar)} region rows → {ar}\n{len(tables.disk)} observations → {disk}")
    print(f"train FPNet on them: solarray train-fpnet --data {root / 'shards'} --table {ar} "
          "--mode ar")
    return 0
