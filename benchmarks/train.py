"""Benchmark the generic Ray Train loop and record SolarCHIP's learning evidence.

    python benchmarks/train.py --part throughput   # Ray Train 1/2 workers vs plain PyTorch; loader
    python benchmarks/train.py --part evidence     # tiny SolarCHIP: init vs trained
    python benchmarks/train.py                     # both

Throughput: the same model (SolarCHIP ``tiny`` preset, 64², 4 channels), optimiser and Parquet
data go through (a) a plain single-process PyTorch loop over the data in memory, (b) the Ray Train
loop with 1 worker, (c) with 2 workers. Samples/s are the loop's own steady-state measurements
(metric reports after the first), so worker start-up is reported separately as wall time. Every
process uses one torch thread (a Ray worker reserves one CPU). The loader part times
``read_parquet → iter_torch_batches`` alone and compares its batches/s with the model's.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
os.environ.setdefault("RAY_TRAIN_HEALTH_CHECK_INTERVAL_S", "0.2")
os.environ.setdefault("RAY_TRAIN_ENABLE_PREEMPTION_WATCHER", "0")
os.environ.setdefault("RAY_DATA_DISABLE_PROGRESS_BARS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from solarray.train.config import TrainConfig  # noqa: E402

CH = ("aia171", "aia193", "aia304", "hmi_m")
MODEL = {"preset": "tiny"}  # 64², patch 8, dim 64, depth 2


def _write_parquet(n: int, out: Path) -> None:
    from solarray.data.synthetic.toy import toy_dataset

    toy_dataset(n, CH, size=64, seed=0, rows_per_block=64).write_parquet(str(out))


def plain_loop(images: np.ndarray, steps: int, batch: int, window: int = 10
               ) -> tuple[list[float], list[float]]:
    """Samples/s per ``window`` steps of a single-process PyTorch loop (same objective, AdamW,
    schedule, clipping), after the first window (warm-up): (wall rates, per-CPU-second rates)."""
    from solarray.train.loop import warmup_cosine
    from solarray.train.objectives import get_objective

    torch.manual_seed(0)
    obj = get_objective(None, "solarchip_vit")
    model = obj.build_model("solarchip_vit", MODEL, CH)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.95), weight_decay=0.05)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: warmup_cosine(s, 20, steps, 0.1))
    n = len(images)
    rates, cpu_rates, t0, c0 = [], [], time.perf_counter(), time.process_time()
    for s in range(steps):
        if s and s % window == 0:
            if s > window:
                rates.append(window * batch / (time.perf_counter() - t0))
                cpu_rates.append(window * batch / (time.process_time() - c0))
            t0, c0 = time.perf_counter(), time.process_time()
        i = (s * batch) % (n - batch + 1)
        x = torch.from_numpy(images[i:i + batch])
        loss, _ = obj.step(model, {"image": x})
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
    return rates, cpu_rates


def ray_loop(ds, workers: int, steps: int, batch: int, storage: str) -> tuple[list[dict], float]:
    """(the loop's metric reports after the first, wall time of fit incl. start-up)."""
    from solarray.train.loop import fit

    cfg = TrainConfig(model="solarchip_vit", model_config=MODEL, channels=CH, steps=steps,
                      batch_size=batch, report_every=10, checkpoint_every=steps,
                      num_workers=workers, torch_threads=1, storage_path=storage,
                      run_name=f"bench_{workers}w", cpus_per_worker=0.5 if workers > 1 else 1.0)
    t = time.perf_counter()
    res = fit(cfg, ds, log=lambda *_: None)
    wall = time.perf_counter() - t
    reports = [json.loads(s) for s in res.metrics_file.read_text().splitlines()]
    return reports[1:], wall


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


def throughput(steps: int, batch: int) -> None:
    import pyarrow.parquet as pq
    import ray

    torch.set_num_threads(1)
    tmp = Path(tempfile.mkdtemp(prefix="bench_train_"))
    _write_parquet(512, tmp / "shards")
    table = pq.read_table(tmp / "shards")
    images = np.stack([np.asarray(v, dtype=np.float32).reshape(len(CH), 64, 64)
                       for v in table.column("image").to_pylist()])
    ds = ray.data.read_parquet(str(tmp / "shards"))

    # Plain and Ray runs alternate so slow phases of a shared machine hit both. Wall rates are
    # best windows (least disturbed); per-CPU-second rates (samples per second of CPU time of
    # the training process) are medians and barely depend on other load on the machine.
    runs = {"plain": [], "plain_cpu": []}
    for label, workers in (("ray1", 1), ("ray2", 2)):
        w, c = plain_loop(images, steps, batch)
        runs["plain"] += w
        runs["plain_cpu"] += c
        runs[label], runs[label + "_wall"] = ray_loop(ds, workers, steps, batch, str(tmp / "runs"))
    w, c = plain_loop(images, steps, batch)
    runs["plain"] += w
    runs["plain_cpu"] += c
    plain, plain_cpu = max(runs["plain"]), float(np.median(runs["plain_cpu"]))
    starts, loads = loader_rate(str(tmp / "shards"), batch)
    model_bps = plain / batch
    print(f"\n## throughput: SolarCHIP tiny, 64², {len(CH)} channels, batch {batch}/worker, "
          f"{steps} steps, 1 torch thread per process, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.1f}")
    print("                       wall samples/s (best)  per-worker samples/CPU-s (median)  "
          "data wait")
    print(f"plain PyTorch loop     {plain:8.1f}  1.00            {plain_cpu:8.1f}  1.00")
    for label, name in (("ray1", "Ray Train 1 worker"), ("ray2", "Ray Train 2 workers")):
        reps = runs[label]
        wall = max(r["samples_per_s"] for r in reps)
        cpu = float(np.median([r["samples_per_cpu_s"] for r in reps]))
        wait = float(np.median([r["data_wait_frac"] for r in reps]))
        print(f"{name:<22} {wall:8.1f}  {wall / plain:.2f}            {cpu:8.1f}  "
              f"{cpu / plain_cpu:.2f}    {100 * wait:4.1f} %   (fit wall {runs[label + '_wall']:.0f} s)")
    print(f"Ray Train 1-worker overhead per CPU-second: "
          f"{100 * (1 - float(np.median([r['samples_per_cpu_s'] for r in runs['ray1']])) / plain_cpu):+.1f} %")
    print(f"Parquet loader alone   {max(loads):8.1f} batches/s after the first batch (best "
          f"epoch; median {np.median(loads):.1f}); first batch after {np.median(starts):.1f} s")
    print(f"model consumption      {model_bps:8.1f} batches/s   loader/model = "
          f"{max(loads) / model_bps:.1f}x")


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


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--part", choices=("throughput", "evidence", "loader", "all"), default="all")
    p.add_argument("--steps", type=int, default=80, help="throughput steps per run")
    p.add_argument("--batch", type=int, default=16, help="per-worker batch size")
    p.add_argument("--evidence-steps", type=int, default=400)
    a = p.parse_args()
    import ray

    ray.init(num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False,
             object_store_memory=512 * 1024**2)
    if a.part in ("throughput", "all"):
        throughput(a.steps, a.batch)
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
