"""Benchmark of the forecaster service: one cycle's latency and the Serve app's throughput.

1. **Cycle latency** (library, no Ray): upload (3 FITS → 512² sample) + perception → analysis →
   forecast with tiny and with paper-sized SPNet/FPNet (ViT-B/16 encoders at 512²; the per-AR
   FPNet at its native 128² crop), p50/p95 and the stage breakdown. Target: < 5 s p50 on 2 CPUs
   with paper-sized models (seed 004: ~6 min per cycle on a V100S).
2. **Service throughput** (Ray Serve on 127.0.0.1, tiny models): a bounded concurrent load of
   POST /v1/forecast with SPNet/FPNet batching (max_batch_size 4) and without (1): requests/s,
   p50/p95 latency, errors. Baseline: the same requests sent one at a time.

    python benchmarks/serve.py                      # everything (~5–10 min on 2 CPUs)
    python benchmarks/serve.py --skip-paper --requests 12
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import json
import logging
import os
import sys
import tempfile
import time
import urllib.request
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

CHANNELS = ("aia193", "aia304", "hmi_m")


def pct(xs, q):
    return float(np.percentile(np.asarray(xs), q)) if len(xs) else float("nan")


def make_inputs(out: Path, size: int) -> tuple[list[tuple[str, bytes]], Path]:
    from solarray.data.synthetic import SynthConfig, generate

    generate(SynthConfig(start="2024-03-01T00:00", hours=0, size=size, seed=7, channels=CHANNELS,
                         preview=False), out)
    files = [sorted((out / "fits" / c).glob("*.fits"))[0] for c in CHANNELS]
    return [(f.name, f.read_bytes()) for f in files], out


def paper_checkpoints(ckdir: Path) -> None:
    """Paper-sized SPNet and FPNet (random weights: same compute as trained ones)."""
    import torch

    from solarray.core.checkpoints import ROLE_FILES as F
    from solarray.models import build, save_model

    torch.manual_seed(0)
    save_model(build("spnet", preset="paper", channels=CHANNELS), ckdir / F["spnet"])
    save_model(build("fpnet", preset="paper", channels=CHANNELS, mode="full_disk",
                     scalar_features=("f107", "flare_index", "area_msh", "n_ar"),
                     log_features=("flare_index", "area_msh")), ckdir / F["fpnet_full_disk"])
    save_model(build("fpnet", preset="paper", channels=CHANNELS, mode="ar", image_size=128),
               ckdir / F["fpnet_ar"])
    for task in ("hale", "mcintosh"):
        save_model(build("ar_classifier", task=task), ckdir / F[task])


def cycle_latency(uploads, synth_dir: Path, ckdir: Path, size: int, repeats: int) -> dict:
    from solarray.pipeline.cycle import run_cycle
    from solarray.pipeline.flare_history import FlareHistory
    from solarray.pipeline.inputs import InputConfig, sample_from_fits
    from solarray.pipeline.model_set import load_models

    models = load_models(checkpoint_dir=ckdir)
    history = FlareHistory.load(xrs=str(synth_dir))
    icfg = InputConfig(size=size, accepted=CHANNELS)
    rows = []
    for i in range(repeats + 1):  # the first run warms up (imports, allocator)
        t0, c0 = time.perf_counter(), time.process_time()
        sample = sample_from_fits(uploads, icfg)
        t_in, c_in = time.perf_counter() - t0, time.process_time() - c0
        r = run_cycle(sample, models, history=history)
        if i:
            rows.append({"input": t_in, **r.timings, "end_to_end": t_in + r.timings["total"],
                         "regions": len(r.analysis.ars),
                         **{f"cpu_{k}": v for k, v in r.cpu.items()}, "cpu_input": c_in,
                         "cpu_end_to_end": c_in + r.cpu["total"]})
    keys = ("input", "perception", "analysis", "forecast", "total", "end_to_end")
    out = {k: {"p50": pct([r[k] for r in rows], 50), "p95": pct([r[k] for r in rows], 95)}
           for k in keys + tuple(f"cpu_{k}" for k in keys)}
    out["regions"] = rows[-1]["regions"]
    out["params_M"] = {r: round(sum(p.numel() for p in lm.model.parameters()) / 1e6, 1)
                       for r, lm in models.roles.items() if hasattr(lm.model, "parameters")}
    return out


def truth_analysis(uploads, synth_dir: Path, size: int, repeats: int) -> dict:
    """IATools on the synthetic truth masks (what a trained SPNet would hand over)."""
    from solarray.data.truth import resample_masks
    from solarray.pipeline.analysis_stage import analyse
    from solarray.pipeline.flare_history import FlareHistory
    from solarray.pipeline.inputs import InputConfig, sample_from_fits
    from solarray.pipeline.model_set import load_models
    from solarray.pipeline.perception import Perception

    sample = sample_from_fits(uploads, InputConfig(size=size, accepted=CHANNELS))
    m = resample_masks(str(sorted((synth_dir / "masks").glob("*.fits"))[0]), size, 1.1)
    p = Perception(m.astype(np.float32), m.astype(np.uint8), 0.5)
    models = load_models(roles=("hale", "mcintosh"), checkpoint_dir=synth_dir / "none")
    history = FlareHistory.load(xrs=str(synth_dir))
    wall, cpu = [], []
    for i in range(repeats + 1):
        t0, c0 = time.perf_counter(), time.process_time()
        a = analyse(sample, p, hale=models.optional("hale"), mcintosh=models.optional("mcintosh"),
                    history=history)
        if i:
            wall.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
    return {"p50": pct(wall, 50), "cpu_p50": pct(cpu, 50), "regions": len(a.ars)}


def _post(url, body, ctype):
    req = urllib.request.Request(url, data=body)
    req.add_header("Content-Type", ctype)
    t0 = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=300) as resp:
            data = json.loads(resp.read())
            return resp.status, time.perf_counter() - t0, data["timings_s"]
    except urllib.error.HTTPError as err:
        return err.code, time.perf_counter() - t0, {}


def service_load(uploads, synth_dir: Path, size: int, requests: int, concurrency: int) -> dict:
    import socket

    import ray
    from ray import serve

    from solarray.serve.app import FPNET, IATOOLS, INGRESS, SPNET, build_app
    from solarray.serve.http import encode_multipart

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ray.init(num_cpus=2, include_dashboard=False, object_store_memory=512 * 2**20,
             log_to_driver=False)
    serve.start(http_options={"host": "127.0.0.1", "port": port, "request_timeout_s": 600})
    url = f"http://127.0.0.1:{port}/v1/forecast"
    body, ctype = encode_multipart([("files", n, b) for n, b in uploads])
    empty = tempfile.mkdtemp()
    results = {}
    try:
        for label, batch in (("no batching", 1), ("batching (max 4)", 4)):
            common = {"ray_actor_options": {"num_cpus": 0.5}, "graceful_shutdown_wait_loop_s": 0.1,
                      "graceful_shutdown_timeout_s": 1}
            opts = {SPNET: {**common, "user_config": {"checkpoint_dir": empty,
                                                      "max_batch_size": batch,
                                                      "batch_wait_timeout_s": 0.05}},
                    IATOOLS: {**common, "user_config": {"checkpoint_dir": empty,
                                                        "goes": {"xrs": str(synth_dir)}}},
                    FPNET: {**common, "user_config": {"checkpoint_dir": empty,
                                                      "max_batch_size": batch,
                                                      "batch_wait_timeout_s": 0.05}},
                    INGRESS: {**common, "user_config": {"size": size, "request_timeout_s": 600}}}
            serve.run(build_app(opts), name="forecaster", route_prefix="/")
            _post(url, body, ctype)  # warm-up
            if not results:
                seq = [_post(url, body, ctype) for _ in range(max(requests // 2, 3))]
                results["sequential"] = summarise(seq, sum(r[1] for r in seq))
            t0 = time.perf_counter()
            with cf.ThreadPoolExecutor(concurrency) as pool:
                res = list(pool.map(lambda _: _post(url, body, ctype), range(requests)))
            results[label] = summarise(res, time.perf_counter() - t0)
    finally:
        serve.shutdown()
        ray.shutdown()
    return results


def summarise(res, wall: float) -> dict:
    ok = [r for r in res if r[0] == 200]
    lat = [r[1] for r in ok]
    batches = [r[2].get("perception_batch", 1) for r in ok]
    stages = {k: pct([r[2][k] for r in ok], 50) for k in
              ("input", "perception", "analysis", "forecast")} if ok else {}
    return {"n": len(res), "errors": len(res) - len(ok), "rps": len(ok) / wall,
            "p50": pct(lat, 50), "p95": pct(lat, 95), "mean_spnet_batch": float(np.mean(batches))
            if batches else float("nan"), "stage_p50": stages}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--repeats", type=int, default=5, help="cycles per model size")
    ap.add_argument("--paper-repeats", type=int, default=3)
    ap.add_argument("--requests", type=int, default=16, help="requests per load level")
    ap.add_argument("--service-size", type=int, default=256,
                    help="sample grid of the service load test (pixels)")
    ap.add_argument("--concurrency", type=int, default=4)
    ap.add_argument("--skip-paper", action="store_true")
    ap.add_argument("--skip-service", action="store_true")
    args = ap.parse_args()
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    warnings.simplefilter("ignore")
    logging.getLogger("solarray.serve").setLevel(logging.ERROR)
    import torch

    print(f"# benchmarks/serve.py — {os.cpu_count()} CPUs visible, torch threads "
          f"{torch.get_num_threads()}, load average {os.getloadavg()[0]:.1f}")
    tmp = Path(tempfile.mkdtemp(prefix="solarray-bench-serve-"))
    t = time.perf_counter()
    uploads, synth_dir = make_inputs(tmp / "synth", args.size)
    print(f"inputs: 3 synthetic {args.size}² FITS ({sum(len(b) for _, b in uploads) / 2**20:.1f}"
          f" MiB) in {time.perf_counter() - t:.1f} s")

    res = {}
    (tmp / "none").mkdir()
    res["tiny"] = cycle_latency(uploads, synth_dir, tmp / "none", args.size, args.repeats)
    if not args.skip_paper:
        (tmp / "paper").mkdir()
        paper_checkpoints(tmp / "paper")
        res["paper"] = cycle_latency(uploads, synth_dir, tmp / "paper", args.size,
                                     args.paper_repeats)
    print(f"\n## cycle latency, {args.size}² × 3 channels, library: wall s (process CPU s)")
    print("| models | input | perception | analysis | forecast | cycle | end-to-end p50 | "
          "end-to-end p95 | ARs |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, r in res.items():
        cells = [f"{r[k]['p50']:.2f} ({r['cpu_' + k]['p50']:.2f})"
                 for k in ("input", "perception", "analysis", "forecast", "total", "end_to_end")]
        print(f"| {name} | " + " | ".join(cells) +
              f" | {r['end_to_end']['p95']:.2f} | {r['regions']} |")
    for name, r in res.items():
        print(f"{name} parameters (M): {r['params_M']}")
    ta = truth_analysis(uploads, synth_dir, args.size, args.repeats)
    print(f"analysis on the truth masks (a trained SPNet's output): {ta['p50']:.2f} s wall, "
          f"{ta['cpu_p50']:.2f} s CPU, {ta['regions']} ARs")
    if "paper" in res:
        p50 = res["paper"]["end_to_end"]["p50"]
        cpu = res["paper"]["cpu_end_to_end"]["p50"]
        print(f"paper / tiny end-to-end: {p50 / res['tiny']['end_to_end']['p50']:.1f}×; "
              f"paper vs 5 s target: {p50 / 5.0:.2f}× (wall), {cpu / 2 / 5.0:.2f}× "
              f"(CPU s / 2 cores); vs seed 004's ~360 s/cycle: {360.0 / p50:.0f}× faster")

    if not args.skip_service:
        svc = service_load(uploads, synth_dir, args.service_size, args.requests,
                           args.concurrency)
        print(f"\n## service, tiny models, {args.service_size}² grid, {args.requests} requests, "
              f"concurrency {args.concurrency} (s)")
        print("| load | requests | errors | req/s | p50 | p95 | mean SPNet batch | "
              "input / perception / analysis / forecast p50 |")
        print("|---|---|---|---|---|---|---|---|")
        for name, r in svc.items():
            st = r["stage_p50"]
            print(f"| {name} | {r['n']} | {r['errors']} | {r['rps']:.2f} | {r['p50']:.2f} | "
                  f"{r['p95']:.2f} | {r['mean_spnet_batch']:.2f} | "
                  + " / ".join(f"{st.get(k, float('nan')):.2f}" for k in
                               ("input", "perception", "analysis", "forecast")) + " |")
        base = svc["sequential"]["rps"]
        for name in ("no batching", "batching (max 4)"):
            print(f"{name} / sequential throughput: {svc[name]['rps'] / base:.2f}×")
        print(f"batching / no batching throughput: "
              f"{svc['batching (max 4)']['rps'] / svc['no batching']['rps']:.2f}×")
    return 0


if __name__ == "__main__":
    sys.exit(main())
