"""``solarray evaluate translation``: seed 002's table (CC, RE, PPE10 per generated passband and
their average, on inverse-scaled on-disk pixels) for translation checkpoints and the baselines,
plus side-by-side PNGs (input, target, generated, difference)."""

from __future__ import annotations

import argparse
import json
import os
import sys

from solarray.commands._checks import require_shards
from solarray.core.atomic import write_json
from solarray.core.checkpoints import run_name
from solarray.core.errors import UsageError
from solarray.core.frame import FRAME_RSUN
from solarray.core.ray_connect import connect
from solarray.data.dataset import channels_of
from solarray.models import load_model
from solarray.translate.baselines import LinearFromB, MeanImage
from solarray.translate.data import check_channels, downsample, load_pairs
from solarray.translate.evaluation import format_table, score_channels, table_rows
from solarray.translate.figures import side_by_side
from solarray.translate.predict import check_outputs, check_translator, generate

HELP = ("translation models: CC, RE and PPE10 per generated passband (seed 002), physical units "
        "on the disk, with side-by-side PNGs")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--checkpoint", nargs="+", required=True, metavar="CKPT",
                   help="pix2pix / controlnet_translator checkpoint(s) (model.pt or a training "
                        "checkpoint directory)")
    p.add_argument("--data", required=True, help="directory of ingest's Parquet shards")
    p.add_argument("--split", default="test", choices=("all", "train", "val", "test"),
                   help="samples to evaluate (default test)")
    p.add_argument("--outputs", default=None,
                   help="comma-separated subset of the generated channels to score")
    p.add_argument("--baselines", action="store_true",
                   help="add the mean training image and the per-pixel linear fit on |B| "
                        "(fitted on the training split)")
    p.add_argument("--frame", type=float, default=FRAME_RSUN, help="frame half-width in R☉")
    p.add_argument("--json", nargs="?", const="-", default=None, metavar="FILE",
                   help="print the rows as JSON instead of the table (or also write them to FILE)")
    p.add_argument("--out", default=None, help="directory for side-by-side PNGs")
    p.add_argument("--figures", type=int, default=3, help="PNGs per checkpoint with --out")


def _models(args: argparse.Namespace) -> list:
    models = []
    for c in args.checkpoint:
        if not os.path.exists(c):
            raise UsageError(f"--checkpoint: no such file or directory: {c}")
        try:
            m = load_model(c)
            check_translator(m, c)
        except (OSError, ValueError, KeyError) as err:
            raise UsageError(f"--checkpoint {c}: {err}") from None
        models.append((c, m))
    return models


def run(args: argparse.Namespace) -> int:
    require_shards("--data", args.data)
    # with --json on stdout, progress lines go to stderr so stdout stays one JSON document
    def say(msg: str) -> None:
        print(msg, file=sys.stderr if args.json == "-" else sys.stdout)

    if args.frame <= 0:
        raise UsageError(f"--frame must be > 0, got {args.frame}")
    models = _models(args)
    wanted = [c.strip() for c in args.outputs.split(",") if c.strip()] if args.outputs else None
    try:
        available = channels_of(args.data)
    except (OSError, ValueError) as err:
        raise UsageError(f"--data: {err}") from None
    for path, m in models:
        try:
            if wanted:
                check_outputs(m, wanted, f"--checkpoint {path}")
            check_channels(available, [*m.config.inputs, *(wanted or m.config.outputs)],
                           f"--data {args.data}")
        except ValueError as err:
            raise UsageError(str(err)) from None
    connect()
    split = None if args.split == "all" else args.split
    rows = []
    baseline_done = False
    for path, m in models:
        outs = list(wanted or m.config.outputs)
        pairs = load_pairs(args.data, m.config.inputs, outs, split)
        factor = pairs.x.shape[-1] // m.config.image_size
        if factor < 1 or pairs.x.shape[-1] != factor * m.config.image_size:
            raise UsageError(f"--checkpoint {path}: the model reads {m.config.image_size} px "
                             f"images; the data are {pairs.x.shape[-1]} px")
        x, y = downsample(pairs.x, factor), downsample(pairs.y, factor)
        if factor > 1:
            say(f"{path}: data mean-pooled ×{factor} to the model's {m.config.image_size} px")
        pred_all = generate(m, x)
        pred = pred_all[:, [list(m.config.outputs).index(c) for c in outs]]
        name = run_name(path)
        rows += table_rows(name, score_channels(pred, y, outs, args.frame))
        if args.baselines and not baseline_done:
            train = load_pairs(args.data, ("hmi_m",) if "hmi_m" in available else
                               m.config.inputs[:1], outs, "train")
            tx, ty = downsample(train.x, factor), downsample(train.y, factor)
            mean = MeanImage().fit(ty).predict(len(y))
            rows += table_rows("mean training image", score_channels(mean, y, outs, args.frame))
            if "hmi_m" in available:
                test_b = load_pairs(args.data, ("hmi_m",), outs[:1], split).x[:, 0]
                lin = LinearFromB().fit(tx[:, 0], ty).predict(downsample(test_b, factor))
                rows += table_rows("linear on |B|", score_channels(lin, y, outs, args.frame))
            baseline_done = True
        if args.out:
            for i in range(min(args.figures, len(x))):
                png = side_by_side(x[i], y[i], pred[i], m.config.inputs, outs,
                                   os.path.join(args.out, f"{name}_{pairs.sample_id[i]}.png"
                                                .replace(":", "")),
                                   title=f"{name}: {pairs.sample_id[i]}")
                say(f"Figure written to {png}")
    if args.json == "-":
        print(json.dumps(rows, indent=2))
        return 0
    print(format_table(rows))
    if args.json:
        write_json(args.json, rows, indent=2)
        print(f"Rows written to {args.json}")
    return 0


TRANSLATION = (HELP, add_arguments, run)

__all__ = ["TRANSLATION"]
