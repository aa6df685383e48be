"""Shared test fixtures: one local Ray session (2 CPUs) for the whole run, and quiet Ray settings."""

from __future__ import annotations

import os

# Must be set before Ray starts (ENVIRONMENT.md: Ray 2.60 on 2 cores).
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
os.environ.setdefault("RAY_TRAIN_HEALTH_CHECK_INTERVAL_S", "0.2")
os.environ.setdefault("RAY_TRAIN_ENABLE_PREEMPTION_WATCHER", "0")
os.environ.setdefault("RAY_DATA_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def ray_session():
    """A local Ray instance with 2 CPUs shared by every test that needs Ray."""
    import ray

    if not ray.is_initialized():
        ray.init(
            address="local",  # never attach to another `ray start` cluster on this machine
            num_cpus=2,
            include_dashboard=False,
            object_store_memory=512 * 1024**2,
            log_to_driver=False,
            ignore_reinit_error=True,
        )
    yield ray
    ray.shutdown()


@pytest.fixture
def one_torch_thread():
    """One torch intra-op thread: tiny models on a shared 2-core machine run many times faster
    without OpenMP spin-waiting (measured up to 50× per step under load)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def torch_seed0():
    """torch's global generator seeded with 0, so model initialisations are reproducible."""
    import torch

    torch.manual_seed(0)
