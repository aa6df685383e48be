"""Benchmark of the forecaster service: ``@serve.batch`` on vs off, and one cycle's latency.

1. **Cycle latency** (library, no Ray): upload (3 FITS → 512² sample) + perception → analysis →
   forecast with tiny and with paper-sized SPNet/FPNet (ViT-B/16 encoders at 512²; the per-AR
   FPNet at its native 128² crop), p50/p95 and the stage breakdown. Target: < 5 s p50 on 2 CPUs
   with paper-sized models (SA-AI 2025: ~6 min per cycle on a V100S).
2. **Batching ratios** (Ray Serve on 127.0.0.1, untrained ``--preset`` models): two
   forecaster apps side by side, SPNet/FPNet ``max_batch_size`` 1 (``/b1``) and 4 (``/b4``);
   bursts of ``--requests`` calls with ``--concurrency`` in flight on SPNet alone (deployment
   handle) and end to end (POST /v1/forecast), the four arms in ``--rounds`` rotated rounds
   (:mod:`solarray.benchmarks.arms`): requests/s, p50/p95, mean SPNet batch, and the ratios
   batching on / off with their per-round range. JSON to ``--out``.

    python benchmarks/serve.py --skip-cycle            # the batching ratios (~3 min on 2 CPUs)
    python benchmarks/serve.py --skip-service --skip-paper
"""

from __future__ import annotations

import json
import logging
import os
import sys
import tempfile
import time
import urllib.error
import urllib.request
import warnings
from pathlib import Path

import numpy as np

from solarray.benchmarks.script import Bench

CHANNELS = ("aia193", "aia304", "hmi_m")
BENCH = Bench("serve_batching", "benchmarks/serve.py", __doc__)


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
    try:
        with urllib.request.urlopen(req, timeout=300) as resp:
            timings = json.loads(resp.read())["timings_s"]
            return resp.status == 200, {**timings, "batch": timings["perception_batch"]}
    except urllib.error.HTTPError as err:
        return False, {"status": err.code, "error": f"HTTP {err.code}: {err.read()[:300]!r}"}


STAGES = ("input", "perception", "analysis", "forecast", "perception_compute")


def service_ratios(uploads, synth_dir: Path, size: int, requests: int, concurrency: int,
                   repeats: int, preset: str, log=print) -> dict:
    """``@serve.batch`` on vs off, on SPNet alone and end to end, interleaved rounds.

    Two forecaster apps run side by side (one deployment, never redeployed, per variant): ``b1``
    (SPNet and FPNet ``max_batch_size`` 1) at ``/b1`` and ``b4`` (4) at ``/b4``; the other app's
    replicas idle while one is loaded. Arms: a burst of ``requests`` POST /v1/forecast with
    ``concurrency`` in flight on each app, and the same burst of the same sample straight to
    each app's SPNet deployment (``segment`` through a deployment handle).
    """
    import socket

    from ray import serve

    from solarray.benchmarks import arms as arms_mod
    from solarray.benchmarks import serve_load as sl
    from solarray.core.multipart import encode_multipart
    from solarray.core.ray_connect import connect
    from solarray.pipeline.inputs import InputConfig, sample_from_fits
    from solarray.serve.app import FPNET, IATOOLS, INGRESS, SPNET, build_app

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    connect(num_cpus=2, object_store_memory=512 * 2**20)
    serve.start(http_options={"host": "127.0.0.1", "port": port, "request_timeout_s": 600})
    body, ctype = encode_multipart([("files", n, b) for n, b in uploads])
    sample = sample_from_fits(uploads, InputConfig(size=size, accepted=CHANNELS))
    empty = tempfile.mkdtemp()
    batches = {"b1": 1, "b4": 4}
    bursts: dict[str, list[dict]] = {}
    failed: dict[str, str] = {}
    try:
        for app, batch in batches.items():
            # Logical CPUs only (0.1 each): both apps' 8 replicas fit on the 2 cores' budget;
            # the OS shares the real cores among whichever replicas are busy.
            common = {"ray_actor_options": {"num_cpus": 0.1},
                      "graceful_shutdown_wait_loop_s": 0.1, "graceful_shutdown_timeout_s": 1}
            model = {"checkpoint_dir": empty, "untrained_preset": preset,
                     "max_batch_size": batch, "batch_wait_timeout_s": 0.05}
            opts = {SPNET: {**common, "user_config": model},
                    IATOOLS: {**common, "user_config": {"checkpoint_dir": empty,
                                                        "goes": {"xrs": str(synth_dir)}}},
                    FPNET: {**common, "user_config": model},
                    INGRESS: {**common, "user_config": {"size": size, "request_timeout_s": 600}}}
            serve.run(build_app(opts), name=app, route_prefix=f"/{app}")
        arms = {}
        for app in batches:
            url = f"http://127.0.0.1:{port}/{app}/v1/forecast"
            handle = serve.get_deployment_handle(SPNET, app_name=app)

            def e2e(url=url):
                return _post(url, body, ctype)

            def spnet(handle=handle):
                _, seconds, batch = handle.segment.remote(sample, None).result()
                return True, {"batch": batch, "perception_compute": seconds}

            kinds = {"spnet": spnet, "e2e": e2e}
            for kind, fn in list(kinds.items()):  # warm-up: connections, lazy initialisation
                for _ in range(2):
                    ok, info = fn()
                    if not ok:
                        log(f"{app} {kind}: warm-up request failed, arm dropped: {info}")
                        failed[f"{kind}_{app}"] = str(info)
                        kinds.pop(kind)
                        break
            for kind, fn in kinds.items():
                name = f"{kind}_{app}"
                bursts[name] = []
                arms[name] = (lambda name=name, fn=fn: _burst(bursts[name], fn, requests,
                                                              concurrency, log))
        walls = arms_mod.interleave(arms, repeats=repeats, progress=log)
    finally:
        serve.shutdown()
    out: dict = {"apps": list(batches), "bursts": bursts, "arms": {}, "ratios": {},
                 "failed_arms": failed,
                 "arm_wall_s": {k: arms_mod.summary(v) for k, v in walls.items()}}
    for name, bs in bursts.items():
        out["arms"][name] = {k: arms_mod.summary(sl.arm_series(bs, k))
                             for k in ("rps", "p50", "p95", "mean_batch", "max_batch")}
        out["arms"][name]["errors"] = sum(b["errors"] for b in bs)
        out["arms"][name]["stage_p50"] = {
            k: arms_mod.summary([b["stage_p50"][k] for b in bs])
            for k in STAGES if all(b["stage_p50"].get(k) == b["stage_p50"].get(k) for b in bs)}
    for kind in ("spnet", "e2e"):
        if f"{kind}_b4" not in bursts or f"{kind}_b1" not in bursts:
            continue
        on, off = bursts[f"{kind}_b4"], bursts[f"{kind}_b1"]
        out["ratios"][kind] = {k: arms_mod.ratio(sl.arm_series(on, k), sl.arm_series(off, k))
                               for k in ("rps", "p50", "p95")}
    return out


def _burst(into: list, fn, requests: int, concurrency: int, log) -> None:
    from solarray.benchmarks import serve_load as sl

    s = sl.load_summary(*sl.closed_loop(fn, requests, concurrency), stage_keys=STAGES)
    into.append(s)
    log(f"  {s['rps']:.2f} req/s, p50 {s['p50']:.3f} s, mean batch {s['mean_batch']:.2f}, "
        f"errors {s['errors']} {s['first_error']}")
    if s["errors"] == s["n"]:
        raise SystemExit(f"every request failed: {s['first_error']}")


def print_service(svc: dict, size: int, requests: int, concurrency: int, repeats: int) -> None:
    from solarray.benchmarks.arms import format_spread as fs

    print(f"\n## service, {size}² grid, bursts of {requests} requests, {concurrency} in flight, "
          f"{repeats} interleaved rounds (median [min–max] over rounds)")
    print("| target | batching | req/s | p50 (s) | p95 (s) | mean batch | errors |")
    print("|---|---|---|---|---|---|---|")
    for kind, label in (("spnet", "SPNet alone"), ("e2e", "end to end")):
        for app, b in (("b1", "off (max 1)"), ("b4", "on (max 4)")):
            if f"{kind}_{app}" not in svc["arms"]:
                print(f"| {label} | {b} | failed: {svc['failed_arms'].get(f'{kind}_{app}')} |")
                continue
            a = svc["arms"][f"{kind}_{app}"]
            print(f"| {label} | {b} | {fs(a['rps'], '', 2)} | {fs(a['p50'], '', 3)} | "
                  f"{fs(a['p95'], '', 3)} | {fs(a['mean_batch'], '', 2)} | {a['errors']} |")
    for kind, label in (("spnet", "SPNet alone"), ("e2e", "end to end")):
        if kind not in svc["ratios"]:
            continue
        r = svc["ratios"][kind]
        print(f"{label}, batching on / off: throughput {fs(r['rps'], '×', 2)}, p50 "
              f"{fs(r['p50'], '×', 2)}, p95 {fs(r['p95'], '×', 2)}")
    for app in ("b1", "b4"):
        if f"e2e_{app}" not in svc["arms"]:
            continue
        st = svc["arms"][f"e2e_{app}"]["stage_p50"]
        print(f"end to end {app} stage p50: " + ", ".join(
            f"{k} {fs(v, 's', 3)}" for k, v in st.items()))


FLAGS = {"--size": 512, "--repeats": (5, "cycles per model size"), "--paper-repeats": 3,
         "--requests": (16, "requests per burst"),
         "--service-size": (128, "sample grid of the service load test (pixels)"),
         "--concurrency": 4, "--rounds": (3, "interleaved rounds of the service arms"),
         "--preset": ("tiny", "preset of the (untrained) SPNet/FPNet"),
         "--skip-cycle": (False, "only the service ratios"), "--skip-paper": False,
         "--skip-service": False}


def main(argv: list[str] | None = None) -> int:
    args = BENCH.parse(argv, FLAGS)
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    warnings.simplefilter("ignore")
    logging.getLogger("solarray.serve").setLevel(logging.ERROR)
    import torch

    load0 = os.getloadavg()[0]
    print(f"# benchmarks/serve.py — {os.cpu_count()} CPUs visible, torch threads "
          f"{torch.get_num_threads()}, load average {load0:.1f}")
    tmp = Path(tempfile.mkdtemp(prefix="solarray-bench-serve-"))
    results: dict = {}
    if not args.skip_cycle:
        results["cycle"] = cycle_part(args, tmp)
    if not args.skip_service:
        uploads, synth_dir = make_inputs(tmp / "svc", args.service_size)
        svc = service_ratios(uploads, synth_dir, args.service_size, args.requests,
                             args.concurrency, args.rounds, args.preset)
        print_service(svc, args.service_size, args.requests, args.concurrency, args.rounds)
        results["service"] = svc
    results["load_average"] = [load0, os.getloadavg()[0]]
    cfg = {k: v for k, v in vars(args).items() if k != "out"}
    BENCH.finish(cfg, results, [0])
    return 0


def cycle_part(args, tmp: Path) -> dict:
    """The library cycle's latency (tiny, and paper-sized models) and analysis on truth masks."""
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
    ta = truth_analysis(uploads, synth_dir, args.size, args.repeats)
    print(f"analysis on the truth masks: {ta['p50']:.2f} s wall, {ta['cpu_p50']:.2f} s CPU, "
          f"{ta['regions']} ARs")
    return {**res, "truth_analysis": ta}


if __name__ == "__main__":
    sys.exit(main())
