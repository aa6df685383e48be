"""Ray Train's cost against its floor, the plain PyTorch loop on the same batches.

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
  process's CPU alone (the floor has no Ray, whose idle daemons would otherwise pad it).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from solarray.train.config import TrainConfig
from solarray.train.loop import fit, warmup_cosine
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
    """A Ray Train callback that appends ``{"step", "t"}`` to ``path`` when a report arrives at
    the controller (``time.time``: the controller is another process)."""
    from ray.train import UserCallback

    class ReportClock(UserCallback):
        def __init__(self, target: str):
            self.target = target

        def after_report(self, run_context, metrics, checkpoint) -> None:
            step = max(int(m.get("step", 0)) for m in metrics) if metrics else 0
            with open(self.target, "a") as fh:
                fh.write(json.dumps({"step": step, "t": time.time()}) + "\n")

    return ReportClock(str(path))


@dataclass
class ArmRecord:
    """What one run of an arm measured."""

    wall_s: float  # the whole arm, start-up included
    cpu_s: float  # every process of the tree over the whole arm
    s_per_sample: float  # steady state, after the first report
    samples: int  # samples trained


def plain_arm(images: np.ndarray, model_cfg: dict, channels, steps: int, batch: int,
              report_every: int) -> ArmRecord:
    """The floor: one process, one loop over the in-memory batches, the same objective,
    optimiser, schedule and clipping as the generic loop."""
    import torch

    # This process only: the floor has no Ray (Ray's idle daemons would pad the floor).
    t_start, c_start = time.time(), time.process_time()
    torch.manual_seed(0)
    obj = get_objective(None, "solarchip_vit")
    model = obj.build_model("solarchip_vit", model_cfg, channels)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.95), weight_decay=0.05)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: warmup_cosine(s, 20, steps, 0.1))
    n, stamps = len(images), []
    for s in range(steps):
        i = (s * batch) % (n - batch + 1)
        loss, _ = obj.step(model, {"image": torch.from_numpy(images[i:i + batch])})
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        if (s + 1) % report_every == 0:
            loss.detach().item()  # the loop's reports read the loss too
            stamps.append((s + 1, time.time()))
    return ArmRecord(time.time() - t_start, time.process_time() - c_start,
                     seconds_per_sample(stamps, batch), steps * batch)


def ray_arm(ds, model_cfg: dict, channels, workers: int, steps: int, batch: int,
            report_every: int, storage: Path, run_name: str) -> ArmRecord:
    """The generic loop under Ray Train with ``workers`` workers (one torch thread each)."""
    clock = storage / f"{run_name}.clock.jsonl"
    cfg = TrainConfig(model="solarchip_vit", model_config=model_cfg, channels=tuple(channels),
                      steps=steps, batch_size=batch, report_every=report_every,
                      checkpoint_every=steps, num_workers=workers, torch_threads=1,
                      storage_path=str(storage), run_name=run_name,
                      cpus_per_worker=0.5 if workers > 1 else 1.0)
    t_start = time.time()
    with TreeCpuMeter() as meter:
        fit(cfg, ds, log=lambda *_: None, callbacks=[report_clock(clock)])
    wall, cpu = time.time() - t_start, meter.seconds
    stamps = [(r["step"], r["t"]) for r in map(json.loads, clock.read_text().splitlines())]
    return ArmRecord(wall, cpu, seconds_per_sample(stamps, batch * workers),
                     steps * batch * workers)


def arm_callables(plain: Callable[[], ArmRecord], rays: dict[int, Callable[[], ArmRecord]],
                  records: dict[str, list[ArmRecord]]) -> dict[str, Callable[[], None]]:
    """Arms for :func:`~solarray.benchmarks.arms.interleave` that append their records."""
    arms = {"plain": lambda: records.setdefault("plain", []).append(plain())}
    for w, run in rays.items():
        arms[f"ray{w}"] = (lambda w=w, run=run:
                           records.setdefault(f"ray{w}", []).append(run()))
    return arms


__all__ = ["ArmRecord", "TreeCpuMeter", "arm_callables", "plain_arm", "ray_arm", "report_clock",
           "seconds_per_sample", "tree_cpu_seconds"]
