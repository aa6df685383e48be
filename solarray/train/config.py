"""The training configuration: one typed dataclass for the loop and its Ray Train run."""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

#: Worker-group restarts a run survives by default on a multi-node cluster: a spot node reclaimed
#: or a node lost mid-run costs at most ``checkpoint_every`` steps each time, while a persistent
#: error (bad data, a bug) still ends the run after 4 attempts instead of retrying forever.
MULTI_NODE_MAX_FAILURES = 3


@dataclass
class TrainConfig:
    """Everything one training run needs. Per-worker batch size; learning rates for AdamW.

    ``model_config`` is passed to :func:`solarray.models.build` (e.g. ``{"preset": "tiny"}``);
    ``channels`` come from the data and are filled by :func:`solarray.train.loop.pretrain`.
    ``objective`` ``None`` picks the objective registered for ``model``.
    """

    model: str = "solarchip_vit"
    model_config: dict = field(default_factory=lambda: {"preset": "tiny"})
    objective: str | None = None
    objective_config: dict = field(default_factory=dict)
    channels: tuple[str, ...] = ()
    # Optimisation
    steps: int = 200
    batch_size: int = 16  # per worker
    lr: float = 1e-3
    weight_decay: float = 0.05
    betas: tuple[float, float] = (0.9, 0.95)
    warmup_steps: int = 20
    min_lr_ratio: float = 0.1  # cosine decays to lr * min_lr_ratio
    grad_clip: float = 1.0  # max global grad norm; 0 disables
    amp: bool = True  # mixed precision, only ever on GPU
    seed: int = 0
    shuffle_buffer: int = 0  # rows in the local shuffle buffer of iter_torch_batches; 0 = off
    # MiB of a worker's first epoch kept in memory and replayed for later epochs instead of a new
    # Ray Data stream per epoch (solarray.train.epoch_cache); 0 = stream every epoch.
    epoch_cache_mb: int = 1024
    torch_threads: int = 0  # torch intra-op threads per worker; 0 = leave torch's default
    # Reporting and checkpoints
    report_every: int = 10
    # Validation (when fit() gets a val dataset): batches kept per worker; 0 = the whole shard
    val_batches: int = 0
    checkpoint_every: int = 100
    num_to_keep: int = 2
    # Ray Train run
    run_name: str = "pretrain"
    storage_path: str = "ray_results"
    num_workers: int = 1  # 0 runs the loop in the driver process (Ray Train local mode)
    use_gpu: bool = False
    # CPUs reserved per worker. Leave some for Ray Data's read/map tasks, which the training
    # workers otherwise starve (on 2 cores, 2 workers x 1 CPU deadlock the data stream).
    cpus_per_worker: float = 1.0
    # Worker-group restarts (each resumes from the last checkpoint); None: 0 on one node (an
    # error ends the run at once), MULTI_NODE_MAX_FAILURES when the cluster has several nodes
    # (a lost node costs at most checkpoint_every steps) — see failure_budget().
    max_failures: int | None = None
    # A one-worker run on a single-node cluster this process joined (``$RAY_ADDRESS``, a Ray job)
    # trains in a warm actor that a later command reuses (solarray.train.warm_worker; its CPUs
    # reserved only while a run trains); it exits after warm_idle_s seconds without a run.
    # False: always a Ray Train run.
    reuse_worker: bool = True
    warm_idle_s: float = 300.0
    # Fault injection for tests: the last-rank worker raises once when it reaches this step.
    fail_at_step: int = 0

    def __post_init__(self) -> None:
        self.channels = tuple(self.channels)
        self.betas = tuple(float(b) for b in self.betas)
        if self.local_storage:  # URIs (s3://, gs://) are passed to Ray Train untouched
            self.storage_path = os.path.abspath(os.path.expanduser(str(self.storage_path)))
        positive = ("steps", "batch_size", "report_every", "checkpoint_every", "num_to_keep")
        for name in positive:
            if int(getattr(self, name)) <= 0:
                raise ValueError(f"TrainConfig.{name} must be a positive integer, "
                                 f"got {getattr(self, name)!r}")
        for name in ("warmup_steps", "num_workers", "max_failures", "fail_at_step",
                     "shuffle_buffer", "torch_threads", "val_batches", "epoch_cache_mb"):
            if getattr(self, name) is not None and int(getattr(self, name)) < 0:
                raise ValueError(f"TrainConfig.{name} must be >= 0, got {getattr(self, name)!r}")
        if self.cpus_per_worker <= 0:
            raise ValueError(f"TrainConfig.cpus_per_worker must be > 0, got {self.cpus_per_worker}")
        if self.lr <= 0:
            raise ValueError(f"TrainConfig.lr must be > 0, got {self.lr}")
        if not 0 <= self.min_lr_ratio <= 1:
            raise ValueError(f"TrainConfig.min_lr_ratio must be in [0, 1], got {self.min_lr_ratio}")
        if not self.run_name or os.sep in self.run_name:
            raise ValueError(f"TrainConfig.run_name must be a plain name, got {self.run_name!r}")

    @property
    def local_storage(self) -> bool:
        """True for a filesystem path, False for a URI such as ``s3://bucket/runs``."""
        return "://" not in str(self.storage_path)

    def failure_budget(self, alive_nodes: int) -> int:
        """``max_failures`` for Ray Train's ``FailureConfig``: the configured value, else 0 on a
        single node and :data:`MULTI_NODE_MAX_FAILURES` on ``alive_nodes`` > 1."""
        if self.max_failures is not None:
            return int(self.max_failures)
        return MULTI_NODE_MAX_FAILURES if alive_nodes > 1 else 0

    @property
    def run_dir(self) -> Path:
        """Where Ray Train writes this run: ``storage_path/run_name``."""
        return Path(self.storage_path) / self.run_name

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any], source: str = "config") -> TrainConfig:
        """Build from a mapping; unknown keys raise naming ``source`` and the known fields."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise ValueError(f"{source}: unknown training config key(s) {', '.join(unknown)}; "
                             f"expected some of {', '.join(sorted(names))}")
        return cls(**values)

    def replace(self, **changes: Any) -> TrainConfig:
        return dataclasses.replace(self, **changes)


def load_config_file(path: str | os.PathLike) -> dict[str, Any]:
    """Read a YAML (``.yaml``/``.yml``) or JSON training config into a dict."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"config file not found: {path}")
    text = path.read_text()
    if path.suffix.lower() in (".yaml", ".yml"):
        values = yaml.safe_load(text) or {}
    elif path.suffix.lower() == ".json":
        values = json.loads(text)
    else:
        raise ValueError(f"{path}: config files must end in .yaml, .yml or .json")
    if not isinstance(values, dict):
        raise ValueError(f"{path}: expected a mapping of training config keys at the top level")
    return values
