"""``solarray regions``: active regions, coronal holes and filaments as entities with coordinates."""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from solarray.analysis import coords as C
from solarray.analysis import observe as O
from solarray.analysis import regions as R
from solarray.analysis.tracking import Tracker
from solarray.core.errors import UsageError
from solarray.core.features import FEATURE_KINDS

NAME = "regions"
HELP = "entity tables (AR, CH, FL) from feature masks and a magnetogram, tracked across time steps"

_SHOW = {
    "AR": ["number", "hgs_lat", "hgs_lon", "carr_lon", "area_msh", "flux_pos", "flux_neg",
           "log_r", "psep_mm"],
    "CH": ["number", "hgs_lat", "hgs_lon", "carr_lon", "area_msh", "lon_span", "polarity", "mean_b"],
    "FL": ["number", "hgs_lat", "hgs_lon", "carr_lon", "area_msh", "end1_lat", "end1_lon",
           "end2_lat", "end2_lon", "length_mm"],
}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", required=True, metavar="DIR_OR_FILE",
                   help="a data directory (masks/masks_<time>.fits, fits/hmi_m/*.fits, as "
                        "`solarray synth` writes) or one mask FITS file")
    p.add_argument("--masks", nargs="+", default=None, metavar="FITS",
                   help="mask FITS file(s) to use instead of DIR/masks (uint8 [3,H,W] AR,CH,FL)")
    p.add_argument("--magnetogram", default=None, metavar="FITS",
                   help="HMI LOS magnetogram for a single mask file (default: nearest in DIR)")
    p.add_argument("--time", default=None, help="only the time step nearest this ISO time")
    p.add_argument("--kinds", default="AR,CH,FL", help="comma-separated subset of AR,CH,FL")
    p.add_argument("--ar-eps", default=None, help='DBSCAN radius, e.g. "40 Mm" or "60 arcsec"')
    p.add_argument("--assume-earth", action="store_true",
                   help="accept maps without observer keywords (Earth-based observer)")
    p.add_argument("--json", action="store_true",
                   help="one JSON object per entity (time, kind, number, coordinates, ...)")


def _steps(args):
    data = Path(args.data)
    if not data.exists():
        raise UsageError(f"--data: {data}: no such file or directory")
    if data.suffix == ".parquet":
        raise UsageError(f"--data: {data}: Parquet samples are not supported yet; give a data "
                         "directory or a mask FITS file")
    if args.masks or data.is_file():
        files = [Path(f) for f in (args.masks or [data])]
        for f in files:
            if not f.exists():
                raise UsageError(f"--masks: {f}: no such file")
        hmi = Path(args.magnetogram) if args.magnetogram else None
        if hmi is not None and not hmi.exists():
            raise UsageError(f"--magnetogram: {hmi}: no such file")
        if hmi is None and data.is_dir():
            steps = O.list_steps(data)
            lookup = {Path(m).name: h for m, h in zip(steps["masks"], steps["hmi_m"], strict=True)}
            return [(f, lookup.get(f.name)) for f in files]
        return [(f, hmi) for f in files]
    try:
        steps = O.list_steps(data)
    except O.ObservationError as err:
        raise UsageError(f"--data: {err}") from None
    if args.time:
        try:
            t = pd.Timestamp(args.time)
        except ValueError:
            raise UsageError(f"--time: expected an ISO time, got {args.time!r}") from None
        t = t.tz_convert(None) if t.tz is not None else t
        steps = steps.iloc[[int((steps["time"] - t).abs().argmin())]]
    return list(zip(steps["masks"], steps["hmi_m"], strict=True))


def run(args: argparse.Namespace) -> int:
    kinds = [k.strip().upper() for k in args.kinds.split(",") if k.strip()]
    bad = [k for k in kinds if k not in FEATURE_KINDS]
    if bad or not kinds:
        raise UsageError(f"--kinds: expected a subset of AR,CH,FL, got {args.kinds!r}")
    cfg = R.RegionConfig(assume_earth=args.assume_earth)
    if args.ar_eps:
        import astropy.units as u

        try:
            q = u.Quantity(args.ar_eps)
            assert q.unit.physical_type in ("length", "angle") and q.value > 0
        except Exception:
            raise UsageError(f'--ar-eps: expected a positive length or angle like "40 Mm", '
                             f"got {args.ar_eps!r}") from None
        cfg.ar_eps = args.ar_eps
    tracker = Tracker(assume_earth=args.assume_earth)
    for masks_path, hmi_path in _steps(args):
        try:
            obs = O.analyse_step(masks_path, hmi_path, config=cfg)
        except (O.ObservationError, C.MissingObserverError) as err:
            raise UsageError(str(err)) from None
        table = tracker.update(obs.result, obs.grid)
        table = table[table["kind"].isin(kinds)] if len(table) else table
        when = obs.time.strftime("%Y-%m-%dT%H:%M:%SZ")
        if args.json:
            for rec in table.to_dict("records"):
                out = {"time": when}
                for k, v in rec.items():
                    v = v.item() if isinstance(v, np.generic) else v
                    out[k] = None if isinstance(v, float) and math.isnan(v) else v
                print(json.dumps(out))
            for note in obs.result.notes:
                print(f"{when}: {note}", file=sys.stderr)
            continue
        print(f"== {when}  masks {masks_path.name}  magnetogram "
              f"{hmi_path.name if hmi_path else '(none)'}")
        for note in obs.result.notes:
            print(f"   note: {note}")
        for kind in kinds:
            part = table[table["kind"] == kind] if len(table) else table
            if not len(part):
                print(f"   {kind}: none")
                continue
            cols = [c for c in _SHOW[kind] if c in part.columns]
            print(f"   {kind}: {len(part)}")
            text = part[cols].to_string(index=False, float_format=lambda v: f"{v:.4g}")
            print("\n".join("     " + line for line in text.splitlines()))
    return 0
