"""Benchmark the generic Ray Train loop and record SolarCHIP's learning evidence.

    python benchmarks/train.py --part throughput [--presets tiny small] [--steps 16]
        [--repeats 3] [--workers 1 2]   # Ray Train 1/2 workers vs the plain loop, same shards
    python benchmarks/train.py --part evidence     # tiny SolarCHIP: init vs trained
    python benchmarks/train.py                     # both

Throughput (``--presets tiny small``: SolarCHIP at 64² and 128², 4 channels): per preset the
same model, optimiser and toy data written as ingest's Parquet shards go through (a) the floor, one
process reading the same shards with the same decoding (:class:`~solarray.train.local_shards.
LocalShards`: pyarrow, Ray Data's block → numpy conversion and ``to_training``'s
batch function, one shard ahead in a thread), (b) ``pretrain`` under Ray Train with 1 worker,
(c) with 2 workers — in ``--repeats`` interleaved rounds (:mod:`solarray.benchmarks.arms`).
Per arm: wall time per sample after start-up (first to last metric report, as the Train
controller receives them), the CPU seconds of every process (driver, GCS, raylet, Train
controller and workers, Ray Data tasks; ``/proc`` sampled, start-up included) and, for Ray, the
workers' reported data wait and report fractions — :mod:`solarray.benchmarks.train_overhead`.
Every process uses one torch thread. ``--samples`` below ``steps × batch`` makes runs cross epochs;
both arms then replay the first epoch from memory (``--epoch-cache-mb``, 0: both stream every
epoch). ``scaling_2w_over_1w``: samples/s of 2 workers over 1
worker's, per round. JSON to ``--out``. The loader part times ``read_parquet →
iter_torch_batches`` alone.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from functools import partial
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
MODEL = "solarchip_vit"
TINY = {"preset": "tiny"}  # the evidence part: 64², patch 8, dim 64, depth 2
SIZES = {"tiny": 64, "small": 128}  # the presets' image sizes: the shards are written at them


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


def throughput(steps: int, batch: int, repeats: int, workers: tuple[int, ...],
               presets: tuple[str, ...], samples: int, report_every: int = 0,
               epoch_cache_mb: int = TrainConfig.epoch_cache_mb) -> None:
    """Per preset: the plain loop over the shards (the floor) vs Ray Train with each worker
    count, interleaved rounds."""
    from solarray.benchmarks import arms as arms_mod
    from solarray.benchmarks import train_overhead as tov
    BENCH.t0 = time.perf_counter()
    torch.set_num_threads(1)
    tmp = Path(tempfile.mkdtemp(prefix="bench_train_"))
    every = report_every or max(2, steps // 8)
    res: dict = {"presets": {}, "load_average": [os.getloadavg()[0]]}
    for preset in presets:
        size = SIZES[preset]
        shards = tov.write_toy_shards(tmp / f"shards{size}", samples, CH, size)
        model_cfg = {"preset": preset}
        records: dict[str, list] = {}
        runs = iter(f"bench_{preset}_{k}" for k in range(10**6))
        rays = {f"ray{w}": partial(lambda w, sh, mc, runs: tov.ray_arm(
            sh, MODEL, mc, w, steps, batch, every, tmp / "runs", f"{next(runs)}_{w}w",
            epoch_cache_mb=epoch_cache_mb), w, shards, model_cfg, runs) for w in workers}
        arms = tov.arm_callables(partial(tov.plain_arm, shards, MODEL, model_cfg, CH, steps,
                                         batch, every, epoch_cache_mb=epoch_cache_mb),
                                 rays, records)
        load0 = os.getloadavg()[0]
        walls = arms_mod.interleave(arms, repeats=repeats, warmup=0, progress=print)
        out = {"image_size": size, "arms": {}, "ratios": {},
               "load_average": [load0, os.getloadavg()[0]]}
        for name, recs in records.items():
            out["arms"][name] = {
                "wall_s": arms_mod.summary(walls[name]),
                "cpu_s": arms_mod.summary([r.cpu_s for r in recs]),
                "ms_per_sample": arms_mod.summary([1e3 * r.s_per_sample for r in recs]),
                "samples_per_s": arms_mod.summary([1 / r.s_per_sample for r in recs]),
                "cpu_ms_per_sample": arms_mod.summary([1e3 * r.cpu_s / r.samples for r in recs]),
                "samples": recs[0].samples}
            if name != "plain":
                out["arms"][name]["data_wait_frac"] = arms_mod.summary(
                    [r.data_wait_frac for r in recs])
                out["arms"][name]["worker_samples_per_cpu_s"] = arms_mod.summary(
                    [r.worker_samples_per_cpu_s for r in recs])
                out["arms"][name]["report_frac"] = arms_mod.summary([r.report_frac for r in recs])
        base = records["plain"]
        for w in workers:
            recs = records[f"ray{w}"]
            out["ratios"][f"ray{w}"] = {
                "step_wall": arms_mod.ratio([r.s_per_sample for r in recs],
                                            [b.s_per_sample for b in base]),
                "cpu_per_sample": arms_mod.ratio([r.cpu_s / r.samples for r in recs],
                                                 [b.cpu_s / b.samples for b in base]),
                "arm_wall_per_sample": arms_mod.ratio(
                    [w_ / r.samples for w_, r in zip(walls[f"ray{w}"], recs, strict=True)],
                    [w_ / b.samples for w_, b in zip(walls["plain"], base, strict=True)])}
        if 1 in workers:
            for w in workers:
                if w > 1:  # data-parallel scaling: samples/s of w workers over one worker's
                    out["ratios"][f"scaling_{w}w_over_1w"] = arms_mod.ratio(
                        [r.s_per_sample for r in records["ray1"]],
                        [r.s_per_sample for r in records[f"ray{w}"]])
        res["presets"][preset] = out
        _print_table(preset, size, out, steps, batch, every, repeats)
    res["load_average"].append(os.getloadavg()[0])
    cfg = {"model": MODEL, "presets": list(presets), "channels": CH, "steps": steps,
           "batch_per_worker": batch, "report_every": every, "workers": list(workers),
           "repeats": repeats, "torch_threads": 1, "samples_in_shards": samples,
           "epochs": steps * batch / samples, "epoch_cache_mb": epoch_cache_mb,
           "rows_per_shard": 64}
    BENCH.finish(cfg, res, [0])


def _print_table(preset: str, size: int, out: dict, steps: int, batch: int, every: int,
                 repeats: int) -> None:
    from solarray.benchmarks.arms import format_spread

    la = out["load_average"]
    print(f"\n## Ray Train vs the plain loop over the same shards: {MODEL} {preset} {size}², "
          f"{len(CH)} channels, batch {batch}/worker, {steps} steps, reports every {every}, "
          f"1 torch thread per process, {repeats} interleaved rounds, load average "
          f"{la[0]:.1f} → {la[1]:.1f}")
    print("| arm | wall ms/sample after start-up | ratio | CPU ms/sample, all processes | ratio |"
          " arm wall s (incl. start-up) | worker data wait | worker in reports |")
    print("|---|---|---|---|---|---|---|---|")
    for name, a in out["arms"].items():
        r = out["ratios"].get(name)
        wait = a.get("data_wait_frac")
        print(f"| {name} | {format_spread(a['ms_per_sample'], 'ms', 2)} | "
              f"{format_spread(r['step_wall'], '×', 2) if r else '1 (floor)'} | "
              f"{format_spread(a['cpu_ms_per_sample'], 'ms', 2)} | "
              f"{format_spread(r['cpu_per_sample'], '×', 2) if r else '1 (floor)'} | "
              f"{format_spread(a['wall_s'], 's', 1)} | "
              f"{format_spread(wait, '', 2) if wait else '—'} | "
              f"{format_spread(a['report_frac'], '', 2) if wait else '—'} |")
    for k, r in out["ratios"].items():
        if k.startswith("scaling"):
            print(f"{k}: {format_spread(r, '×', 2)} (samples/s)")


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
    cfg = TrainConfig(model=MODEL, model_config=TINY, channels=CH, steps=steps,
                      batch_size=32, lr=2e-3, warmup_steps=20, report_every=50,
                      checkpoint_every=steps, num_workers=0, torch_threads=1,
                      storage_path=str(tmp), run_name="evidence")
    torch.manual_seed(cfg.seed)
    init = get_objective(None, cfg.model).build_model(cfg.model, TINY, CH)
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
         "--presets": {"nargs": "+", "choices": tuple(SIZES), "default": ["tiny", "small"]},
         "--report-every": (0, "steps between metric reports (0: steps // 8, at least 2)"),
         "--samples": (512, "toy samples written to the shards (per preset)"),
         "--epoch-cache-mb": (TrainConfig.epoch_cache_mb,
                              "first epoch kept in memory for later epochs, both arms (0: every "
                              "epoch streams)"),
         "--evidence-steps": 400}


def main(argv: list[str] | None = None) -> int:
    a = BENCH.parse(argv, FLAGS)
    import ray

    # address="local": its own Ray instance, never a cluster another job left running here
    ray.init(address="local", num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False,
             object_store_memory=512 * 1024**2)
    if a.part in ("throughput", "all"):
        throughput(a.steps, a.batch, a.repeats, tuple(a.workers), tuple(a.presets), a.samples,
                   a.report_every, a.epoch_cache_mb)
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
