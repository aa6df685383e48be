"""Representation metrics on hand-computed values: retrieval top-k ranks and the linear probe's
TSS (the one TSS of :class:`ConfusionCounts`, undefined → 0.0 only where a number is needed)."""

from __future__ import annotations

import numpy as np
import pytest

from solarray.metrics.representation import (
    linear_probe_counts,
    linear_probe_tss,
    retrieval_accuracy,
)


def test_retrieval_hand_computed_ranks():
    q = np.eye(3)
    # Key 1 points mostly along x: normalised (0.9939, 0.1104, 0).
    k = np.array([[1.0, 0.0, 0.0], [0.9, 0.1, 0.0], [0.0, 0.0, 1.0]])
    # Cosine of query i with key j is k_norm[j, i]. Query 0: (1, 0.994, 0), query 1:
    # (0, 0.110, 0), query 2: (0, 0, 1): every true key ranks first.
    assert retrieval_accuracy(q, k, ks=(1, 2)) == {"top1": 1.0, "top2": 1.0}
    # Keys 0 and 2 swapped. Query 0: (0, 0.994, 1), its true key (sim 0) has 2 above it → rank 2;
    # query 1: (0, 0.110, 0) → rank 0; query 2: (1, 0, 0), true key sim 0 → rank 1.
    out = retrieval_accuracy(q, k[[2, 1, 0]], ks=(1, 2, 3))
    assert out == pytest.approx({"top1": 1 / 3, "top2": 2 / 3, "top3": 1.0})


def test_retrieval_galleries_split_rows():
    # Two galleries of 2: within each, the true key is the nearest.
    q = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 1.0]])
    assert retrieval_accuracy(q, q.copy(), ks=(1,), gallery_size=2) == {"top1": 1.0}
    # Keys swapped inside each gallery: every true key ranks last (second of two).
    swapped = q[[1, 0, 3, 2]]
    assert retrieval_accuracy(q, swapped, ks=(1, 2), gallery_size=2) == {"top1": 0.0, "top2": 1.0}


def test_linear_probe_counts_and_tss_hand_computed():
    # One feature that separates the classes: the probe is perfect on the test set.
    x_train = np.array([[-2.0], [-1.0], [1.0], [2.0]])
    y_train = np.array([0, 0, 1, 1])
    x_test = np.array([[-3.0], [-0.5], [0.5], [3.0], [4.0]])
    y_test = np.array([0, 0, 1, 1, 1])
    c = linear_probe_counts(x_train, y_train, x_test, y_test)
    assert (c.tp, c.tn, c.fp, c.fn) == (3, 2, 0, 0)
    assert linear_probe_tss(x_train, y_train, x_test, y_test) == pytest.approx(1.0)
    # Labels flipped on the test set: every forecast wrong, TSS = 0 − 1.
    assert linear_probe_tss(x_train, y_train, x_test, 1 - y_test) == pytest.approx(-1.0)


def test_linear_probe_tss_undefined_is_scored_zero():
    x_train = np.array([[-2.0], [-1.0], [1.0], [2.0]])
    y_train = np.array([0, 0, 1, 1])
    x_test = np.array([[-3.0], [3.0]])
    y_test = np.array([0, 0])  # no events: TSS undefined
    c = linear_probe_counts(x_train, y_train, x_test, y_test)
    assert (c.tp, c.tn, c.fp, c.fn) == (0, 1, 1, 0)
    assert c.tss is None and "no observed events" in c.undefined()["tss"]
    assert linear_probe_tss(x_train, y_train, x_test, y_test) == 0.0
