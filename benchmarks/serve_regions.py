"""What the service returns is right: synthetic 512² time steps posted to ``/v1/forecast`` with
the shipped checkpoints, the regions matched to the synthetic truth.

    python benchmarks/serve_regions.py [--checkpoint-dir DIR] [--suns 3] [--size 512]
        [--grid 128] [--out docs/results/serve_regions.json]

Each Sun (an unseen seed) renders one 512² time step (HMI, AIA 193 and 304 Å level-1 FITS); the
three files are POSTed to a local Ray Serve forecaster (SPNet → IATools → FPNet) built from the
checkpoints ``solarray demo`` leaves (or ``--checkpoint-dir``); its regions are matched one-to-one
to the true active regions (:func:`solarray.metrics.region_match.match_regions`): recall of true
regions ≥ 300 MSH within 5° of a true centre, precision, median area ratio detected/true.
"""

from __future__ import annotations

import json
import socket
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd
from ray import serve

from solarray.benchmarks.script import Bench
from solarray.core.checkpoints import default_checkpoint_dir
from solarray.core.multipart import encode_multipart
from solarray.core.ray_connect import connect
from solarray.data.synthetic import SynthConfig, generate
from solarray.metrics.region_match import match_regions
from solarray.serve.app import FPNET, IATOOLS, INGRESS, SPNET, build_app

CHANNELS = "hmi_m,aia193,aia304"
BENCH = Bench("serve_regions", "benchmarks/serve_regions.py", __doc__)


def _post(url: str, files: list[Path]) -> dict:
    body, ctype = encode_multipart([("files", f.name, f.read_bytes()) for f in files])
    req = urllib.request.Request(url, data=body)
    req.add_header("Content-Type", ctype)
    with urllib.request.urlopen(req, timeout=600) as resp:
        return json.loads(resp.read())


FLAGS = {"--checkpoint-dir": None, "--suns": 3, "--size": (512, "rendered (uploaded) image size"),
         "--grid": (128, "the service's sample grid (the models')"), "--min-msh": 300.0,
         "--max-deg": 5.0,
         "--channels": (CHANNELS, "rendered and posted channels (every one the checkpoints read)")}


def main(argv: list[str] | None = None) -> int:
    args = BENCH.parse(argv, FLAGS)
    ckpt = Path(args.checkpoint_dir).expanduser() if args.checkpoint_dir else default_checkpoint_dir()
    tmp = Path(tempfile.mkdtemp(prefix="solarray-serve-regions-"))
    channels = tuple(c.strip() for c in args.channels.split(",") if c.strip())
    steps = []
    for k in range(args.suns):
        out = tmp / f"sun{k}"
        generate(SynthConfig(start=f"2024-06-{10 + k:02d}T00:00", hours=0, size=args.size,
                             seed=5000 + k, channels=channels, preview=False), out)
        steps.append(out)
    connect(num_cpus=2)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    serve.start(http_options={"host": "127.0.0.1", "port": port, "request_timeout_s": 600})
    url = f"http://127.0.0.1:{port}/v1/forecast"
    rows, pooled_det, pooled_truth = [], [], []
    try:
        for k, out in enumerate(steps):
            common = {"ray_actor_options": {"num_cpus": 0.25}}
            opts = {SPNET: {**common, "user_config": {"checkpoint_dir": str(ckpt)}},
                    IATOOLS: {**common, "user_config": {"checkpoint_dir": str(ckpt),
                                                        "goes": {"xrs": str(out)}}},
                    FPNET: {**common, "user_config": {"checkpoint_dir": str(ckpt)}},
                    INGRESS: {**common, "user_config": {"size": args.grid,
                                                        "request_timeout_s": 600}}}
            serve.run(build_app(opts), name="forecaster", route_prefix="/")
            files = [sorted((out / "fits" / c).glob("*.fits"))[0] for c in channels]
            t = time.perf_counter()
            resp = _post(url, files)
            dt = time.perf_counter() - t
            truth = pd.read_parquet(out / "tables" / "ar.parquet")
            det = [r for r in resp["regions"] if r.get("hgs_lon") is not None]
            m = match_regions(det, truth, max_distance_deg=args.max_deg,
                              min_truth_area_msh=args.min_msh)
            rows.append({"sun": k, "seconds": round(dt, 2), "warnings": resp.get("warnings", []),
                         "n_true": int(len(truth)), "n_true_counted": int(
                             (truth["area_msh"] >= args.min_msh).sum()),
                         "true_msh": [round(float(a)) for a in truth["area_msh"]],
                         "detected_msh": [round(float(r.get("area_msh") or 0)) for r in det],
                         **m.to_dict()})
            pooled_det += [dict(r, _sun=k) for r in det]
            pooled_truth.append(truth.assign(_sun=k))
            print(f"sun {k}: {len(truth)} true ARs ({rows[-1]['n_true_counted']} ≥ "
                  f"{args.min_msh:g} MSH), {len(det)} detected; recall {m.recall}, precision "
                  f"{m.precision}, median area ratio {m.median_area_ratio} ({dt:.1f} s)")
    finally:
        serve.shutdown()
    # Pooled over Suns (match within each Sun, then sum the counts).
    matched = sum(r["n_matched"] for r in rows)
    counted = sum(r["n_matched"] + r["n_missed"] for r in rows)
    ratios = [p["area_ratio"] for r in rows for p in r["pairs"] if p.get("area_ratio") is not None]
    pooled = {"recall": matched / counted if counted else None,
              "precision": matched / max(1, matched + sum(r["n_false"] for r in rows)),
              "median_area_ratio": float(np.median(ratios)) if ratios else None,
              "matched": matched, "counted_truth": counted}
    print(f"pooled: {pooled}")
    BENCH.finish(vars(args) | {"checkpoint_dir": str(ckpt)}, {"per_sun": rows, "pooled": pooled},
                 range(args.suns))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
