"""Ingest benchmark: full-resolution 4096² level-1 files → 512² samples.

Measures, in one run:
  (a) the baseline: sunpy ``Map.rotate`` (recenter) + crop to ±1.1 R☉ + ``Map.resample`` to 512², in
      a plain loop (order 1 and sunpy/aiapy's default order 3), seconds per image, one core;
  (b) solarray's preprocessing (one affine warp after an area-mean block reduction), same images,
      same core → the per-core speed-up;
  (c) the Ray Data pipeline (``run_ingest``) on 1 and on 2 CPUs: samples/s after start-up, from two
      runs of N/2 and N samples ((N - N/2) / (T_N - T_N/2)), and the time including actor start-up;
  peak resident memory of one worker process for (a) and (b).

Inputs: the synthetic Sun renders one 4096² aia193 and one hmi_m frame (HMI rolled by ≈180°); the
samples are copies of that pair with shifted DATE-OBS (rendering costs ~20 s per 4k frame here).

    /work/venv/bin/python benchmarks/ingest.py [--samples 12] [--work /tmp/solarray-bench]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import timedelta

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
CHANNELS = ("aia193", "hmi_m")
SIZE = 512


def make_inputs(work: str, n_samples: int) -> list[str]:
    """One synthetic 4k frame per channel, cloned to ``n_samples`` time steps (12-min cadence)."""
    import glob

    from astropy.io import fits

    from solarray.data import sources
    from solarray.data.synthetic import SynthConfig, generate

    base = os.path.join(work, "synth4k")
    if not os.path.exists(os.path.join(base, "synth.json")):
        generate(SynthConfig(start="2024-01-01T00:00", hours=0.1, size=4096, seed=0,
                             channels=CHANNELS, preview=False), base)
    out = os.path.join(work, "fits")
    os.makedirs(out, exist_ok=True)
    paths = []
    for src in sorted(glob.glob(os.path.join(base, "fits", "*", "*.fits"))):
        data, header = sources.read_fits(src)
        t0 = sources.parse_time(header)
        ch = os.path.basename(os.path.dirname(src))
        for k in range(n_samples):
            p = os.path.join(out, f"{ch}_{k:03d}.fits")
            if not os.path.exists(p):
                h = header.copy()
                h["DATE-OBS"] = (t0 + timedelta(minutes=12 * k)).isoformat(timespec="milliseconds")
                h.remove("T_OBS", ignore_missing=True)
                fits.PrimaryHDU(data, header=h).writeto(p)
            paths.append(p)
    return sorted(paths)


def _peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM: reset at exec, unlike ru_maxrss)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def run_sunpy(paths: list[str], order: int) -> dict:
    """Baseline: Map → (DN/s) → rotate(recenter) → crop ±1.1 R☉ → resample 512²."""
    import warnings

    import astropy.units as u
    import numpy as np
    import sunpy.map
    from astropy.coordinates import SkyCoord

    warnings.simplefilter("ignore")
    times = []
    for i, p in enumerate([paths[0], *paths]):  # the first pass warms imports and caches
        t = time.perf_counter()
        m = sunpy.map.Map(p)
        if m.exposure_time is not None and m.exposure_time.to_value(u.s) > 0 and "AIA" in m.instrument:
            m = sunpy.map.Map(m.data / m.exposure_time.to_value(u.s), m.meta)
        r = m.rotate(order=order, recenter=True, missing=np.nan)
        half = 1.1 * r.rsun_obs
        sub = r.submap(SkyCoord(-half, -half, frame=r.coordinate_frame),
                       top_right=SkyCoord(half, half, frame=r.coordinate_frame))
        res = sub.resample([SIZE, SIZE] * u.pix)
        assert res.data.shape == (SIZE, SIZE)
        if i:
            times.append(time.perf_counter() - t)
    return {"s_per_image": float(np.median(times)), "times": times, "peak_rss_mb": _peak_rss_mb()}


def run_ours(paths: list[str]) -> dict:
    import warnings

    import numpy as np

    from solarray.data import preprocess as pp

    warnings.simplefilter("ignore")
    cfg = pp.PreprocessConfig(size=SIZE)
    times = []
    for i, p in enumerate([paths[0], *paths]):
        t = time.perf_counter()
        out = pp.preprocess_file(p, cfg=cfg)
        assert out.scaled.shape == (SIZE, SIZE)
        if i:
            times.append(time.perf_counter() - t)
    return {"s_per_image": float(np.median(times)), "times": times, "peak_rss_mb": _peak_rss_mb()}


def run_pipeline(inp: str, out: str, num_cpus: int, n_samples: int) -> dict:
    """Ingest the first ``n_samples`` samples on ``num_cpus`` CPUs; wall time incl. Ray start-up."""
    import shutil
    from datetime import datetime

    from solarray.core.ray_connect import connect
    from solarray.data import ingest as ing
    from solarray.data import preprocess as pp

    shutil.rmtree(out, ignore_errors=True)
    t = time.perf_counter()
    ray = connect(num_cpus=num_cpus, object_store_memory=1024**3)
    end = (datetime(2024, 1, 1) + timedelta(minutes=12 * n_samples - 6)).isoformat()
    cfg = ing.IngestConfig(input=inp, out_dir=out, channels=CHANNELS, end=end,
                           preprocess=pp.PreprocessConfig(size=SIZE), shard_size=4,
                           num_workers=num_cpus)
    t_ingest = time.perf_counter()
    summary = ing.run_ingest(cfg, log=lambda s: None)
    done = time.perf_counter()
    ray.shutdown()
    assert summary.written == n_samples, summary.text()
    return {"written": summary.written, "ingest_s": done - t_ingest, "wall_s": done - t,
            "driver_peak_rss_mb": _peak_rss_mb()}


def _sub(mode: str, args: list[str]) -> dict:
    cmd = [sys.executable, os.path.abspath(__file__), "--mode", mode, *args]
    res = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if res.returncode != 0:
        raise RuntimeError(f"{mode} failed:\n{res.stderr[-3000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def _baselines(one_pair: list[str]) -> tuple[dict, dict, dict]:
    ours = _sub("ours", one_pair)
    base1 = _sub("sunpy", ["--order", "1", *one_pair])
    base3 = _sub("sunpy", ["--order", "3", *one_pair])
    print(f"(b) solarray preprocess: {ours['s_per_image']:.3f} s/image, peak RSS {ours['peak_rss_mb']:.0f} MB")
    for name, b in (("order 1", base1), ("order 3", base3)):
        print(f"(a) sunpy rotate+resample {name}: {b['s_per_image']:.3f} s/image, peak RSS "
              f"{b['peak_rss_mb']:.0f} MB → solarray is {b['s_per_image'] / ours['s_per_image']:.1f}× faster per core")
    return ours, base1, base3


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=int, default=12)
    ap.add_argument("--work", default="/tmp/solarray-bench")
    ap.add_argument("--mode", default="all")
    ap.add_argument("--order", type=int, default=1)
    ap.add_argument("--cpus", type=int, default=1)
    ap.add_argument("--skip-baseline", action="store_true", help="only the Ray pipeline part (c)")
    ap.add_argument("paths", nargs="*")
    a = ap.parse_args()
    if a.mode == "sunpy":
        print(json.dumps(run_sunpy(a.paths, a.order)))
        return
    if a.mode == "ours":
        print(json.dumps(run_ours(a.paths)))
        return
    if a.mode == "pipeline":
        print(json.dumps(run_pipeline(a.paths[0], a.paths[1], a.cpus, a.samples)))
        return

    paths = make_inputs(a.work, a.samples)
    one_pair = [p for p in paths if p.endswith("_000.fits") or p.endswith("_001.fits")]
    load = os.getloadavg()[0]
    print(f"inputs: {len(paths)} files of 4096² ({a.samples} samples × {len(CHANNELS)} channels); "
          f"load average {load:.1f} on {os.cpu_count()} cores")
    ours = base1 = base3 = None
    if not a.skip_baseline:
        ours, base1, base3 = _baselines(one_pair)
    inp = os.path.join(a.work, "fits")
    # Throughput without start-up: (N - N/2) samples / (T(N) - T(N/2)).
    half = a.samples // 2
    pipe = {}
    for cpus in (1, 2):
        runs = [_sub("pipeline", ["--cpus", str(cpus), "--samples", str(n), inp,
                                  os.path.join(a.work, f"out{cpus}_{n}")]) for n in (half, a.samples)]
        rate = (a.samples - half) / (runs[1]["ingest_s"] - runs[0]["ingest_s"])
        pipe[cpus] = {"runs": runs, "samples_per_s": rate}
        print(f"(c) pipeline {cpus} CPU: {rate:.2f} samples/s ({rate * len(CHANNELS) / cpus:.2f} images/s "
              f"per CPU) after start-up; {runs[1]['ingest_s']:.1f} s for {a.samples} samples incl. "
              f"actor start-up; driver peak RSS {runs[1]['driver_peak_rss_mb']:.0f} MB")
    print(f"(c) scaling 1 → 2 CPUs: {pipe[2]['samples_per_s'] / pipe[1]['samples_per_s']:.2f}×")
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    print(json.dumps({"ours": ours, "sunpy_o1": base1, "sunpy_o3": base3, "pipeline": pipe,
                      "load": load}))


if __name__ == "__main__":
    main()
