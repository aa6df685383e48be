"""``@serve.batch`` on the SPNet deployment really forms batches larger than one, and batching
does not mix up the samples: each request gets the masks its own sample gets un-batched.

The deployment's class runs in this process (no Ray cluster, no HTTP): Serve's batch queue is
plain asyncio. Its only tie to a running replica is a warning that reads the replica context, which
is switched off here.
"""

from __future__ import annotations

import asyncio
import importlib.util
from datetime import datetime

import numpy as np
import pytest
import ray.serve.batching as serve_batching

import solarray.serve.deployments as deployments_module
from solarray.core.frame_header import sample_frame_header
from solarray.pipeline.sample import Sample

N = 64
T = datetime(2024, 1, 1)


@pytest.fixture()
def replica(monkeypatch, tmp_path):
    # The warning "max_batch_size exceeds max_ongoing_requests" asks the replica context, which
    # only exists inside Serve; it is the one thing the batch queue needs from a replica.
    monkeypatch.setattr(serve_batching._BatchQueue,
                        "_warn_if_max_batch_size_exceeds_max_ongoing_requests", lambda self: None)
    replica = _private_spnet_class()()
    replica.reconfigure({"checkpoint_dir": str(tmp_path), "max_batch_size": 1,
                         "batch_wait_timeout_s": 0.5})
    return replica


def _private_spnet_class():
    """The SPNet deployment class from a private copy of its module: ``@serve.batch`` keeps the
    batch queue it creates (asyncio objects, not picklable) in the method's closure, so using the
    shared class here would leave it undeployable for the Serve tests that run later."""
    spec = importlib.util.spec_from_file_location("_spnet_batching_copy",
                                                  deployments_module.__file__)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.SPNetDeployment.func_or_class


def _samples(channels, k: int) -> list[Sample]:
    rng = np.random.default_rng(0)
    return [Sample(rng.normal(size=(len(channels), N, N)).astype(np.float32), tuple(channels), T,
                   sample_frame_header(N, T)) for _ in range(k)]


def test_spnet_batches_form_and_keep_samples_apart(replica):
    spnet = replica.models.get("spnet")
    samples = _samples(spnet.config.channels, 4)

    async def burst():
        return await asyncio.gather(*[replica.segment(s, None) for s in samples])

    async def both():
        single = await burst()  # max_batch_size 1: one forward per request
        replica.segment.set_max_batch_size(4)
        batched = await burst()  # 4 requests within the 0.5 s wait: one batch of 4
        return single, batched

    single, batched = asyncio.run(both())
    assert [b for _, _, b in single] == [1, 1, 1, 1]
    assert [b for _, _, b in batched] == [4, 4, 4, 4]
    for (one, _, _), (many, _, _) in zip(single, batched, strict=True):
        np.testing.assert_allclose(many.probability, one.probability, atol=1e-5)
    # The samples differ, so equal outputs are not an artefact of identical inputs.
    assert not np.allclose(batched[0][0].probability, batched[1][0].probability, atol=1e-3)
