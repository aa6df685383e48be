"""Benchmark the generic Ray Train loop and record SolarCHIP's learning evidence.

    python benchmarks/train.py --part throughput   # Ray Train 1/2 workers vs plain PyTorch; loader
    python benchmarks/train.py --part evidence     # tiny SolarCHIP: init vs trained
    python benchmarks/train.py                     # both

Throughput: the same model (SolarCHIP ``tiny`` preset, 64², 4 channels), optimiser
and data go through (a) the floor, a plain single-process PyTorch loop over the same batches in
memory, (b) the Ray Train loop from Parquet with 1 worker, (c) with 2 workers — in ``--repeats``
interleaved rounds (:mod:`solarray.benchmarks.arms`). Per arm: wall time per sample after
start-up (first to last metric report, as the Train controller receives them) and the CPU
seconds of every process (driver, GCS, raylet, Train controller and workers, Ray Data tasks;
``/proc`` before and after, start-up included) — :mod:`solarray.benchmarks.train_overhead`.
Every process uses one torch thread. JSON to ``--out``. The loader part times
``read_parquet → iter_torch_batches`` alone.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
os.environ.setdefault("RAY_TRAIN_HEALTH_CHECK_INTERVAL_S", "0.2")
os.environ.setdefault("RAY_TRAIN_ENABLE_PREEMPTION_WATCHER", "0")
os.environ.setdefault("RAY_DATA_DISABLE_PROGRESS_BARS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from solarray.benchmarks.script import Bench  # noqa: E402
from solarray.train.config import TrainConfig  # noqa: E402

BENCH = Bench("train_overhead", "benchmarks/train.py", __doc__)

CH = ("aia171", "aia193", "aia304", "hmi_m")
MODEL = {"preset": "tiny"}  # 64², patch 8, dim 64, depth 2


def _write_parquet(n: int, out: Path) -> None:
    from solarray.data.synthetic.toy import toy_dataset

    toy_dataset(n, CH, size=64, seed=0, rows_per_block=64).write_parquet(str(out))


def loader_rate(path: str, batch: int, epochs: int = 4) -> tuple[list[float], list[float]]:
    """read_parquet → iter_torch_batches with no model, a fresh read per epoch:
    (seconds to the first batch, steady batches/s after it) per epoch."""
    import ray.data

    starts, rates = [], []
    for _ in range(epochs):
        n, t = 0, time.perf_counter()
        for _b in ray.data.read_parquet(path).select_columns(["image", "present"]) \
                .iter_torch_batches(batch_size=batch, dtypes=torch.float32, drop_last=True):
            if n == 0:
                t1 = time.perf_counter()
                starts.append(t1 - t)
            n += 1
        rates.append((n - 1) / (time.perf_counter() - t1))
    return starts, rates


def throughput(steps: int, batch: int, repeats: int, workers: tuple[int, ...]) -> None:
    """Plain loop (the floor) vs Ray Train with each worker count, interleaved rounds."""
    import pyarrow.parquet as pq
    import ray

    from solarray.benchmarks import arms as arms_mod
    from solarray.benchmarks import train_overhead as tov
    BENCH.t0 = time.perf_counter()
    torch.set_num_threads(1)
    tmp = Path(tempfile.mkdtemp(prefix="bench_train_"))
    _write_parquet(512, tmp / "shards")
    table = pq.read_table(tmp / "shards")
    images = np.stack([np.asarray(v, dtype=np.float32).reshape(len(CH), 64, 64)
                       for v in table.column("image").to_pylist()])
    ds = ray.data.read_parquet(str(tmp / "shards"))
    every = max(2, steps // 8)
    records: dict[str, list] = {}
    count = iter(range(10**6))
    rays = {w: (lambda w=w: tov.ray_arm(ds, MODEL, CH, w, steps, batch, every, tmp / "runs",
                                        f"bench_{w}w_{next(count)}")) for w in workers}
    arms = tov.arm_callables(lambda: tov.plain_arm(images, MODEL, CH, steps, batch, every),
                             rays, records)
    load0 = os.getloadavg()[0]
    walls = arms_mod.interleave(arms, repeats=repeats, warmup=0, progress=print)
    res: dict = {"arms": {}, "ratios": {}, "load_average": [load0, os.getloadavg()[0]]}
    for name, recs in records.items():
        res["arms"][name] = {
            "wall_s": arms_mod.summary(walls[name]),
            "cpu_s": arms_mod.summary([r.cpu_s for r in recs]),
            "ms_per_sample": arms_mod.summary([1e3 * r.s_per_sample for r in recs]),
            "cpu_ms_per_sample": arms_mod.summary([1e3 * r.cpu_s / r.samples for r in recs]),
            "samples": recs[0].samples}
    base = records["plain"]
    for w in workers:
        recs = records[f"ray{w}"]
        res["ratios"][f"ray{w}"] = {
            "step_wall": arms_mod.ratio([r.s_per_sample for r in recs],
                                        [b.s_per_sample for b in base]),
            "cpu_per_sample": arms_mod.ratio([r.cpu_s / r.samples for r in recs],
                                             [b.cpu_s / b.samples for b in base]),
            "arm_wall_per_sample": arms_mod.ratio(
                [w_ / r.samples for w_, r in zip(walls[f"ray{w}"], recs, strict=True)],
                [w_ / b.samples for w_, b in zip(walls["plain"], base, strict=True)])}
    print(f"\n## Ray Train vs the plain loop: SolarCHIP tiny 64², {len(CH)} channels, batch "
          f"{batch}/worker, {steps} steps, reports every {every}, 1 torch thread per process, "
          f"{repeats} interleaved rounds, load average {load0:.1f} → {os.getloadavg()[0]:.1f}")
    print("| arm | wall ms/sample after start-up | ratio | CPU ms/sample, all processes | ratio |"
          " arm wall s (incl. start-up) |")
    print("|---|---|---|---|---|---|")
    for name, a in res["arms"].items():
        r = res["ratios"].get(name)
        print(f"| {name} | {arms_mod.format_spread(a['ms_per_sample'], 'ms', 2)} | "
              f"{arms_mod.format_spread(r['step_wall'], '×', 2) if r else '1 (floor)'} | "
              f"{arms_mod.format_spread(a['cpu_ms_per_sample'], 'ms', 2)} | "
              f"{arms_mod.format_spread(r['cpu_per_sample'], '×', 2) if r else '1 (floor)'} | "
              f"{arms_mod.format_spread(a['wall_s'], 's', 1)} |")
    cfg = {"model": "solarchip_vit", "model_config": MODEL, "channels": CH, "steps": steps,
           "batch_per_worker": batch, "report_every": every, "workers": list(workers),
           "repeats": repeats, "torch_threads": 1, "samples_in_shards": 512}
    BENCH.finish(cfg, res, [0])


def evidence(steps: int) -> None:
    from solarray.data.synthetic.toy import toy_dataset, toy_samples
    from solarray.models import load_model
    from solarray.train.evidence import solarchip_evidence
    from solarray.train.loop import fit
    from solarray.train.objectives import get_objective

    torch.set_num_threads(1)
    tmp = Path(tempfile.mkdtemp(prefix="bench_evidence_"))
    n_train, n_test = 1024, 256
    tr = toy_samples(n_train, CH, size=64, seed=1)
    te = toy_samples(n_test, CH, size=64, seed=2)
    ds = toy_dataset(n_train, CH, size=64, seed=1, rows_per_block=256).materialize()
    cfg = TrainConfig(model="solarchip_vit", model_config=MODEL, channels=CH, steps=steps,
                      batch_size=32, lr=2e-3, warmup_steps=20, report_every=50,
                      checkpoint_every=steps, num_workers=0, torch_threads=1,
                      storage_path=str(tmp), run_name="evidence")
    torch.manual_seed(cfg.seed)
    init = get_objective(None, cfg.model).build_model(cfg.model, MODEL, CH)
    before = solarchip_evidence(init, tr, te)
    t = time.perf_counter()
    res = fit(cfg, ds, log=lambda *_: None)
    wall = time.perf_counter() - t
    after = solarchip_evidence(load_model(res.checkpoint), tr, te)
    print(f"\n## evidence: SolarCHIP tiny (ViT, 64², {len(CH)} channels), {steps} steps x 32, "
          f"lr 2e-3, {n_train} train / {n_test} test toy samples, fit {wall:.0f} s (1 thread)")
    print("metric                 init    trained   chance")
    for k, chance in (("top1", 1 / 32), ("top5", 5 / 32), ("probe_tss", 0.0)):
        print(f"{k:<20} {before[k]:7.3f}   {after[k]:7.3f}   {chance:6.3f}")


FLAGS = {"--part": {"choices": ("throughput", "evidence", "loader", "all"), "default": "all"},
         "--steps": (40, "throughput steps per run"), "--batch": (16, "per-worker batch size"),
         "--repeats": (3, "interleaved rounds of the arms"),
         "--workers": {"type": int, "nargs": "+", "default": [1, 2]},
         "--evidence-steps": 400}


def main(argv: list[str] | None = None) -> int:
    a = BENCH.parse(argv, FLAGS)
    import ray

    ray.init(num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False,
             object_store_memory=512 * 1024**2)
    if a.part in ("throughput", "all"):
        throughput(a.steps, a.batch, a.repeats, tuple(a.workers))
    if a.part == "loader":
        tmp = Path(tempfile.mkdtemp(prefix="bench_loader_"))
        _write_parquet(512, tmp / "shards")
        starts, loads = loader_rate(str(tmp / "shards"), a.batch)
        print(f"Parquet loader alone {max(loads):.1f} batches/s after the first batch (median "
              f"{np.median(loads):.1f}); first batch after {np.median(starts):.1f} s; "
              f"load average {os.getloadavg()[0]:.1f}")
    if a.part in ("evidence", "all"):
        evidence(a.evidence_steps)
    ray.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
