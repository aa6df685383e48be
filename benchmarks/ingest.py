"""Ingest benchmark: 4096² level-1 files → 512² frames, every arm in one run, interleaved.

    python benchmarks/ingest.py [--samples 16] [--input-size 4096] [--repeats 3]
        [--work /tmp/solarray-bench-ingest] [--out docs/results/ingest.json]

Inputs: the synthetic Sun renders one aia193 and one hmi_m frame (HMI rolled by ≈180°) at
``--input-size``; they are cloned to ``--samples`` time steps (12-min cadence) as RICE-compressed
files, as JSOC exports them (cached in ``--work``).

One core, per file, arms interleaved in rotated order (:mod:`solarray.benchmarks.arms`), each
round one call per arm on the (aia193, hmi_m) pair: the read + decompress floor, solarray
``preprocess``, sunpy in the same order (superpixel, then rotate), and
``aiapy.calibrate.register`` (:mod:`solarray.benchmarks.ingest_arms`). Then the accuracy of the
timed solarray path against ``Map.rotate``, and the Ray Data pipeline (``run_ingest``) with 1 and
2 actors of 1 CPU each on a 2-CPU Ray, alternated: samples/s between the first and the last
shard written, so actor start-up is excluded.
"""

from __future__ import annotations

import glob
import os
import shutil
import time
import warnings
from datetime import datetime, timedelta

from solarray.benchmarks import ingest_arms as ia
from solarray.benchmarks.arms import format_spread, interleave, ratio, summary
from solarray.benchmarks.fullres import write_rice
from solarray.benchmarks.script import Bench
from solarray.data import ingest as ing
from solarray.data import preprocess as pp
from solarray.data import sources
from solarray.data.synthetic import SynthConfig, generate

CHANNELS = ("aia193", "hmi_m")
START = datetime(2024, 1, 1)
BENCH = Bench("ingest", "benchmarks/ingest.py", __doc__)


def make_inputs(work: str, n_samples: int, size: int) -> list[str]:
    """One synthetic frame per channel, cloned to ``n_samples`` RICE-compressed time steps."""
    base = os.path.join(work, f"synth{size}")
    if not os.path.exists(os.path.join(base, "synth.json")):
        generate(SynthConfig(start=START.isoformat(), hours=0, size=size, seed=0,
                             channels=CHANNELS, preview=False), base)
    out = os.path.join(work, f"fits{size}")
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
                write_rice(data, h, p)
            paths.append(p)
    return sorted(paths)


def per_file_arms(pair: list[str], size: int, repeats: int) -> dict:
    """Seconds per file of each single-core arm, rounds interleaved; ratios paired by round."""
    factor = {p: ia.block_factor(p, size) for p in pair}  # per channel: plate scales differ
    one = {"floor": lambda p: ia.floor(p, size),
           "solarray": lambda p: ia.solarray_arm(p, size),
           "sunpy_same_order": lambda p: ia.sunpy_same_order(p, size, factor[p]),
           "aiapy_register": lambda p: ia.aiapy_register(p, size)}
    for name in ("floor", "solarray", "sunpy_same_order"):  # imports and caches, untimed
        one[name](pair[0])
    arms = {name: (lambda f=f: [f(p) for p in pair]) for name, f in one.items()}
    times = interleave(arms, repeats=repeats, progress=print)
    per_file = {k: [t / len(pair) for t in v] for k, v in times.items()}
    out = {"seconds_per_file": {k: summary(v) for k, v in per_file.items()},
           "rounds": per_file,
           "block_factor": {os.path.basename(p): f for p, f in factor.items()},
           "ratios": {f"{k}/floor": ratio(per_file[k], per_file["floor"])
                      for k in per_file if k != "floor"}}
    for k in ("sunpy_same_order", "aiapy_register"):
        out["ratios"][f"{k}/solarray"] = ratio(per_file[k], per_file["solarray"])
    return out


def pipeline(inp: str, work: str, n_samples: int, size: int, repeats: int) -> dict:
    """``run_ingest`` with 1 and 2 actors, alternated; samples/s after the first shard."""
    rates: dict[str, list[float]] = {"1": [], "2": []}
    totals: dict[str, list[float]] = {"1": [], "2": []}
    shard = 2

    def run(workers: int) -> None:
        out = os.path.join(work, f"out_{workers}")
        shutil.rmtree(out, ignore_errors=True)
        marks: list[float] = []
        end = (START + timedelta(minutes=12 * n_samples - 6)).isoformat()
        cfg = ing.IngestConfig(input=inp, out_dir=out, channels=CHANNELS, end=end,
                               preprocess=pp.PreprocessConfig(size=size), shard_size=shard,
                               num_workers=workers)
        t = time.perf_counter()
        s = ing.run_ingest(cfg, log=lambda m: None, on_shard=lambda p: marks.append(time.perf_counter()))
        assert s.written == n_samples, s.text()
        rates[str(workers)].append(shard * (len(marks) - 1) / (marks[-1] - marks[0]))
        totals[str(workers)].append(time.perf_counter() - t)

    interleave({"1 actor": lambda: run(1), "2 actors": lambda: run(2)}, repeats=repeats,
               progress=print)
    return {"samples_per_s_after_startup": {k: summary(v) for k, v in rates.items()},
            "rounds": rates, "run_seconds_incl_startup": {k: summary(v) for k, v in totals.items()},
            "scaling_1_to_2": ratio(rates["2"], rates["1"]), "shard_size": shard,
            "samples": n_samples}


FLAGS = {"--samples": 16, "--input-size": 4096, "--size": 512, "--repeats": 3,
         "--work": "/tmp/solarray-bench-ingest",
         "--inputs-only": (False, "make the cached inputs and stop"),
         "--skip-pipeline": (False, "single-core arms only (no Ray)")}


def main(argv: list[str] | None = None) -> int:
    a = BENCH.parse(argv, FLAGS)
    warnings.simplefilter("ignore")
    paths = make_inputs(a.work, a.samples, a.input_size)
    if a.inputs_only:
        return 0
    pair = [p for p in paths if p.endswith("_000.fits")]
    load = {"start": os.getloadavg()}
    print(f"{len(paths)} RICE files of {a.input_size}² → {a.size}²; load average "
          f"{load['start'][0]:.2f} on {os.cpu_count()} cores; OpenCV: {ia.HAVE_OPENCV}")
    res = {"per_file": per_file_arms(pair, a.size, a.repeats)}
    res["accuracy"] = {os.path.basename(p).split("_0")[0]: ia.accuracy(p, a.size) for p in pair}
    load["after_single_core"] = os.getloadavg()
    if not a.skip_pipeline:
        BENCH.start(torch_threads=None, num_cpus=2, object_store_memory=512 * 1024**2,
                    restart_clock=False)
        res["pipeline"] = pipeline(os.path.dirname(pair[0]), a.work, a.samples, a.size,
                                   a.repeats)
    load["end"] = os.getloadavg()
    res["load_average"] = load
    res["opencv"] = ia.HAVE_OPENCV
    print("\nper file (one core):")
    for k, s in res["per_file"]["seconds_per_file"].items():
        print(f"  {k:18s} {format_spread(s)}")
    for k, r in res["per_file"]["ratios"].items():
        print(f"  {k:28s} {format_spread(r, unit='×', digits=2)}")
    for k, acc in res["accuracy"].items():
        print(f"accuracy {k}: {acc}")
    p = res.get("pipeline")
    for k, s in (p["samples_per_s_after_startup"] if p else {}).items():
        print(f"pipeline {k} actor(s): {format_spread(s, unit='samples/s', digits=2)}")
    if p:
        print(f"scaling 1 → 2: {format_spread(p['scaling_1_to_2'], unit='×', digits=2)}")
    print(f"load average {load}")
    config = {k: v for k, v in vars(a).items() if k != "inputs_only"} | {"channels": CHANNELS}
    BENCH.finish(config, res)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
