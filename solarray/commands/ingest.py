"""``solarray ingest``: FITS files → preprocessed, ML-ready Parquet shards on Ray Data."""

from __future__ import annotations

import os

from solarray.core import channels as chans
from solarray.core.errors import UsageError
from solarray.core.frame import DEFAULT_GRID, FRAME_RSUN
from solarray.core.paths import require_out_dir
from solarray.core.ray_connect import connect
from solarray.data import ingest as ing
from solarray.data import preprocess as pp
from solarray.data import sources
from solarray.data.shards import MANIFEST

NAME = "ingest"
HELP = "preprocess AIA/HMI FITS files into ML-ready Parquet shards (Ray Data; resumable)"


def add_arguments(p) -> None:
    p.add_argument("--input", required=True, nargs="+", metavar="DIR_OR_GLOB",
                   help="directories (searched recursively), globs, files or fsspec URLs; a "
                        "`solarray synth` output directory also supplies masks and label tables")
    p.add_argument("--out", required=True, help="output directory for shards and manifest.csv")
    p.add_argument("--size", type=int, default=DEFAULT_GRID,
                   help=f"output image size N (N×N), default {DEFAULT_GRID}")
    p.add_argument("--frame", type=float, default=FRAME_RSUN,
                   help=f"frame half-width in R☉ (default {FRAME_RSUN:g})")
    p.add_argument("--channels", default=None,
                   help="comma-separated channel names (default: all AIA + hmi_m)")
    p.add_argument("--num-cpus", type=int, default=None,
                   help="CPUs for a local Ray instance (default: all); ignored with --address")
    p.add_argument("--workers", type=int, default=None,
                   help="max preprocessing actors (default: --num-cpus)")
    p.add_argument("--address", default=None, help="Ray cluster address (default: $RAY_ADDRESS or local)")
    p.add_argument("--off-limb", default="keep", metavar="keep|mask|nan",
                   help="off-limb pixels: keep, mask (set to the scaling floor) or nan")
    p.add_argument("--degradation-table", default=None, metavar="PATH",
                   help="aiapy correction table for AIA degradation ('aiapy-v8': the table in aiapy's "
                        "test data); default: skip (recorded in meta)")
    p.add_argument("--no-exposure", action="store_true", help="do not divide AIA DN by EXPTIME")
    p.add_argument("--tolerance", type=float, default=6.0, help="minutes a file may be from its "
                   "sample time (default 6)")
    p.add_argument("--cadence", type=float, default=None,
                   help="sample cadence in minutes (default: slowest channel's median spacing)")
    p.add_argument("--start", default=None, help="ignore files before this UTC time")
    p.add_argument("--end", default=None, help="ignore files at or after this UTC time")
    p.add_argument("--shard-size", type=int, default=64, help="samples per shard (default 64)")
    p.add_argument("--masks", default=None, help="directory of truth masks_<time>.fits to join")
    p.add_argument("--tables", default=None, help="directory with events.parquet / indices.parquet")
    p.add_argument("--labels", default=None, help="CSV of user labels with a time column")
    p.add_argument("--allow-mixed-sizes", action="store_true",
                   help="accept inputs of a channel with different image sizes")


def _synth_layout(inputs: list[str]) -> tuple[list[str], str | None, str | None]:
    """A `solarray synth` output dir → (its fits/ dir, masks/, tables/)."""
    out, masks, tables = [], None, None
    for i in inputs:
        if os.path.isdir(i) and os.path.exists(os.path.join(i, "synth.json")):
            out.append(os.path.join(i, "fits") if os.path.isdir(os.path.join(i, "fits")) else i)
            masks = masks or (os.path.join(i, "masks") if os.path.isdir(os.path.join(i, "masks")) else None)
            tables = tables or (os.path.join(i, "tables") if os.path.isdir(os.path.join(i, "tables")) else None)
        else:
            out.append(i)
    return out, masks, tables


def run(args) -> int:
    if args.size < 8:
        raise UsageError(f"--size must be an integer ≥ 8, got {args.size}")
    if args.num_cpus is not None and args.num_cpus < 1:
        raise UsageError(f"--num-cpus must be a positive integer, got {args.num_cpus}")
    if args.workers is not None and args.workers < 1:
        raise UsageError(f"--workers must be a positive integer, got {args.workers}")
    if args.shard_size < 1:
        raise UsageError(f"--shard-size must be a positive integer, got {args.shard_size}")
    if args.off_limb not in pp.OFF_LIMB_MODES:
        raise UsageError(f"--off-limb must be one of {', '.join(pp.OFF_LIMB_MODES)}, got {args.off_limb!r}")
    if not args.frame > 0:
        raise UsageError(f"--frame must be > 0 R☉, got {args.frame}")
    try:
        channels = chans.resolve(args.channels)
    except (KeyError, ValueError) as err:
        raise UsageError(f"--channels: {err.args[0]}") from None
    inputs, masks, tables = _synth_layout(list(args.input))
    try:
        pcfg = pp.PreprocessConfig(size=args.size, frame=args.frame, off_limb=args.off_limb,
                                   exposure=not args.no_exposure,
                                   degradation_table=args.degradation_table)
    except ValueError as err:
        raise UsageError(str(err)) from None
    if pcfg.degradation_table and not os.path.exists(pcfg.degradation_table):
        raise UsageError(f"--degradation-table: no such file {pcfg.degradation_table}")
    num_cpus = args.num_cpus or os.cpu_count() or 1
    cfg = ing.IngestConfig(
        input=inputs, out_dir=args.out, channels=channels, preprocess=pcfg,
        tolerance_minutes=args.tolerance, cadence_minutes=args.cadence, start=args.start,
        end=args.end, shard_size=args.shard_size, num_workers=args.workers or num_cpus,
        masks_dir=args.masks or masks, tables_dir=args.tables or tables, labels=args.labels,
        allow_mixed_sizes=args.allow_mixed_sizes,
    )
    require_out_dir("--out", args.out)
    local = [i for i in args.input if not sources.is_url(i) and not any(c in i for c in "*?[")]
    absent = [i for i in local if not os.path.exists(i)]
    if absent:
        raise UsageError(f"--input: no such file or directory: {', '.join(absent)}")
    if not sources.list_fits(cfg.input):
        raise UsageError(f"--input: no FITS files found in {' '.join(args.input)} (expected "
                         "*.fits / *.fits.gz files, or a `solarray synth` output directory)")
    connect(args.address, num_cpus=args.num_cpus)
    try:
        summary = ing.run_ingest(cfg, log=lambda s: print(s, flush=True))
    except ing.IngestError as err:
        raise UsageError(str(err)) from None
    print("[ingest] done")
    print(summary.text())
    print(f"shards: {cfg.out_dir}  manifest: {os.path.join(cfg.out_dir, MANIFEST)}")
    return 0 if summary.written + summary.skipped > 0 else 1
