"""``solarray search``: reverse image search over AR patches (Chatterjee 2025).

``patches`` cuts AR patches from shards (or a synthetic Sun); ``index`` embeds them with a
SimSiam checkpoint (Ray Data) into a look-up table; ``query`` returns a patch's nearest real
patches; ``generate`` walks the GAN's latent space along a parameter's direction, saves the
patches and, with ``--query``, retrieves their real matches.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np

from solarray.core.atomic import staged_dir, write_text
from solarray.core.errors import UsageError
from solarray.core.paths import require_out_dir
from solarray.core.ray_connect import connect
from solarray.data.dataset import require_shards
from solarray.data.labels import LabelStore
from solarray.models.registry import load_checkpoint
from solarray.search.lut import Searcher, build_lut
from solarray.search.parameters import PARAMETERS
from solarray.search.patches import (
    FIELD_CHANNEL,
    patches_from_shards,
    synthetic_patches,
    write_patches,
)
from solarray.search.walk import generate_walk

NAME = "search"
HELP = "reverse image search over AR magnetogram patches: patches, index, query, generate"
SHOWN = ["id", "similarity", "t_obs", "region", "hgs_lon", "hgs_lat", *PARAMETERS]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="search_command", metavar="ACTION")
    p = sub.add_parser("patches", help="cut AR patches (Parquet) from shards with AR masks")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--data", help="directory of ingest's shards (masks: their truth masks "
                                    "column, or --labels)")
    src.add_argument("--synthetic", type=int, metavar="N", help="N synthetic Suns in memory")
    p.add_argument("--labels", default=None,
                   help="label store whose masks to cut around (e.g. SPNet's predictions from "
                        "`solarray label predict`), instead of the shards' truth masks")
    p.add_argument("--label-version", default=None, help="label version (default the latest)")
    p.add_argument("--channels", default=FIELD_CHANNEL,
                   help=f"patch channels, comma-separated, {FIELD_CHANNEL} first (e.g. "
                        f"{FIELD_CHANNEL},aia171; default {FIELD_CHANNEL})")
    p.add_argument("--days", type=float, default=2.0, help="days per synthetic Sun")
    p.add_argument("--size", type=int, default=32, help="patch side in pixels (default 32)")
    p.add_argument("--out", required=True, help="output directory of patch files")
    p = sub.add_parser("index", help="embed every patch (Ray Data) into a look-up table")
    p.add_argument("--checkpoint", required=True, help="simsiam checkpoint (model.pt or dir)")
    p.add_argument("--patches", required=True, help="patch file or directory")
    p.add_argument("--out", required=True, help="look-up table Parquet file")
    p.add_argument("--batch-size", type=int, default=64)
    p = sub.add_parser("query", help="the real patches nearest a query patch")
    p.add_argument("--index", required=True, help="look-up table from `search index`")
    p.add_argument("--image", required=True, help="query patch: .npy or FITS, physical units (G)")
    p.add_argument("--checkpoint", default=None, help="checkpoint (default: the index's own)")
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--json", action="store_true", help="print JSON")
    p = sub.add_parser("generate", help="walk the GAN latent along a parameter direction")
    p.add_argument("--gan", required=True, help="ar_gan checkpoint (model.pt or dir)")
    p.add_argument("--param", required=True, help=f"one of {', '.join(PARAMETERS)}")
    p.add_argument("--delta", type=float, default=2.0, help="walk from -delta to +delta")
    p.add_argument("--n", type=int, default=8, help="steps along the walk")
    p.add_argument("--directions", default=None,
                   help="directions JSON (default <gan>.directions.json; fitted when missing)")
    p.add_argument("--pixel-size-mm", type=float, default=11.9625,
                   help="pixel size of the GAN's training patches (Mm)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--query", action="store_true", help="retrieve each patch's real matches")
    p.add_argument("--index", default=None, help="look-up table (with --query)")
    p.add_argument("--k", type=int, default=3)
    p.add_argument("--out", required=True, help="output directory (.npy patches, walk.json)")


def read_image(path: str) -> np.ndarray:
    """A query patch from .npy or FITS (primary or first image HDU)."""
    if not os.path.isfile(path):
        raise UsageError(f"--image: no such file: {path}")
    if path.endswith(".npy"):
        return np.load(path, allow_pickle=False)
    from astropy.io import fits

    try:
        with fits.open(path) as hdus:
            data = next((h.data for h in hdus if h.data is not None), None)
    except OSError as err:
        raise UsageError(f"--image: {path} is neither .npy nor readable FITS ({err})") from None
    if data is None:
        raise UsageError(f"--image: {path} holds no image data")
    return np.asarray(data, dtype=np.float32)


def _matches_records(df) -> list[dict]:
    df = df[[c for c in SHOWN if c in df.columns]].copy()
    df["t_obs"] = df["t_obs"].astype(str)
    return json.loads(df.to_json(orient="records"))


def _patches(args) -> int:
    if args.size < 8:
        raise UsageError(f"--size must be ≥ 8 pixels, got {args.size}")
    require_out_dir("--out", args.out)
    channels = [c.strip() for c in args.channels.split(",") if c.strip()]
    if args.data:
        require_shards("--data", args.data)
        labels = None
        if args.labels:
            try:
                labels = LabelStore(args.labels).read(args.label_version)
            except (FileNotFoundError, KeyError) as err:
                raise UsageError(f"--labels: {err.args[0] if err.args else err}") from None
        try:
            rows = patches_from_shards(args.data, size=args.size, channels=channels,
                                       labels=labels)
        except ValueError as err:
            raise UsageError(str(err)) from None
    else:
        if args.labels or channels != [FIELD_CHANNEL]:
            raise UsageError("--labels and --channels apply to --data (synthetic patches are "
                             f"{FIELD_CHANNEL} with the truth regions)")
        rows = sum((synthetic_patches(1000 + s, days=args.days, size=args.size)
                    for s in range(args.synthetic)), [])
    path = write_patches(rows, args.out)
    print(f"Wrote {len(rows)} patches of {len({r['region'] for r in rows})} regions to {path}")
    return 0


def _index(args) -> int:
    load_checkpoint("--checkpoint", args.checkpoint, "simsiam")
    if not os.path.exists(args.patches):
        raise UsageError(f"--patches: no such file or directory: {args.patches} (make patches "
                         "with `solarray search patches`)")
    connect(quiet=True)
    out = build_lut(args.checkpoint, args.patches, args.out, batch_size=args.batch_size)
    print(f"Wrote look-up table {out}")
    return 0


def _query(args) -> int:
    if args.k < 1:
        raise UsageError(f"--k must be ≥ 1, got {args.k}")
    if not os.path.exists(args.index):
        raise UsageError(f"--index: no such file: {args.index} (build it with `solarray search "
                         "index`)")
    matches = Searcher(args.index, args.checkpoint).search(read_image(args.image), args.k)
    records = _matches_records(matches)
    if args.json:
        print(json.dumps({"query": args.image, "matches": records}, indent=1))
    else:
        for r in records:
            print(f"{r['similarity']:.3f}  {r['t_obs']}  AR {r['region']}  "
                  f"({r['hgs_lon']:.1f}°, {r['hgs_lat']:.1f}°)  TUF {r['tuf']:.3g} Mx  "
                  f"PSEP {r['psep']:.1f} Mm")
    return 0


def _generate(args) -> int:
    if args.query and not args.index:
        raise UsageError("--query needs --index (a look-up table)")
    require_out_dir("--out", args.out)
    w = generate_walk(args.gan, args.param, args.delta, args.n, args.directions,
                      args.pixel_size_mm, args.seed)
    out = Path(args.out)
    searcher = Searcher(args.index) if args.query else None
    steps = []
    with staged_dir(out) as stage:  # every patch and walk.json, or none
        _write_walk(args, w, out, stage, searcher, steps)
    print(f"Wrote {len(steps)} patches and walk.json to {out}")
    return 0


def _write_walk(args, w: dict, out: Path, stage: Path, searcher, steps: list) -> None:
    for i, d in enumerate(w["deltas"]):
        f = out / f"patch_{i:02d}.npy"
        np.save(stage / f.name, w["patches"][i].astype(np.float32))
        step = {"delta": float(d), "file": str(f),
                **{k: float(v[i]) for k, v in w["parameters"].items()}}
        if searcher is not None:
            step["matches"] = _matches_records(searcher.search(w["patches"][i], args.k))
        steps.append(step)
        print(f"δ={d:+.2f}  " + "  ".join(f"{k}={step[k]:.3g}" for k in PARAMETERS)
              + (f"  → best match AR {step['matches'][0]['region']} "
                 f"{step['matches'][0]['t_obs']}" if searcher is not None else ""))
    write_text(stage / "walk.json", json.dumps({"param": args.param, "steps": steps,
                                                 "directions": w["directions_file"]}, indent=1))


def run(args: argparse.Namespace) -> int:
    actions = {"patches": _patches, "index": _index, "query": _query, "generate": _generate}
    action = actions.get(getattr(args, "search_command", None))
    if action is None:
        raise UsageError("choose an action: patches, index, query, generate")
    try:
        return action(args)
    except (FileNotFoundError, ValueError) as err:
        raise UsageError(str(err)) from None
