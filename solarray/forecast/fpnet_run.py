"""``solarray train-fpnet`` (and the demo's FPNet stage) as one call: check the inputs before Ray
starts, train, calibrate on validation, verify on test, write ``report.json``
(:func:`run_fpnet_training`)."""

from __future__ import annotations

import os
from typing import Any

from solarray.core.atomic import write_json
from solarray.core.errors import UsageError
from solarray.core.paths import require_out_dir
from solarray.core.ray_connect import connect
from solarray.data.dataset import open_shards, require_split
from solarray.forecast.features import load_feature_table, table_for_mode
from solarray.forecast.frames import load_frames
from solarray.forecast.training import FPNetResult, FPNetTrainConfig, train_fpnet
from solarray.models.pretrained import require_encoder

#: The pretrained encoders FPNet accepts (named in the ``--encoder`` error).
ENCODER_KINDS = "mae_vit, vit_ae, solarchip_vit"


def run_fpnet_training(cfg: FPNetTrainConfig, data: str, out: str, table: str | None = None,
                       synthetic: str | None = None) -> tuple[FPNetResult, dict[str, Any]]:
    """Train FPNet (``cfg``) on the shards in ``data`` with the feature table ``table`` (or the
    truth tables of the synthetic Sun(s) in ``synthetic``) into ``out``; → (result, the summary
    written to ``out/report.json``). A user's mistake is a UsageError naming the flag."""
    shards = open_shards("--data", data)  # read once for both split checks
    require_out_dir("--out", out)
    if cfg.encoder_checkpoint:
        require_encoder("--encoder", cfg.encoder_checkpoint, ENCODER_KINDS)
    for split, flag in (("train", "--test-months/--val-months"), ("val", "--val-months")):
        require_split("--data", shards, split, f"add data from other months or change {flag}",
                      val_months=cfg.val_months, test_months=cfg.test_months)
    try:
        features = table_for_mode(load_feature_table(table, synthetic), cfg.mode)
    except (OSError, ValueError) as err:
        raise UsageError(f"{'--table' if table else '--synthetic'}: {err}") from None
    connect(log_to_driver=True)  # training workers' progress lines
    frames = load_frames(data)
    try:
        result = train_fpnet(cfg, frames, features, out)
    except ValueError as err:
        raise UsageError(str(err)) from None
    summary = {"model": str(result.model_path), "examples": result.n_examples,
               "train_base_rate": result.train_base_rate, "pos_weight": result.pos_weight,
               "test": result.reports["test"].scores(), "val": result.reports["val"].scores()}
    write_json(os.path.join(out, "report.json"), summary, indent=1)
    return result, summary


__all__ = ["ENCODER_KINDS", "run_fpnet_training"]
