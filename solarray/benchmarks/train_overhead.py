"""Ray Train's cost against its floor, the best single-process loop over the same Parquet shards.

Both arms read the same ingest-format shards (:func:`write_toy_shards`, written with
:func:`solarray.data.shards.write_shard`) and decode them with the same function: the Ray path
is ``pretrain`` (``read_shards`` → ``to_training`` → ``iter_torch_batches`` in each Train
worker); the floor (:func:`plain_arm`) reads each shard with pyarrow, converts it with Ray Data's
own block → numpy conversion and ``to_training``'s batch function
(:class:`solarray.train.local_shards.LocalShards`, the warm trainer's reader), one
shard ahead in a thread, and trains with the same objective, optimiser, schedule and clipping;
both keep the first epoch in memory when it fits and replay it for later epochs
(:class:`solarray.train.epoch_cache.EpochCache`, ``epoch_cache_mb``; 0 = both stream every epoch).
Each arm is one training run of ``steps`` steps; the benchmark script times the arms with
:func:`solarray.benchmarks.arms.interleave` (rotated rounds) and reads what each arm recorded:

* **wall seconds per sample after start-up**: the time between the first and the last metric
  report divided by the samples trained in between (Ray: stamped on the Train controller when
  each report arrives, so report latency counts; plain: the same windows in-process);
* **CPU seconds of every process** during the whole arm (start-up included): this process and
  all its descendants — Ray's GCS, raylet, the Train controller and workers, Ray Data's tasks —
  sampled from ``/proc`` every 0.2 s so that processes ending inside the arm count
  (:class:`TreeCpuMeter`; Ray's raylet ignores SIGCHLD, so its ended workers' CPU does not
  reach any parent's counters); for the plain loop, this
  process's CPU alone (the floor has no Ray, whose idle daemons would otherwise pad it);
* for Ray, what the workers report: the fraction of wall time spent waiting for a batch
  (``data_wait_frac``) and samples per CPU-second of the worker process.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import Any

import numpy as np

from solarray.data.shards import shard_paths, write_shard
from solarray.data.synthetic.toy import toy_samples
from solarray.train.config import TrainConfig
from solarray.train.epoch_cache import EpochCache
from solarray.train.local_shards import LocalShards
from solarray.train.loop import pretrain, read_columns, warmup_cosine
from solarray.train.objectives import get_objective

CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _proc_stat(pid: int) -> tuple[int, int, float, float] | None:
    """(parent pid, start time in ticks, own CPU seconds, CPU seconds of reaped children) from
    ``/proc/pid/stat``."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    fields = text[text.rindex(")") + 2:].split()  # after "pid (comm) ": field 3 is fields[0]
    own = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime
    reaped = (int(fields[13]) + int(fields[14])) / CLOCK_TICKS  # cutime, cstime
    return int(fields[1]), int(fields[19]), own, reaped


def _tree(root: int) -> dict[tuple[int, int], tuple[float, float]]:
    """``{(pid, start time): (own CPU s, reaped children's CPU s)}`` of ``root``'s tree."""
    stats = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            st = _proc_stat(int(entry))
            if st is not None:
                stats[int(entry)] = st
    children: dict[int, list[int]] = {}
    for pid, st in stats.items():
        children.setdefault(st[0], []).append(pid)
    out, stack = {}, [root]
    while stack:
        pid = stack.pop()
        if pid in stats:
            out[(pid, stats[pid][1])] = (stats[pid][2], stats[pid][3])
        stack += children.get(pid, [])
    return out


def tree_cpu_seconds(root: int | None = None) -> float:
    """CPU seconds (user + system) used so far by process ``root`` (default: this one) and its
    living descendants, plus descendants they reaped. Children whose parent ignores SIGCHLD
    (Ray's raylet) vanish without a trace: use :class:`TreeCpuMeter` over an interval."""
    return sum(own + reaped for own, reaped in
               _tree(os.getpid() if root is None else root).values())


class TreeCpuMeter:
    """CPU seconds of a process tree over an interval, processes that end inside it included:
    a thread samples every process of the tree every ``period`` s and keeps each one's last
    reading, so a process that exits loses at most its last ``period`` of CPU.

    ``with TreeCpuMeter() as m: ...`` then ``m.seconds``."""

    def __init__(self, root: int | None = None, period: float = 0.2):
        self.root = os.getpid() if root is None else root
        self.period = period
        self.first: dict[tuple[int, int], float] = {}
        self.last: dict[tuple[int, int], float] = {}
        self.seconds = float("nan")

    def _sample(self) -> None:
        for key, (own, _) in _tree(self.root).items():
            self.last[key] = own

    def _run(self) -> None:
        while not self._stop.wait(self.period):
            self._sample()

    def __enter__(self) -> TreeCpuMeter:
        import threading

        self.first = {k: own for k, (own, _) in _tree(self.root).items()}
        self.last = dict(self.first)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()
        self.seconds = sum(v - self.first.get(k, 0.0) for k, v in self.last.items())


def seconds_per_sample(stamps: list[tuple[int, float]], samples_per_step: int) -> float:
    """Wall seconds per sample between the first and the last ``(step, time)`` stamp."""
    if len(stamps) < 2:
        raise ValueError("need at least two report stamps to time the steady state")
    (s0, t0), (s1, t1) = stamps[0], stamps[-1]
    return (t1 - t0) / ((s1 - s0) * samples_per_step)


def report_clock(path: Path):
    """A Ray Train callback that appends ``{"step", "t", "wait", "per_cpu_s"}`` to ``path`` when a
    report arrives at the controller (``time.time``: the controller is another process; ``wait``
    and ``per_cpu_s``: the workers' mean ``data_wait_frac`` and ``samples_per_cpu_s``)."""
    from ray.train import UserCallback

    class ReportClock(UserCallback):
        def __init__(self, target: str):
            self.target = target

        def after_report(self, run_context, metrics, checkpoint) -> None:
            step = max(int(m.get("step", 0)) for m in metrics) if metrics else 0
            mean = {k: float(np.mean([m.get(k, np.nan) for m in metrics])) if metrics else None
                    for k in ("data_wait_frac", "samples_per_cpu_s", "report_frac")}
            with open(self.target, "a") as fh:
                fh.write(json.dumps({"step": step, "t": time.time(),
                                     "wait": mean["data_wait_frac"],
                                     "per_cpu_s": mean["samples_per_cpu_s"],
                                     "report": mean["report_frac"]}) + "\n")

    return ReportClock(str(path))


@dataclass
class ArmRecord:
    """What one run of an arm measured."""

    wall_s: float  # the whole arm, start-up included
    cpu_s: float  # every process of the tree over the whole arm
    s_per_sample: float  # steady state, after the first report
    samples: int  # samples trained
    data_wait_frac: float = float("nan")  # Ray workers: wall fraction waiting for a batch
    worker_samples_per_cpu_s: float = float("nan")  # Ray workers, per worker process
    report_frac: float = float("nan")  # Ray workers: wall fraction in the metric reports


def write_toy_shards(out: Path, n: int, channels, size: int, seed: int = 0,
                     rows_per_shard: int = 64, spacing_hours: int = 0) -> Path:
    """``n`` toy samples (:func:`~solarray.data.synthetic.toy.toy_samples`) as ingest's Parquet
    shards in ``out`` (``rows_per_shard`` rows each, no masks; ``spacing_hours`` > 0: the
    samples that far apart from the first one's time); returns ``out``."""
    cols = toy_samples(n, channels, size=size, seed=seed)
    t = cols["t_obs"].astype("datetime64[s]")
    if spacing_hours:
        t = t[0] + np.arange(n) * np.timedelta64(int(spacing_hours) * 3600, "s")
    rows = [{"t_obs": t[i].item().replace(tzinfo=UTC),
             "sample_id": str(cols["sample_id"][i]), "image": cols["image"][i],
             "present": cols["present"][i].astype(bool), "meta": "{}", "masks": None,
             "labels": {"flare_class_24h": "M1.0" if cols["flare_m24"][i] else "",
                        "f107": float(cols["f107"][i]), "f30": float(cols["f30"][i])}}
            for i in range(n)]
    out.mkdir(parents=True, exist_ok=True)
    for k in range(0, n, rows_per_shard):
        write_shard(rows[k:k + rows_per_shard], str(out), channels)
    return out


def cached_epochs(one_pass, cache: EpochCache):
    """Endless batches: ``one_pass()`` (a fresh iterator per epoch) until ``cache`` holds a
    whole epoch, then its replays — the generic loop's epoch handling, for the floor."""
    epoch = 0
    while True:
        yield from cache.replay(epoch) if cache.complete else cache.record(one_pass())
        epoch += 1


def plain_arm(shard_dir: Path, model: str, model_cfg: dict, channels, steps: int, batch: int,
              report_every: int, threads: int = 1,
              epoch_cache_mb: int = TrainConfig.epoch_cache_mb) -> ArmRecord:
    """The floor: one process trains over the same shards (:class:`~solarray.train.local_shards.LocalShards`) with the same
    objective, optimiser, schedule and clipping as the generic loop, and the same epoch cache
    (later epochs replayed from memory when the first fits in ``epoch_cache_mb``)."""
    import torch

    # This process only: the floor has no Ray (Ray's idle daemons would pad the floor).
    t_start, c_start = time.time(), time.process_time()
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    obj = get_objective(None, model)
    net = obj.build_model(model, model_cfg, channels)
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3, betas=(0.9, 0.95), weight_decay=0.05)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: warmup_cosine(s, 20, steps, 0.1))
    dtypes = {**obj.required, **obj.optional}
    source = LocalShards(tuple(shard_paths(str(shard_dir))), tuple(read_columns(dtypes)),
                         split=None).select_columns(list(dtypes))
    batches = cached_epochs(lambda: source.iter_torch_batches(batch, dtypes),
                            EpochCache(epoch_cache_mb * 2**20, batch))
    stamps = []
    try:
        for s in range(steps):
            loss, _ = obj.step(net, next(batches))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            opt.step()
            sched.step()
            if (s + 1) % report_every == 0:
                loss.detach().item()  # the loop's reports read the loss too
                stamps.append((s + 1, time.time()))
    finally:
        batches.close()
        torch.set_num_threads(before)
    return ArmRecord(time.time() - t_start, time.process_time() - c_start,
                     seconds_per_sample(stamps, batch), steps * batch)


def ray_arm(shard_dir: Path, model: str, model_cfg: dict, workers: int, steps: int, batch: int,
            report_every: int, storage: Path, run_name: str, **train: Any) -> ArmRecord:
    """``pretrain`` on the shards under Ray Train with ``workers`` workers (one torch thread
    each unless ``train`` says otherwise; other :class:`TrainConfig` fields in ``train``)."""
    clock = storage / f"{run_name}.clock.jsonl"
    cfg = TrainConfig(model=model, model_config=model_cfg, steps=steps, batch_size=batch,
                      report_every=report_every, checkpoint_every=steps, num_workers=workers,
                      storage_path=str(storage), run_name=run_name,
                      **({"torch_threads": 1, "cpus_per_worker": 0.5 if workers > 1 else 1.0}
                         | train))
    t_start = time.time()
    with TreeCpuMeter() as meter:
        pretrain(cfg, str(shard_dir), split=False, log=lambda *_: None,
                 callbacks=[report_clock(clock)])
    wall, cpu = time.time() - t_start, meter.seconds
    rows = [json.loads(line) for line in clock.read_text().splitlines()]
    steady = rows[1:] or rows
    return ArmRecord(wall, cpu, seconds_per_sample([(r["step"], r["t"]) for r in rows],
                                                   batch * workers),
                     steps * batch * workers,
                     float(np.nanmedian([r["wait"] for r in steady])),
                     float(np.nanmedian([r["per_cpu_s"] for r in steady])),
                     float(np.nanmedian([r["report"] for r in steady])))


def arm_callables(plain: Callable[[], ArmRecord], rays: dict[str, Callable[[], ArmRecord]],
                  records: dict[str, list[ArmRecord]]) -> dict[str, Callable[[], None]]:
    """Arms for :func:`~solarray.benchmarks.arms.interleave` that append their records."""
    arms = {"plain": lambda: records.setdefault("plain", []).append(plain())}
    for name, run in rays.items():
        arms[name] = (lambda name=name, run=run:
                      records.setdefault(name, []).append(run()))
    return arms


__all__ = ["ArmRecord", "TreeCpuMeter", "arm_callables", "cached_epochs", "plain_arm",
           "ray_arm", "report_clock", "seconds_per_sample", "tree_cpu_seconds",
           "write_toy_shards"]
