"""``solarray translate``: Pix2Pix translation (Park 2019) — ``train`` one model, ``select`` the
best input channels with one parallel Ray Tune trial per combination (resumable); ``select
--greedy`` is Lim 2021's search (best single input, then the best second given it, then the
third), each round's candidates as parallel trials."""

from __future__ import annotations

import argparse
import os

from solarray.core.errors import UsageError
from solarray.core.ray_connect import connect
from solarray.data.dataset import channels_of, image_size_of, require_shards, require_split
from solarray.models import list_models
from solarray.models.pretrained import require_encoder
from solarray.translate.data import check_channels, load_stack
from solarray.translate.selection import (
    combinations_of,
    format_greedy,
    format_selection,
    greedy_candidates,
)
from solarray.translate.training import TranslationRun, run_channels, train_translation
from solarray.tune.channel_selection import SelectionSettings, run_greedy, run_selection
from solarray.tune.experiment import TuneRun
from solarray.tune.runner import SweepInterrupted, datasets_from_dir
from solarray.tune.space import SweepError

NAME = "translate"
HELP = ("image translation (Pix2Pix HMI→AIA, AIA→AIA; ControlNet-style on a pretrained "
        "encoder): train, or select input channels as parallel Tune trials")


def _names(text: str | None) -> tuple[str, ...]:
    return tuple(c.strip() for c in (text or "").split(",") if c.strip())


def add_common_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", required=True, help="directory of ingest's Parquet shards")
    p.add_argument("--preset", default="tiny", help="model size preset: tiny | small | paper")
    p.add_argument("--image-size", type=int, default=None,
                   help="model image size in pixels (default: the data's)")
    p.add_argument("--steps", type=int, default=300, help="optimiser steps per model")
    p.add_argument("--batch-size", type=int, default=8, help="batch size")
    p.add_argument("--lr", type=float, default=2e-4, help="Adam learning rate (Pix2Pix: 2e-4)")
    p.add_argument("--storage", default="ray_results", help="Ray Train/Tune storage path")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="translate_command", metavar="{train,select}")
    t = sub.add_parser("train", help="train one translation model (Model A: L1; --gan: Model B)")
    add_common_arguments(t)
    t.add_argument("--inputs", default="hmi_m", help="comma-separated input channels")
    t.add_argument("--outputs", default=None,
                   help="comma-separated channels to generate (default: every other channel)")
    t.add_argument("--model", default="pix2pix",
                   help="pix2pix | controlnet_translator (needs --pretrained)")
    t.add_argument("--gan", action="store_true",
                   help="Model B: L1 + conditional GAN (λ = 100) instead of L1 only")
    t.add_argument("--pretrained", default="",
                   help="controlnet_translator: SolarCHIP or MAE checkpoint of the frozen encoder")
    t.add_argument("--fraction", type=float, default=1.0, help="fraction of training pairs used")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--workers", type=int, default=0, help="Ray Train workers (0 = in process)")
    t.add_argument("--name", default="translate", help="run name (reuse it to resume)")
    s = sub.add_parser("select", help="rank 1…N-channel inputs by the CC of the channels they "
                                      "reconstruct (Lim 2021), one Tune trial per combination")
    add_common_arguments(s)
    add_select_arguments(s)


def add_select_arguments(s: argparse.ArgumentParser) -> None:
    """``select``'s own flags (also used by ``jobs/translate_select.py``)."""
    s.add_argument("--inputs-max", type=int, default=3,
                   help="largest input combination (with --greedy: the number of rounds)")
    s.add_argument("--greedy", action="store_true",
                   help="Lim 2021's greedy search: best single input, then the best second "
                        "given it, … up to --inputs-max (one sweep of parallel trials a round)")
    s.add_argument("--channels", default=None,
                   help="comma-separated candidate channels (default: the data's AIA channels)")
    s.add_argument("--gan", action="store_true", help="train Model B in every trial")
    s.add_argument("--asha", action="store_true", help="stop poor combinations early (ASHA)")
    s.add_argument("--trial-workers", type=int, default=1, help="Ray Train workers per trial")
    s.add_argument("--cpus-per-worker", type=float, default=1.0, help="CPUs per Train worker")
    s.add_argument("--max-concurrent", type=int, default=1, help="trials running at once")
    s.add_argument("--name", default="translate_select", help="experiment name")
    s.add_argument("--resume", action="store_true", help="continue the saved selection")
    s.add_argument("--rank-split", default="val", choices=("val", "test"),
                   help="held-out images the checkpoints are ranked on (default val)")


def _check(args: argparse.Namespace) -> None:
    require_shards("--data", args.data)
    for flag, v, low in (("--steps", args.steps, 1), ("--batch-size", args.batch_size, 1)):
        if v < low:
            raise UsageError(f"{flag} must be an integer >= {low}, got {v}")
    if args.lr <= 0:
        raise UsageError(f"--lr must be > 0, got {args.lr}")
    if not args.name or os.sep in args.name:
        raise UsageError(f"--name must be a plain name, got {args.name!r}")


def _model_config(args: argparse.Namespace, data_size: int | None) -> dict:
    size = args.image_size or data_size
    return {"image_size": int(size)} if size else {}


def _train(args: argparse.Namespace) -> int:
    _check(args)
    if args.model not in list_models():
        raise UsageError(f"--model: unknown model {args.model!r}")
    if not 0 < args.fraction <= 1:
        raise UsageError(f"--fraction must be in (0, 1], got {args.fraction}")
    if args.model == "controlnet_translator" and not args.pretrained:
        raise UsageError("--model controlnet_translator needs --pretrained CHECKPOINT")
    if args.pretrained:
        require_encoder("--pretrained", args.pretrained, "SolarCHIP or MAE")
    available = channels_of(args.data)
    run = TranslationRun(inputs=_names(args.inputs), outputs=_names(args.outputs),
                         model=args.model, preset=args.preset,
                         model_config=_model_config(args, image_size_of(args.data)),
                         gan_weight=1.0 if args.gan else 0.0, pretrained=args.pretrained,
                         steps=args.steps, batch_size=args.batch_size, lr=args.lr,
                         seed=args.seed, fraction=args.fraction, num_workers=args.workers,
                         run_name=args.name, storage_path=args.storage)
    try:
        check_channels(available, run_channels(run, available), f"--data {args.data}")
    except ValueError as err:
        raise UsageError(str(err)) from None
    require_split("--data", args.data, "train", "add data from other months (test = January, "
                  "validation = March)")
    connect(quiet=False, log_to_driver=True)
    kind = "Model B (L1 + cGAN)" if args.gan else "Model A (L1)"
    print(f"Training {args.model} {kind}: {'+'.join(run.inputs)} → "
          f"{'+'.join(run_channels(run, available)[len(run.inputs):])}, {args.steps} steps")
    result = train_translation(run, args.data)
    print(f"Checkpoint: {result.checkpoint}")
    print(f"Evaluate: solarray evaluate translation --checkpoint {result.checkpoint} "
          f"--data {args.data} --baselines")
    return 0


def _select(args: argparse.Namespace) -> int:
    _check(args)
    available = channels_of(args.data)
    candidates = _names(args.channels) or tuple(c for c in available if c.startswith("aia"))
    try:
        check_channels(available, candidates, f"--data {args.data}")
        if args.greedy:
            if args.inputs_max < 1:
                raise ValueError(f"--inputs-max must be >= 1, got {args.inputs_max}")
            greedy_candidates(candidates, candidates[:args.inputs_max - 1])
            combos = greedy_candidates(candidates, [])
        else:
            combos = combinations_of(candidates, args.inputs_max)
    except ValueError as err:
        raise UsageError(str(err)) from None
    for flag, v, low in (("--trial-workers", args.trial_workers, 1),
                         ("--max-concurrent", args.max_concurrent, 1)):
        if v < low:
            raise UsageError(f"{flag} must be an integer >= {low}, got {v}")
    settings = SelectionSettings(
        candidates=candidates, inputs_max=args.inputs_max, preset=args.preset,
        model_config=_model_config(args, image_size_of(args.data)),
        gan_weight=1.0 if args.gan else 0.0, steps=args.steps, batch_size=args.batch_size,
        lr=args.lr, asha=args.asha, trial_workers=args.trial_workers,
        cpus_per_worker=args.cpus_per_worker, name=args.name)
    run = TuneRun(name=args.name, storage_path=args.storage, max_concurrent=args.max_concurrent,
                  resume=args.resume)
    for split in ("train", args.rank_split):
        require_split("--data", args.data, split, "add data from other months (test = January, "
                      "validation = March)")
    connect(quiet=False, log_to_driver=True)
    kind = (f"greedily in {args.inputs_max} round(s), {len(combos)} trial(s) in the first"
            if args.greedy else f"{len(combos)} combination(s)")
    print(f"Selecting inputs among {', '.join(candidates)}: {kind}, "
          f"{args.max_concurrent} trial(s) at a time")
    train, val, channels, _ = datasets_from_dir(args.data)
    images = load_stack(args.data, channels, args.rank_split)
    try:
        if args.greedy:
            tables = run_greedy(settings, run, train, val, channels, images, args.inputs_max)
            print(format_greedy(tables))
            print(f"Greedy ranking: {os.path.join(run.storage_path, args.name + '_greedy.json')}")
            return 0
        table, outcome = run_selection(settings, run, train, val, channels, images)
    except SweepError as err:
        raise UsageError(str(err)) from None
    except SweepInterrupted as err:
        print(err)
        return 1
    print(format_selection(table))
    print(f"Ranking: {outcome.resolved.results_dir / 'selection.csv'}")
    return 0


def run(args: argparse.Namespace) -> int:
    command = getattr(args, "translate_command", None)
    if command == "train":
        return _train(args)
    if command == "select":
        return _select(args)
    raise UsageError("choose a subcommand: train or select")
