"""Training checkpoints: the run directory's layout, writing, finding and restoring them.

A run directory (``storage_path/run_name``) holds one ``checkpoint_<step>`` directory per kept
checkpoint and the metrics log :data:`METRICS_FILE`. A checkpoint directory holds
:data:`~solarray.core.checkpoints.MODEL_FILE` (a :func:`solarray.models.save_model` checkpoint:
loads alone with :func:`solarray.models.load_model`) and
:data:`~solarray.core.checkpoints.STATE_FILE` (step, optimiser, scheduler, AMP scaler, training
config), written in that order: a directory with the state file is complete.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import torch

from solarray.core.atomic import atomic_path, write_text
from solarray.core.checkpoints import MODEL_FILE, STATE_FILE
from solarray.models import save_model

CHECKPOINT_PREFIX = "checkpoint_"
METRICS_FILE = "metrics.jsonl"


def checkpoint_name(step: int) -> str:
    """``checkpoint_00000100`` for step 100 (zero-padded so names sort by step)."""
    return f"{CHECKPOINT_PREFIX}{step:08d}"


def list_checkpoints(run_dir: str | os.PathLike) -> list[tuple[int, Path]]:
    """Complete checkpoints of a run, ``[(step, dir)]`` sorted by step (``train_state.pt`` present)."""
    run_dir = Path(run_dir)
    out = []
    if run_dir.is_dir():
        for d in run_dir.iterdir():
            if d.is_dir() and d.name.startswith(CHECKPOINT_PREFIX) and (d / STATE_FILE).exists():
                try:
                    out.append((int(d.name[len(CHECKPOINT_PREFIX):]), d))
                except ValueError:
                    continue
    return sorted(out)


def latest_checkpoint(run_dir: str | os.PathLike) -> tuple[int, Path] | None:
    """The highest-step complete checkpoint of a run, or ``None``."""
    ckpts = list_checkpoints(run_dir)
    return ckpts[-1] if ckpts else None


def save_training_checkpoint(directory: str | os.PathLike, model: torch.nn.Module,
                             optimizer: torch.optim.Optimizer, scheduler: Any, scaler: Any,
                             step: int, config: dict[str, Any]) -> None:
    """Write ``model.pt`` then ``train_state.pt`` into ``directory``."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    save_model(getattr(model, "module", model), directory / MODEL_FILE)
    state = {
        "step": int(step),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "scaler": scaler.state_dict(),
        "config": json.loads(json.dumps(config)),  # plain lists/dicts for weights_only loads
    }
    with atomic_path(directory / STATE_FILE) as tmp:
        torch.save(state, tmp)


def load_training_checkpoint(directory: str | os.PathLike, model: torch.nn.Module,
                             optimizer: torch.optim.Optimizer, scheduler: Any,
                             scaler: Any) -> int:
    """Restore model, optimiser, scheduler and scaler from ``directory``; returns the step."""
    directory = Path(directory)
    ckpt = torch.load(directory / MODEL_FILE, map_location="cpu", weights_only=True)
    if ckpt.get("model") != getattr(model, "model_name", None):
        raise ValueError(f"{directory}: checkpoint holds model {ckpt.get('model')!r}, "
                         f"the run trains {getattr(model, 'model_name', None)!r}")
    model.load_state_dict(ckpt["state_dict"])
    state = torch.load(directory / STATE_FILE, map_location="cpu", weights_only=True)
    optimizer.load_state_dict(state["optimizer"])
    scheduler.load_state_dict(state["scheduler"])
    scaler.load_state_dict(state["scaler"])
    return int(state["step"])


def save_run_checkpoint(run_dir: Path, num_to_keep: int, model: torch.nn.Module,
                        optimizer: torch.optim.Optimizer, scheduler: Any, scaler: Any,
                        step: int, config: dict[str, Any]) -> Path:
    """Write ``run_dir/checkpoint_<step>`` atomically and keep only the ``num_to_keep`` latest.

    For Ray Train's local mode, which has no checkpoint manager: the directory is written beside
    its final name and renamed into place, so a crash never leaves a half-written checkpoint.
    """
    name = checkpoint_name(step)
    final = run_dir / name
    tmp = run_dir / f".{name}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    save_training_checkpoint(tmp, model, optimizer, scheduler, scaler, step, config)
    shutil.rmtree(final, ignore_errors=True)
    os.replace(tmp, final)
    for _, old in list_checkpoints(run_dir)[:-num_to_keep]:
        shutil.rmtree(old, ignore_errors=True)
    return final


def truncate_metrics(path: Path, last_step: int) -> None:
    """Drop metric lines past ``last_step``: a run stopped between logging a step and saving its
    checkpoint repeats those steps when it resumes, and the log must hold each step once."""
    if not path.exists():
        return
    lines = path.read_text().splitlines()
    keep = [line for line in lines if line.strip() and json.loads(line).get("step", 0) <= last_step]
    if len(keep) != len(lines):
        write_text(path, "".join(line + "\n" for line in keep))


__all__ = ["CHECKPOINT_PREFIX", "METRICS_FILE", "checkpoint_name", "latest_checkpoint",
           "list_checkpoints", "load_training_checkpoint", "save_run_checkpoint",
           "save_training_checkpoint", "truncate_metrics"]
