"""Reliability of the forecaster service on loopback: bad inputs, a burst, replicas killed.

    python benchmarks/reliability.py [--requests 64] [--in-flight 8] [--kills 3]
        [--kill-requests 24] [--kill-in-flight 4] [--bomb-mb 256]
        [--out docs/results/reliability.json]

Deploys the forecaster (tiny untrained models, explicitly allowed; IATools with 2 replicas) on
127.0.0.1 in a local 2-CPU Ray, then with :mod:`solarray.benchmarks.reliability`:

1. **Fuzz**: every bad upload once (truncated FITS, wrong BITPIX, NaN images, huge NAXIS, a gzip
   bomb, non-FITS bytes, duplicate channels, mismatched times, malformed requests): status and
   reason each; none may be 5xx.
2. **Burst**: ``--requests`` requests, half forecasts and half bad uploads interleaved,
   ``--in-flight`` at a time: answers by status, 5xx, latency.
3. **Replica killed**, ``--kills`` times: ``ray.kill`` one IATools replica while
   ``--kill-requests`` forecasts run ``--kill-in-flight`` at a time; failed requests (and whether
   each was in flight at the kill), seconds until a forecast sent after the kill succeeded and
   until Serve ran two replicas again.
4. Health after all of it.

Everything measured goes to ``--out`` (the protocol record of :mod:`solarray.benchmarks.record`).
"""

from __future__ import annotations

import json
import socket
import tempfile
import time
from pathlib import Path

from ray import serve

from solarray.benchmarks import reliability as rel
from solarray.benchmarks.script import Bench
from solarray.data.synthetic import SynthConfig, generate
from solarray.metrics.protocol import summarise
from solarray.serve.app import FPNET, IATOOLS, INGRESS, SPNET, build_app

CHANNELS = ("aia193", "aia304", "hmi_m")
APP, KILLED = "forecaster", "IATools"
BENCH = Bench("reliability", "benchmarks/reliability.py", __doc__)


def deploy(tmp: Path, synth: Path, size: int, port: int, max_request_mb: int) -> str:
    common = {"ray_actor_options": {"num_cpus": 0.25}, "graceful_shutdown_wait_loop_s": 0.1,
              "graceful_shutdown_timeout_s": 1}
    models = {"checkpoint_dir": str(tmp / "none"), "allow_untrained": True}
    (tmp / "none").mkdir(exist_ok=True)
    opts = {SPNET: {**common, "user_config": {**models, "max_batch_size": 4}},
            IATOOLS: {**common, "num_replicas": 2,
                      "user_config": {**models, "goes": {"xrs": str(synth)}}},
            FPNET: {**common, "user_config": dict(models)},
            INGRESS: {**common, "user_config": {"size": size, "max_request_mb": max_request_mb,
                                                "dataset_roots": [str(tmp)]}}}
    serve.start(http_options={"host": "127.0.0.1", "port": port, "request_timeout_s": 120})
    serve.run(build_app(opts), name=APP, route_prefix="/")
    return f"http://127.0.0.1:{port}"


FLAGS = {"--requests": 64, "--in-flight": 8, "--kills": 3, "--kill-requests": 24,
         "--kill-in-flight": 4, "--size": (96, "sample grid of the service (pixels)"),
         "--max-request-mb": 16, "--bomb-mb": (256, "inflated size of the gzip bomb")}


def main(argv: list[str] | None = None) -> int:
    args = BENCH.parse(argv, FLAGS)
    BENCH.start(torch_threads=None, num_cpus=2, object_store_memory=512 * 2**20)
    tmp = Path(tempfile.mkdtemp(prefix="solarray-reliability-"))
    generate(SynthConfig(start="2024-01-01T00:00", hours=0, size=128, seed=3, channels=CHANNELS,
                         preview=False), tmp / "synth")
    files = {c: sorted((tmp / "synth" / "fits" / c).glob("*.fits"))[0] for c in CHANNELS}
    good_files = {c: (f.name, f.read_bytes()) for c, f in files.items()}
    good = rel.encode_multipart([("files", *good_files[c]) for c in CHANNELS])
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    base = deploy(tmp, tmp / "synth", args.size, port, args.max_request_mb)
    results: dict = {}
    try:
        warm = rel.request(base, "/v1/forecast", *good)[0]
        if warm != 200:
            raise SystemExit(f"warm-up forecast answered {warm}")
        # 1. fuzz
        cases = rel.fuzz_cases(good_files, bomb_bytes=args.bomb_mb * 2**20,
                           request_limit=args.max_request_mb * 2**20)
        fuzz = rel.run_fuzz(base, cases)
        results["fuzz"] = {"cases": fuzz, "tried": len(fuzz),
                           "4xx_with_reason": sum(400 <= r["status"] < 500 and bool(r["reason"])
                                                  for r in fuzz),
                           "5xx": sum(r["status"] >= 500 for r in fuzz)}
        print(f"fuzz: {results['fuzz']['4xx_with_reason']}/{len(fuzz)} refused with a 4xx and "
              f"a reason, {results['fuzz']['5xx']} 5xx")
        for r in fuzz:
            print(f"  {r['status']} {r['name']}: {r['reason'][:100]}")
        # 2. burst
        jobs = []
        for i in range(args.requests):
            if i % 2 == 0:
                jobs.append(("good", "2xx", good))
            else:
                c = cases[(i // 2) % len(cases)]
                jobs.append((c.name, "4xx", c.payload))
        t = time.perf_counter()
        replies = rel.burst(base, jobs, args.in_flight)
        b = rel.summarise_replies(replies, time.perf_counter() - t)
        b["good"] = sum(j[1] == "2xx" for j in jobs)
        b["good_200"] = sum(r.status == 200 for r in replies if r.expect == "2xx")
        b["bad_4xx"] = sum(400 <= r.status < 500 for r in replies if r.expect == "4xx")
        b["in_flight"] = args.in_flight
        results["burst"] = b
        print(f"burst: {b['requests']} requests, {args.in_flight} in flight: {b['good_200']}/"
              f"{b['good']} forecasts 200, {b['bad_4xx']}/{b['requests'] - b['good']} bad 4xx, "
              f"{b['5xx']} 5xx, p50 {b['p50_s']:.2f} s, p95 {b['p95_s']:.2f} s")
        # 3. replicas killed
        kills = []
        for k in range(args.kills):
            res = rel.kill_replica_under_load(base, APP, KILLED, good, args.kill_requests,
                                          args.kill_in_flight, kill_after=args.kill_in_flight,
                                          replicas=2)
            kills.append(rel.report(res))
            print(f"kill {k + 1}: {json.dumps(kills[-1])}")
        results["kills"] = {
            "runs": kills, "requests": sum(r["requests"] for r in kills),
            "failed": sum(r["failed"] for r in kills),
            "failed_not_in_flight": sum(r["failed_not_in_flight"] for r in kills),
            "answer_again_s": summarise([r["answer_again_s"] for r in kills]),
            "replica_restored_s": summarise([r["replica_restored_s"] for r in kills])}
        # 4. health afterwards
        st, _, body = rel.request(base, "/v1/health")
        results["health_after"] = {"status": st, "body": json.loads(body)}
        results["forecast_after"] = rel.request(base, "/v1/forecast", *good)[0]
        print(f"health after: {st}; a forecast after: {results['forecast_after']}")
    finally:
        serve.shutdown()
    config = {k: v for k, v in vars(args).items() if k != "out"}
    config.update(killed_deployment=KILLED, replicas=2, channels=CHANNELS,
                  models="tiny untrained (allow_untrained)", cpus=2)
    BENCH.finish(config, results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
