"""Versioned label sets for SPNet's human-in-the-loop cycle (SA-AI 2025 §3.1.2).

A **label store** is a directory of immutable versions ``v1``, ``v2``, … Each version directory
holds

* ``labels.parquet``: one row per sample — ``sample_id`` (string, the shard's ISO time) and
  ``masks`` (fixed-shape tensor uint8 ``[3, H, W]``: AR, CH, FL; 0/1);
* ``provenance.json``: ``format``, ``version``, ``parent`` (the version it was derived from or
  ``null``), ``kind`` (``init`` | ``predict`` | ``review``), ``created`` (UTC ISO time),
  ``model_checkpoint`` (for ``predict``), ``data`` (shard directory), ``n_samples``, ``shape``,
  ``features``, feature counts per class, and for ``review`` the corrections summary
  (a copy of the corrections file sits next to it as ``corrections.json``).

The cycle: ``init`` (a first, possibly incomplete, human label set, e.g. from ingested masks) →
``retrain`` (SPNet on a version) → ``predict`` (model masks for a dataset as a new version) →
``review`` (an expert's corrections file merged into a new version) → ``retrain`` … ``diff``
counts features (8-connected components) added/removed per class between two versions.

Modules: :mod:`~.store` (versions), :mod:`~.features` (components), :mod:`~.diff`,
:mod:`~.corrections` (the corrections file format and ``review``), :mod:`~.samples` (shards:
``init``, the training dataset of a version). The steps that run SPNet, ``predict`` and
``retrain``, are :mod:`solarray.train.relabel`.
"""

from solarray.data.labels.actions import (
    check_label_data,
    diff_labels,
    init_labels,
    label_store,
    list_labels,
    review_labels,
    store_errors,
)
from solarray.data.labels.corrections import (
    CORRECTIONS_COPY,
    CORRECTIONS_FORMAT,
    Corrections,
    CorrectionsError,
    apply_corrections,
    load_corrections,
    polygon_mask,
    review,
    write_png_mask,
)
from solarray.data.labels.diff import LabelDiff, diff, diff_sets
from solarray.data.labels.features import components, count_features, drop_small_features
from solarray.data.labels.samples import (
    data_image_size,
    init_from_data,
    load_samples,
    training_dataset,
)
from solarray.data.labels.store import FORMAT, LABELS_FILE, PROVENANCE_FILE, LabelSet, LabelStore

__all__ = ["CORRECTIONS_COPY", "CORRECTIONS_FORMAT", "FORMAT", "LABELS_FILE", "PROVENANCE_FILE",
           "Corrections", "CorrectionsError", "LabelDiff", "LabelSet", "LabelStore",
           "apply_corrections", "check_label_data", "components", "count_features",
           "data_image_size", "diff", "diff_labels", "diff_sets", "drop_small_features",
           "init_from_data", "init_labels", "label_store", "list_labels", "load_corrections",
           "load_samples", "polygon_mask", "review", "review_labels", "store_errors",
           "training_dataset", "write_png_mask"]
