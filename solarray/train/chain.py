"""Train the served chain's perception and classifiers into a checkpoint directory, the layout
``solarray serve`` reads (:data:`solarray.core.checkpoints.ROLE_FILES`): SPNet on the ingested
truth masks (``solarray label init`` + ``label retrain``), the Hale and McIntosh CNNs on the
training Suns' region crops. The demo and the automatic-chain benchmark both call these, so the
chain they measure is trained one way.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from solarray.analysis.crops import samples_from_directory
from solarray.core.checkpoints import MODEL_FILE, ROLE_FILES
from solarray.data.labels import init_labels
from solarray.models import save_model
from solarray.train.checkpoints import latest_checkpoint
from solarray.train.fit_classifier import ClassifierTrainConfig, fit_classifier
from solarray.train.label_runs import retrain_labels


def train_spnet(shards: str | Path, labels: str | Path, ckpt_dir: str | Path, *, steps: int,
                storage: str | Path, run_name: str = "spnet", encoder: str = "",
                dice: float = 1.0, log: Callable[[str], None] = print) -> int:
    """SPNet on the shards' ingested masks (training split), its model copied to
    ``ckpt_dir/spnet.pt``; → the final step. ``encoder``: an MAE checkpoint to start from."""
    init_labels(str(labels), str(shards))  # `solarray label init`
    retrain_labels(str(labels), str(shards), steps=steps, dice=dice, workers=1,
                   storage=str(storage), run_name=run_name, pretrained_encoder=encoder,
                   log=log)  # `solarray label retrain`
    step, path = latest_checkpoint(Path(storage) / run_name)
    model = path / MODEL_FILE
    shutil.copy(model if model.exists() else path, Path(ckpt_dir) / ROLE_FILES["spnet"])
    return step


def train_classifiers(run_dirs: Sequence[str | Path], ckpt_dir: str | Path, *, seed: int,
                      storage: str | Path, epochs: int = 3, prefix: str = "chain",
                      log: Callable[[str], None] = print) -> dict[str, int]:
    """The Hale and McIntosh CNNs on the region crops of the synthetic Suns in ``run_dirs``
    (give only training Suns), saved as ``ckpt_dir/hale.pt`` and ``mcintosh.pt``."""
    parts = [samples_from_directory(d) for d in run_dirs]
    data = {k: np.concatenate([p[k] for p in parts]) for k in ("x", "hale", "mcintosh", "lon")}
    for task in ("hale", "mcintosh"):
        run = fit_classifier(data["x"], data[task], data["lon"], ClassifierTrainConfig(
            task=task, epochs=epochs, seed=seed, storage_path=str(storage),
            run_name=f"{prefix}-{task}"), log=log)
        save_model(run.model, Path(ckpt_dir) / ROLE_FILES[task])
    return {"n_crops": int(len(data["x"]))}


__all__ = ["train_classifiers", "train_spnet"]
