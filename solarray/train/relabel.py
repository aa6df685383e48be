"""SPNet in the label cycle: predict masks as a new label version, retrain on a label version.

The label store itself (versions, corrections, diffs) is :mod:`solarray.data.labels`; this module
adds the two steps that need a model: ``predict`` (Ray Data ``map_batches`` over an actor pool,
each actor loading the checkpoint once) and ``retrain`` (the generic Ray Train loop on the shards
joined with a label version).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from solarray.core.checkpoints import MODEL_FILE
from solarray.core.frame import FRAME_RSUN, disk_mask
from solarray.data import dataset as data_api
from solarray.data.labels import LabelStore, data_image_size, training_dataset
from solarray.metrics.segmentation import fit_thresholds
from solarray.models import load_model, save_model
from solarray.models.spnet import select_channels
from solarray.train.loop import fit


class _Predictor:
    """Ray Data callable: a batch of shard rows → ``sample_id`` + predicted masks."""

    def __init__(self, checkpoint: str, channels: Sequence[str], threshold: float | None,
                 batch_size: int):
        import torch

        torch.set_num_threads(1)
        self.model = load_model(checkpoint)
        self.channels = list(channels)
        self.threshold = threshold
        self.batch_size = batch_size

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        present = np.stack([np.asarray(p, np.float32) for p in batch["present"]])
        masks = predict_masks(self.model, np.asarray(batch["image"], np.float32), present,
                              self.channels, self.threshold, self.batch_size)
        return {"sample_id": np.asarray(batch["sample_id"], dtype=object), "masks": masks}


def predict_masks(model, image: np.ndarray, present: np.ndarray | None,
                  data_channels: Sequence[str], threshold: float | None = None, batch_size: int = 32,
                  drop: Sequence[str] = (), frame: float | None = FRAME_RSUN) -> np.ndarray:
    """SPNet masks uint8 ``[N, 3, H, W]`` for ``image [N, C_data, H, W]`` (NaN allowed).

    Channels are picked by name (a model channel the data lacks counts as missing); channels in
    ``drop`` are marked missing (``present`` 0) to test the model without that modality. With
    ``frame`` (the frame half-width in R☉) pixels off the solar disk are cleared (features are
    on-disk by definition); ``None`` keeps them. ``threshold`` None: the model's per-feature
    thresholds (:meth:`~solarray.models.spnet.SPNet.decision_thresholds`).
    """
    if threshold is not None and not 0.0 < threshold < 1.0:
        raise ValueError(f"threshold must be in (0, 1), got {threshold}")
    prob = predict_proba(model, image, present, data_channels, batch_size, drop)
    t = model.decision_thresholds() if threshold is None else np.full(prob.shape[1], threshold)
    out = (prob > t[None, :, None, None]).astype(np.uint8)
    if frame is not None:
        out &= disk_mask(out.shape[-1], frame).astype(np.uint8)
    return out


def predict_proba(model, image: np.ndarray, present: np.ndarray | None,
                  data_channels: Sequence[str], batch_size: int = 32, drop: Sequence[str] = ()
                  ) -> np.ndarray:
    """SPNet probabilities float32 ``[N, 3, H, W]`` (channels picked by name, ``drop`` marked
    missing; see :func:`predict_masks`)."""
    import torch

    x, p = select_channels(np.asarray(image, np.float32), present, data_channels,
                           model.config.channels)
    p = np.asarray(p, np.float32).copy()
    for c in drop:
        if c not in model.config.channels:
            raise ValueError(f"cannot drop {c!r}: the model's channels are "
                             f"{', '.join(model.config.channels)}")
        p[:, list(model.config.channels).index(c)] = 0.0
    prob = model.predict_proba(torch.from_numpy(np.ascontiguousarray(x)), torch.from_numpy(p),
                               batch_size=batch_size)
    return prob.numpy().astype(np.float32)


def predict(store: LabelStore, checkpoint: str | os.PathLike, data_dir: str | os.PathLike,
            split: str | None = None, threshold: float | None = None, parent: str | None = None,
            batch_size: int = 32, num_actors: int = 1) -> str:
    """Model masks for every sample of ``data_dir`` (optionally one split) as a new version.

    Inference runs as Ray Data ``map_batches`` over an actor pool (each actor loads the
    checkpoint once). ``parent``: the label version the model was trained on, if known.
    """
    import ray

    checkpoint = os.fspath(checkpoint)
    model = load_model(checkpoint)  # fail fast, on the driver, for a bad checkpoint
    if getattr(model, "model_name", None) != "spnet":
        raise ValueError(f"{checkpoint}: holds model {model.model_name!r}, not spnet")
    channels = data_api.channels_of(os.fspath(data_dir))
    ds = data_api.read_shards(os.fspath(data_dir))
    if split not in (None, "all"):
        ds = data_api.split_by_time(ds)[split]
    ds = ds.select_columns(["sample_id", "image", "present"])
    out = ds.map_batches(
        _Predictor, fn_constructor_kwargs={"checkpoint": checkpoint, "channels": channels,
                                           "threshold": threshold, "batch_size": batch_size},
        batch_size=batch_size, batch_format="numpy",
        compute=ray.data.ActorPoolStrategy(min_size=1, max_size=max(1, num_actors)),
        num_cpus=1)
    ids, masks = [], []
    for batch in out.iter_batches(batch_size=256, batch_format="numpy"):
        ids += [str(s) for s in batch["sample_id"]]
        masks.append(np.asarray(batch["masks"], np.uint8))
    if not ids:
        raise ValueError(f"{data_dir}: no samples to label (split {split or 'all'})")
    m = np.concatenate(masks)
    order = np.argsort(np.asarray(ids))
    prov = {"kind": "predict", "model_checkpoint": os.path.abspath(checkpoint),
            "model_channels": list(model.config.channels), "data": os.fspath(data_dir),
            "split": split or "all", "threshold": threshold}
    return store.write([ids[i] for i in order], m[order], prov, parent=parent)


def retrain(store: LabelStore, version: str | None, data_dir: str | os.PathLike, cfg,
            split: str | None = "train", log: Callable[[str], None] = print,
            materialize: bool = True, tune_thresholds: bool = True):
    """Train SPNet (``cfg``: a :class:`~solarray.train.config.TrainConfig`) on a label version.

    ``materialize`` keeps the joined training rows in the object store, so epochs after the
    first do not re-read shards and labels (turn it off for data larger than the object store).

    Returns the loop's :class:`~solarray.train.loop.FitResult`; the run directory gets a
    ``labels.json`` naming the store and version it was trained on. ``tune_thresholds``: the
    checkpoint's per-feature decision thresholds are then tuned for IoU on the version's
    validation-split samples (:func:`tune_decision_thresholds`).
    """
    v = store.resolve(version)
    channels = tuple(data_api.channels_of(os.fspath(data_dir)))
    ds = training_dataset(store, v, data_dir, split)
    if materialize:
        ds = ds.materialize()
    mc = dict(cfg.model_config)
    mc.setdefault("image_size", data_image_size(data_dir))
    cfg = cfg.replace(channels=channels, model_config=mc)
    result = fit(cfg, ds, log=log)
    if tune_thresholds and result.checkpoint is not None:
        tuned = tune_decision_thresholds(result.checkpoint, store, v, data_dir)
        log(f"[spnet] decision thresholds tuned on the validation split: {tuned}" if tuned else
            "[spnet] no labelled validation samples: decision thresholds stay 0.5")
    (Path(result.run_dir) / "labels.json").write_text(json.dumps(
        {"store": str(store.root.resolve()), "version": v, "data": os.fspath(data_dir),
         "split": split or "all"}, indent=2) + "\n")
    return result


def tune_decision_thresholds(checkpoint: str | os.PathLike, store: LabelStore, version: str,
                             data_dir: str | os.PathLike, split: str = "val"
                             ) -> tuple[float, ...] | None:
    """Fit SPNet's per-feature thresholds for IoU on the label version's ``split`` samples
    (:func:`solarray.metrics.segmentation.fit_thresholds`) and save them into the checkpoint's
    model file; None (nothing written) when the version has no sample in that split."""
    ckpt = Path(checkpoint)
    path = ckpt / MODEL_FILE if (ckpt / MODEL_FILE).exists() else ckpt
    model = load_model(path)
    rows = training_dataset(store, version, data_dir, split).select_columns(
        ["image", "present", "masks"])
    batches = list(rows.iter_batches(batch_size=64, batch_format="numpy"))
    if not batches or not sum(len(b["image"]) for b in batches):
        return None
    channels = data_api.channels_of(os.fspath(data_dir))
    prob = np.concatenate([predict_proba(model, b["image"], b["present"], channels)
                           for b in batches])
    truth = np.concatenate([np.asarray(b["masks"], np.uint8) for b in batches])
    tuned = fit_thresholds(prob, truth)
    model.config.thresholds = tuned
    save_model(model, path)
    return tuned


__all__ = ["predict", "predict_masks", "predict_proba", "retrain", "tune_decision_thresholds"]
