"""Ingest under memory pressure: more preprocessed data than the object store holds.

A local Ray instance with a small object store (``object_store_mb``) ingests a synthetic Sun
whose preprocessed samples add up to several times that; the run must complete with every
sample written once. What the object store did is read from Ray's own memory summary
(``ray._private.internal_api.memory_summary(stats_only=True)``: the MiB and objects spilled to
disk and restored) — Ray Data's streaming executor backpressures its operators on the store's
budget, so whether anything spills depends on how far ahead the stages run.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

from solarray.data import preprocess as pp
from solarray.data.ingest import IngestConfig, run_ingest
from solarray.ops.autoscaling_ingest import shard_sample_counts

_SPILLED = re.compile(r"Spilled (\d+) MiB, (\d+) objects")
_RESTORED = re.compile(r"Restored (\d+) MiB, (\d+) objects")


def spill_stats(summary: str) -> dict[str, int]:
    """MiB and objects spilled and restored, from Ray's memory summary text (0 when absent)."""
    out = {"spilled_mib": 0, "spilled_objects": 0, "restored_mib": 0, "restored_objects": 0}
    if m := _SPILLED.search(summary):
        out["spilled_mib"], out["spilled_objects"] = int(m.group(1)), int(m.group(2))
    if m := _RESTORED.search(summary):
        out["restored_mib"], out["restored_objects"] = int(m.group(1)), int(m.group(2))
    return out


def run(synth_dir: str | Path, out_dir: str | Path, *, size: int, channels: tuple[str, ...],
        object_store_mb: int = 80, num_cpus: int = 2) -> dict[str, Any]:
    """Ingest ``synth_dir/fits`` into ``out_dir`` on a fresh local Ray instance whose object store
    holds ``object_store_mb`` MiB; the spill statistics and the checks."""
    import ray
    from ray._private.internal_api import memory_summary

    out_dir = Path(out_dir)
    ray.init(address="local", num_cpus=num_cpus, include_dashboard=False,
             object_store_memory=object_store_mb * 1024**2, log_to_driver=False)
    try:
        cfg = IngestConfig(input=str(Path(synth_dir) / "fits"), out_dir=str(out_dir),
                           channels=channels, preprocess=pp.PreprocessConfig(size=size),
                           num_workers=num_cpus, shard_size=16)
        t = time.perf_counter()
        summary = run_ingest(cfg, log=print)
        wall = time.perf_counter() - t
        # This instance's address: another Ray instance may be running on the machine.
        stats = spill_stats(memory_summary(address=ray.get_runtime_context().gcs_address,
                                           stats_only=True))
    finally:
        ray.shutdown()
    counts = shard_sample_counts(out_dir)
    sample_mib = 4 * len(channels) * size * size / 1024**2
    return {"object_store_mib": object_store_mb, "samples": summary.samples,
            "written": summary.written, "sample_mib": round(sample_mib, 2),
            "data_mib": round(sample_mib * summary.written, 1),
            "data_over_store": round(sample_mib * summary.written / object_store_mb, 2),
            "distinct_in_shards": len(counts),
            "duplicated_in_shards": sum(1 for c in counts.values() if c > 1),
            **stats, "wall_s": round(wall, 1)}


__all__ = ["run", "spill_stats"]
