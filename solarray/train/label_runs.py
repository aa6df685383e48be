"""The SPNet steps of ``solarray label`` (and the demo), one call each: :func:`predict_labels`
(model masks as a new label version) and :func:`retrain_labels` (SPNet on a label version). A
user's mistake is a :class:`~solarray.core.errors.UsageError` naming the flag, raised before Ray
starts."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

from solarray.core import channels as chans
from solarray.core.errors import UsageError
from solarray.core.ray_connect import connect
from solarray.data.dataset import shard_channels
from solarray.data.labels import check_label_data, label_store, store_errors
from solarray.models.registry import load_checkpoint
from solarray.train import relabel
from solarray.train.config import TrainConfig
from solarray.train.loop import FitResult


def _positive(name: str, v: int, low: int = 1) -> None:
    if v < low:
        raise UsageError(f"{name} must be an integer ≥ {low}, got {v}")


def predict_labels(labels: str, data: str, checkpoint: str, split: str | None = None,
                   threshold: float | None = None, parent: str | None = None,
                   batch_size: int = 32) -> str:
    """SPNet's masks (``checkpoint``) for the shards in ``data`` (``split``; ``None``: all) as a
    new version of the store ``labels`` whose parent is ``parent``; → the version name."""
    store = label_store(labels)
    check_label_data(data, split)
    model = load_checkpoint("--checkpoint", checkpoint, "spnet")
    available = shard_channels("--data", data)
    if not set(model.config.channels) & set(available):
        raise UsageError(f"--checkpoint {checkpoint}: the model reads "
                         f"{', '.join(model.config.channels)}; the shards in {data} have "
                         f"none of them ({', '.join(available)}); use a model trained on them")
    if threshold is not None and not 0 < threshold < 1:
        raise UsageError(f"--threshold must be in (0, 1), got {threshold}")
    _positive("--batch-size", batch_size)
    if not os.path.exists(checkpoint):
        raise UsageError(f"--checkpoint: no such file or directory: {checkpoint}")
    if parent:
        with store_errors("--parent"):
            parent = store.resolve(parent)
    connect()
    try:
        return relabel.predict(store, checkpoint, data, split, threshold, parent or None,
                               batch_size)
    except ValueError as err:
        raise UsageError(str(err)) from None


def retrain_labels(labels: str, data: str, version: str | None = None,
                   split: str | None = "train", channels: str | Sequence[str] | None = None,
                   preset: str = "tiny", steps: int = 300, batch_size: int = 16,
                   lr: float = 2e-3, dice: float = 0.0, pretrained_encoder: str = "",
                   workers: int = 1, run_name: str | None = None, storage: str = "ray_results",
                   log: Callable[[str], None] = print) -> tuple[str, FitResult]:
    """Train SPNet on ``version`` (default the latest) of the store ``labels`` with the shards
    in ``data`` (``split``); → (the version, the loop's result)."""
    store = label_store(labels)
    check_label_data(data, split)
    with store_errors("--version"):
        version = store.resolve(version)
    _positive("--steps", steps)
    _positive("--batch-size", batch_size)
    _positive("--workers", workers, 0)
    mc: dict = {"preset": preset}
    if channels:
        try:
            mc["channels"] = list(chans.resolve(channels))
        except (KeyError, ValueError) as err:
            raise UsageError(f"--channels: {err.args[0]}") from None
    oc: dict = {"dice_weight": dice}
    if pretrained_encoder:
        if not os.path.exists(pretrained_encoder):
            raise UsageError(f"--pretrained-encoder: no such file: {pretrained_encoder}")
        oc["pretrained_encoder"] = os.path.abspath(pretrained_encoder)
    try:
        cfg = TrainConfig(model="spnet", model_config=mc, objective="spnet",
                          objective_config=oc, steps=steps, batch_size=batch_size,
                          lr=lr, warmup_steps=min(20, steps // 10),
                          weight_decay=0.01, checkpoint_every=steps,
                          report_every=max(1, min(50, steps // 5)),
                          num_workers=workers, run_name=run_name or f"spnet_{version}",
                          storage_path=storage, torch_threads=1)
    except ValueError as err:
        raise UsageError(str(err)) from None
    connect()
    return version, relabel.retrain(store, version, data, cfg, split=split, log=log)


__all__ = ["predict_labels", "retrain_labels"]
