"""A forecast from full-resolution files: three 4096² RICE level-1 FITS → forecast, through
``solarray serve`` (HTTP upload) and through ``solarray watch``, beside the decode floor.

    python benchmarks/serve_fullres.py [--repeats 7] [--checkpoint-dir DIR] [--quick]
        [--arms floor,decode_one_thread,astropy_decode,input,watch,serve]
        [--out docs/results/serve_fullres.json]

Inputs (cached in ``--work``): one time step of the synthetic Sun (seed 7) at ``--input-size``²,
HMI magnetogram, AIA 193 and 304 Å, written RICE tile-compressed as JSOC exports level-1 files
(:func:`solarray.benchmarks.fullres.rice_time_step`; 38 MiB at 4096²). Models: the checkpoints
``--checkpoint-dir`` (default: the ones ``solarray demo`` leaves; tiny untrained stand-ins when
there are none, named so in the JSON).

Arms, one call each per round, rounds interleaved in rotated order after ``--warmup`` rounds
(:mod:`solarray.benchmarks.arms`):

- ``floor``: the RICE decode of the three files, one thread per file (the decoder the service
  uses) — what any forecast from these files must pay;
- ``decode_one_thread``: the same decode, one file after the other (what the threads buy);
- ``astropy_decode``: astropy's decode of the three files, one after the other (the decode before);
- ``input``: files → sample in this process (:func:`solarray.pipeline.inputs.sample_from_fits`:
  decode, preprocess);
- ``watch``: what ``solarray watch`` does for a landed set (read, decode, preprocess, cycle,
  store: :meth:`solarray.live.watcher.Watcher.forecast_set`), models in this process;
- ``serve``: ``solarray serve --num-cpus N`` in a subprocess, one multipart POST /v1/forecast of
  the three files from a client here, timed send → whole answer read. The service's stages come
  from its ``Server-Timing`` header: upload_parse (receiving and parsing the body), decode,
  preprocess, cycle (SPNet → IATools → FPNet through their deployments), response (building
  and encoding the answer); transport = client time − the service's time.

Reported: median [min–max] per arm and stage, p50/p95 of the serve and watch arms, and the ratio
of medians to the floor with the range of the per-round ratios. The target: p50 ≤ ``--target`` s
end to end on 2 CPUs.
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from solarray.benchmarks import fullres as fr
from solarray.benchmarks.arms import format_spread, interleave, ratio, summary
from solarray.benchmarks.script import Bench
from solarray.core import channels as chans
from solarray.core.checkpoints import ROLE_FILES, default_checkpoint_dir
from solarray.core.frame import DEFAULT_GRID
from solarray.core.multipart import encode_multipart
from solarray.data import sources
from solarray.live.discover import InputSet
from solarray.live.store import ForecastStore
from solarray.live.watcher import WatchConfig, Watcher
from solarray.pipeline.inputs import InputConfig, sample_from_fits

BENCH = Bench("serve_fullres", "benchmarks/serve_fullres.py", __doc__)
ARMS = ("floor", "decode_one_thread", "astropy_decode", "input", "watch", "serve")
SERVE_STAGES = ("upload_parse", "decode", "preprocess", "input", "perception", "analysis",
                "forecast", "cycle", "response", "server", "transport")
WATCH_STAGES = ("read", "decode", "preprocess", "input", "perception", "analysis", "forecast",
                "cycle", "total")
FLAGS = {"--input-size": 4096, "--size": DEFAULT_GRID, "--seed": 7, "--repeats": 7,
         "--warmup": 1, "--num-cpus": 2, "--target": (1.2, "p50 target, seconds"),
         "--checkpoint-dir": (None, "model checkpoints (default: the demo's)"),
         "--arms": ",".join(ARMS), "--work": "/tmp/solarray-bench-fullres",
         "--quick": (False, "the regression check: 3 rounds, no decode_one_thread and "
                            "astropy_decode arms")}


def watch_arm(files: Sequence[Path], synth_dir: Path, work: Path, size: int,
              checkpoint_dir: str) -> Callable[[], dict[str, float]]:
    """A call doing what ``solarray watch`` does once the set ``files`` has landed
    (:meth:`~solarray.live.watcher.Watcher.forecast_set`: read, decode, preprocess, cycle,
    store), each time into a fresh store; returns the stored forecast's stage times (s)."""
    work.mkdir(parents=True, exist_ok=True)
    w = Watcher(WatchConfig(input=str(files[0].parent), store=str(work / "store0"),
                            goes=str(synth_dir), size=size, checkpoint_dir=checkpoint_dir),
                log=lambda m: None)
    found = {}
    for p in files:
        header = sources.read_header(str(p))
        found[chans.channel_from_header(header)] = (str(p), sources.parse_time(header))
    t_ref = found["hmi_m"][1]
    s = InputSet(t_ref=t_ref, grid_time=t_ref, files={c: v[0] for c, v in found.items()},
                 landed=time.time())
    history = w.history()
    step = getattr(w, "forecast_set", None) or w._forecast  # (named _forecast before)
    calls = [0]

    def run() -> dict[str, float]:
        calls[0] += 1
        w.store = ForecastStore(work / f"store{calls[0]}")
        if not step(s, history):
            raise RuntimeError(f"the watcher stored no forecast: {w.store.skipped()}")
        response = json.loads(w.store.forecasts().iloc[-1]["response"])
        return {k: float(v) for k, v in response["timings_s"].items()}

    return run


def _pct(xs: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(xs), q))


def main(argv: list[str] | None = None) -> int:
    a = BENCH.parse(argv, FLAGS)
    warnings.simplefilter("ignore")
    if a.quick:
        a.repeats, a.arms = 3, ",".join(k for k in a.arms.split(",")
                                        if k not in ("decode_one_thread", "astropy_decode"))
    arms = tuple(a.arms.split(","))
    unknown = sorted(set(arms) - set(ARMS))
    if unknown or "floor" not in arms:
        raise SystemExit(f"--arms: unknown {unknown} or no floor; choose from {ARMS}")
    ckdir = Path(a.checkpoint_dir or default_checkpoint_dir()).expanduser()
    trained = all((ckdir / f).exists() for f in ROLE_FILES.values())
    work = Path(a.work)
    (work / "no-checkpoints").mkdir(parents=True, exist_ok=True)
    files, synth = fr.rice_time_step(work, a.input_size, a.seed)
    raws = [p.read_bytes() for p in files]
    uploads = [(p.name, b) for p, b in zip(files, raws, strict=True)]
    mib = sum(map(len, raws)) / 2**20
    load = {"start": os.getloadavg()}
    print(f"{len(files)} RICE files of {a.input_size}² ({mib:.1f} MiB) → {a.size}²; checkpoints "
          f"{ckdir if trained else 'none (untrained stand-ins)'}; load average "
          f"{load['start'][0]:.2f} on {os.cpu_count()} cores", flush=True)

    calls: dict[str, list[dict]] = {"serve": [], "watch": []}
    fns = {"floor": lambda: fr.decode_parallel(raws),
           "decode_one_thread": lambda: fr.decode_one_thread(raws),
           "astropy_decode": lambda: fr.decode_astropy(raws)}
    if "input" in arms:
        icfg = InputConfig(size=a.size, accepted=fr.CHANNELS)
        fns["input"] = lambda: sample_from_fits(uploads, icfg)
    if "watch" in arms:
        watch = watch_arm(files, synth, Path(tempfile.mkdtemp(prefix="fullres-watch-")),
                             a.size, str(ckdir) if trained else str(work / "no-checkpoints"))
        fns["watch"] = lambda: calls["watch"].append(watch())
    service = None
    if "serve" in arms:
        body, ctype = encode_multipart([("files", n, b) for n, b in uploads])
        args = ["--num-cpus", str(a.num_cpus), "--size", str(a.size), "--goes", str(synth),
                "--checkpoint-dir", str(ckdir if trained else work / "no-checkpoints")]
        service = fr.ServeProcess(args + ([] if trained else ["--allow-untrained"]))

        def serve_once() -> None:
            r = fr.post_upload(f"{service.url}/v1/forecast", body, ctype)
            if not r["ok"]:
                raise SystemExit(f"POST /v1/forecast failed: HTTP {r['status']} {r['error']}")
            calls["serve"].append(r)

        fns["serve"] = serve_once
    try:
        if service is not None:
            service.__enter__()
            print(f"service up at {service.url} (health {fr.wait_healthy(service.url)})",
                  flush=True)
        times = interleave({k: fns[k] for k in arms}, repeats=a.repeats, warmup=a.warmup,
                           progress=lambda m: print(m, flush=True))
    finally:
        if service is not None:
            service.__exit__(None, None, None)
    load["end"] = os.getloadavg()
    res = report(times, calls, a, mib, trained, ckdir)
    res["load_average"] = load
    BENCH.finish({k: v for k, v in vars(a).items() if k != "out"} | {"channels": fr.CHANNELS,
                                                                     "upload_mib": mib}, res)
    return 0


def report(times: dict[str, list[float]], calls: dict[str, list[dict]], a, mib: float,
           trained: bool, ckdir: Path) -> dict:
    """Summaries, stage tables and ratios to the floor (printed, and returned for the JSON)."""
    w = a.warmup  # the warm-up rounds' calls are recorded too: drop them
    serve, watch = calls["serve"][w:], calls["watch"][w:]
    e2e = dict(times)
    if serve:
        e2e["serve"] = [r["client_s"] for r in serve]
    res: dict = {"arms_s": {k: summary(v) for k, v in e2e.items()}, "rounds_s": e2e,
                 "checkpoints": str(ckdir) if trained else "untrained stand-ins",
                 "upload_mib": mib}
    res["ratios_to_floor"] = {k: ratio(v, e2e["floor"]) for k, v in e2e.items() if k != "floor"}
    for name, rows, stages in (("serve", serve, SERVE_STAGES), ("watch", watch, WATCH_STAGES)):
        if not rows:
            continue
        if name == "serve":  # the Server-Timing header (a service without one: the body's)
            rows = [{**r["body"], **r["server"]} | ({"transport": r["client_s"] -
                                                       r["server"]["server"]}
                                                      if "server" in r["server"] else {})
                    for r in rows]
        res[f"{name}_stages_s"] = {k: summary([r[k] for r in rows]) for k in stages
                                   if all(k in r for r in rows)}
        xs = e2e[name]
        res[f"{name}_p50_s"], res[f"{name}_p95_s"] = _pct(xs, 50), _pct(xs, 95)
        res[f"{name}_target_met"] = statistics.median(xs) <= a.target

    print(f"\n## {a.input_size}² RICE × 3 ({mib:.1f} MiB) → {a.size}² forecast, "
          f"{a.repeats} interleaved rounds (median [min–max])")
    for k, s in res["arms_s"].items():
        r = res["ratios_to_floor"].get(k)
        extra = f"  ×{r['median']:.2f} [{r['min']:.2f}–{r['max']:.2f}] the floor" if r else ""
        print(f"  {k:18s} {format_spread(s)}{extra}")
    for name in ("serve", "watch"):
        if f"{name}_stages_s" in res:
            print(f"{name} p50 {res[f'{name}_p50_s']:.3f} s, p95 {res[f'{name}_p95_s']:.3f} s "
                  f"(target {a.target} s: {'met' if res[f'{name}_target_met'] else 'NOT met'});"
                  " stages:")
            for k, s in res[f"{name}_stages_s"].items():
                print(f"    {k:13s} {format_spread(s)}")
    return res


if __name__ == "__main__":
    raise SystemExit(main())
