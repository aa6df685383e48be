"""The ingest pipeline: FITS files → co-temporal samples → preprocessed Parquet shards, on Ray Data.

::

    list files → scan headers (reject: corrupt, unknown channel, missing keyword, QUALITY ≠ 0)
      → group into samples on a time grid (reject: outside range, duplicate, odd image size)
      → Ray Data actor pool: read + preprocess every channel, resample truth masks
      → driver: shards of ``shard_size`` samples, time-ordered, written to a temp name then renamed
      → manifest.csv (every input file's fate) and ingest.json (settings and summary)

Re-running the same command skips samples already in a shard; an interrupted run leaves only
complete shards (plus a temp file that the next run removes), so a rerun finishes the job with no
duplicated or missing sample. See ARCHITECTURE.md for the shard schema.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

import numpy as np

from solarray.core import channels as chans
from solarray.core.atomic import write_text
from solarray.data import preprocess as pp
from solarray.data import sources
from solarray.data.grouping import Sample, estimate_cadence, group_samples, reason_kind, scan_inputs
from solarray.data.ingest_worker import SamplePreprocessor
from solarray.data.shards import (
    MANIFEST,
    SETTINGS,
    clean_temp,
    completed_samples,
    shard_paths,
    write_manifest,
    write_shard,
)
from solarray.data.truth import Truth, index_masks, nearest


class IngestError(RuntimeError):
    """A run that cannot start (no input, inconsistent output directory)."""


@dataclass
class IngestConfig:
    """One ingest run. Times are UTC ISO strings; ``cadence_minutes=None`` estimates the cadence
    as the slowest channel's median spacing (files are grouped onto that time grid)."""

    input: str | list[str]
    out_dir: str
    channels: tuple[str, ...] = chans.DEFAULT_CHANNELS
    preprocess: pp.PreprocessConfig = field(default_factory=pp.PreprocessConfig)
    tolerance_minutes: float = 6.0
    cadence_minutes: float | None = None
    start: str | None = None
    end: str | None = None
    shard_size: int = 64  # samples per shard
    num_workers: int = 2  # actor pool max size
    # Actor pool min size: started at once (Ray Data grows a pool only from what the cluster
    # has now; on an autoscaling cluster this many actors are demand the autoscaler meets).
    min_workers: int = 1
    cpus_per_worker: float = 1.0
    masks_dir: str | None = None  # synthetic truth masks (masks_<YYYYmmddTHHMMSS>.fits)
    tables_dir: str | None = None  # events.parquet, indices.parquet
    labels: str | None = None  # user CSV with a time column
    allow_mixed_sizes: bool = False

    def __post_init__(self) -> None:
        self.channels = chans.resolve(self.channels)
        if isinstance(self.preprocess, dict):
            self.preprocess = pp.PreprocessConfig(**self.preprocess)
        if self.shard_size < 1:
            raise ValueError(f"shard_size must be ≥ 1, got {self.shard_size}")
        if self.num_workers < 1:
            raise ValueError(f"num_workers must be ≥ 1, got {self.num_workers}")
        if not 1 <= self.min_workers <= self.num_workers:
            raise ValueError(f"min_workers must be in 1..num_workers ({self.num_workers}), "
                             f"got {self.min_workers}")
        if not self.tolerance_minutes > 0:
            raise ValueError(f"tolerance_minutes must be > 0, got {self.tolerance_minutes}")

    def settings(self) -> dict[str, object]:
        """What must match between a run and a resumed run into the same directory."""
        p = self.preprocess
        return {"channels": list(self.channels), "size": p.size, "frame": p.frame,
                "off_limb": p.off_limb, "exposure": p.exposure,
                "degradation_table": os.path.basename(p.degradation_table or ""),
                "version": p.version, "masks": bool(self.masks_dir),
                "labels": os.path.basename(self.labels or "")}


@dataclass
class IngestSummary:
    """What a run did: counts of files and samples, reject reasons, shards written, time."""

    files: int = 0
    samples: int = 0  # samples the inputs make
    written: int = 0  # written by this run
    skipped: int = 0  # already in shards from an earlier run
    empty: int = 0  # samples whose every channel was rejected in preprocessing
    rejected_files: int = 0
    reject_reasons: dict[str, int] = field(default_factory=dict)
    shards: list[str] = field(default_factory=list)
    seconds: float = 0.0
    cadence_minutes: float = 0.0

    @property
    def samples_per_s(self) -> float:
        return self.written / self.seconds if self.seconds > 0 else 0.0

    def text(self) -> str:
        lines = [
            f"files: {self.files}  samples: {self.samples}  written: {self.written}  "
            f"already done: {self.skipped}  empty: {self.empty}  shards written: {len(self.shards)}",
            f"rejected files: {self.rejected_files}",
        ]
        lines += [f"  {n:6d}  {r}" for r, n in sorted(self.reject_reasons.items(), key=lambda x: -x[1])]
        lines.append(f"time: {self.seconds:.1f} s  throughput: {self.samples_per_s:.2f} samples/s "
                     f"(cadence {self.cadence_minutes:g} min)")
        return "\n".join(lines)


def _parse_opt_time(s: str | None) -> datetime | None:
    return sources.parse_time({"DATE-OBS": s}) if s else None


def run_ingest(cfg: IngestConfig, log: Callable[[str], None] = print,
               on_shard: Callable[[str], None] | None = None) -> IngestSummary:
    """Run (or resume) an ingest; returns the summary. Needs Ray initialised (or starts a local
    instance on first use). ``on_shard(path)`` is called after each shard is renamed into place."""
    t_start = time.perf_counter()
    out_dir = cfg.out_dir
    os.makedirs(out_dir, exist_ok=True)
    settings_path = os.path.join(out_dir, SETTINGS)
    if os.path.exists(settings_path) and shard_paths(out_dir):
        with open(settings_path) as f:
            old = json.load(f).get("settings", {})
        new = cfg.settings()
        diff = {k: (old.get(k), v) for k, v in new.items() if old.get(k) != v}
        if diff:
            desc = ", ".join(f"{k} {a!r} → {b!r}" for k, (a, b) in diff.items())
            raise IngestError(f"{out_dir} holds shards made with other settings ({desc}); "
                              "use another output directory")
    if clean_temp(out_dir):
        log(f"[ingest] removed partial files of an interrupted run in {out_dir}")

    paths = sources.list_fits(cfg.input)
    if not paths:
        raise IngestError(f"no FITS files found in {cfg.input!r} (looked for {', '.join(sources.FITS_SUFFIXES)})")
    log(f"[ingest] scanning {len(paths)} files")
    records = scan_inputs(paths, cfg.channels)
    cadence = cfg.cadence_minutes or estimate_cadence(records)
    samples, rejects = group_samples(
        records, cfg.channels, cadence, cfg.tolerance_minutes, _parse_opt_time(cfg.start),
        _parse_opt_time(cfg.end), cfg.allow_mixed_sizes)

    tol = timedelta(minutes=cfg.tolerance_minutes)
    truth = Truth(cfg.tables_dir, cfg.labels, tol)
    mask_index = index_masks(cfg.masks_dir) if cfg.masks_dir else []
    if cfg.masks_dir and not mask_index:
        log(f"[ingest] warning: no masks_<time>.fits files in {cfg.masks_dir}")
    for s in samples:
        s.mask_file = nearest(mask_index, s.t_obs, tol)
        s.labels = truth.labels_for(s.t_obs)

    done = completed_samples(out_dir)
    pending = [s for s in samples if s.sample_id not in done]
    summary = IngestSummary(files=len(paths), samples=len(samples), cadence_minutes=cadence,
                            skipped=len(samples) - len(pending))
    log(f"[ingest] {len(samples)} samples at {cadence:g} min cadence ({summary.skipped} already "
        f"done, {len(pending)} to do), {len(rejects)} files rejected by the scan")
    _write_settings(settings_path, cfg, summary, final=False)

    manifest: list[dict] = [
        {"path": r.path, "channel": r.channel, "t_obs": r.t_obs.isoformat() if r.t_obs else None,
         "status": "rejected", "reason": r.reason} for r in rejects
    ]
    file_time = {r.path: r.t_obs for r in records}
    file_shape = {r.path: r.shape for r in records}

    def fate(sample_id: str, files: dict[str, str], meta: dict, shard: str | None) -> None:
        for ch, path in files.items():
            row = {"path": path, "channel": ch, "t_obs": file_time[path].isoformat(),
                   "sample_id": sample_id, "native_shape": _shape_text(file_shape.get(path)),
                   "file_bytes": os.path.getsize(path) if os.path.exists(path) else None}
            rej = meta.get("rejected", {}).get(ch)
            in_shard = meta.get("channels", {}).get(ch, {}).get("file")
            if shard is not None and not rej and in_shard != path:
                row.update(status="rejected", reason=(
                    f"sample already written from other files ({in_shard or 'no ' + ch}); "
                    "ingest into a new output directory to include this file"))
            elif rej or shard is None:
                row.update(status="rejected", reason=rej["reason"] if rej else "sample empty")
            else:
                row.update(status="used", shard=os.path.basename(shard))
            manifest.append(row)

    for s in samples:
        if s.sample_id in done:
            shard, meta = done[s.sample_id]
            fate(s.sample_id, s.files, meta, shard)

    try:
        if pending:
            _process(cfg, pending, summary, fate, log, on_shard, t_start)
    finally:
        summary.seconds = time.perf_counter() - t_start
        summary.rejected_files = sum(1 for r in manifest if r["status"] == "rejected")
        summary.reject_reasons = dict(Counter(reason_kind(r["reason"]) for r in manifest
                                              if r["status"] == "rejected"))
        write_manifest(os.path.join(out_dir, MANIFEST), manifest)
    _write_settings(settings_path, cfg, summary, final=True)
    return summary


def _process(cfg: IngestConfig, pending: list[Sample], summary: IngestSummary, fate, log,
             on_shard, t_start: float) -> None:
    import ray

    label_cols = Truth(None, cfg.labels).user_columns if cfg.labels else []
    items = [{"sample_id": s.sample_id, "t_obs": s.t_obs.isoformat(), "files": json.dumps(s.files),
              "mask_file": s.mask_file, "labels": json.dumps(s.labels, default=_json_default)}
             for s in pending]
    by_id = {s.sample_id: s for s in pending}
    ctx = ray.data.DataContext.get_current()
    old_order = ctx.execution_options.preserve_order
    ctx.execution_options.preserve_order = True  # shards are contiguous time ranges
    try:
        ds = ray.data.from_items(items, override_num_blocks=min(len(items), 200)).map_batches(
            SamplePreprocessor,
            fn_constructor_kwargs={"channels": list(cfg.channels),
                                   "preprocess": cfg.preprocess.to_dict(),
                                   "with_masks": bool(cfg.masks_dir)},
            batch_size=1,
            num_cpus=cfg.cpus_per_worker,
            compute=ray.data.ActorPoolStrategy(min_size=cfg.min_workers,
                                               max_size=cfg.num_workers),
        )
        buffer: list[dict] = []
        processed = 0
        last_log = time.perf_counter()

        def flush() -> None:
            if not buffer:
                return
            path = write_shard(buffer, cfg.out_dir, cfg.channels, label_cols)
            summary.shards.append(path)
            summary.written += len(buffer)
            for r in buffer:
                fate(r["sample_id"], by_id[r["sample_id"]].files, r["meta_dict"], path)
            buffer.clear()
            if on_shard:
                on_shard(path)

        def progress() -> None:
            rate = processed / (time.perf_counter() - t_start)
            log(f"[ingest] {processed}/{len(pending)} samples  {rate:.2f} samples/s  "
                f"{len(summary.shards)} shards written")

        for batch in ds.iter_batches(batch_size=1, batch_format="numpy", prefetch_batches=2):
            for i in range(len(batch["sample_id"])):
                sid = str(batch["sample_id"][i])
                meta = json.loads(batch["meta"][i])
                processed += 1
                if not np.any(batch["present"][i]):
                    summary.empty += 1
                    fate(sid, by_id[sid].files, meta, None)
                    continue
                buffer.append({
                    "sample_id": sid, "t_obs": datetime.fromisoformat(str(batch["t_obs"][i])),
                    "image": batch["image"][i], "present": np.asarray(batch["present"][i], bool),
                    "meta": str(batch["meta"][i]), "meta_dict": meta,
                    "masks": batch["masks"][i] if "masks" in batch else None,
                    "labels": json.loads(batch["labels"][i]),
                })
                if len(buffer) >= cfg.shard_size:
                    flush()
            now = time.perf_counter()
            if now - last_log > 5.0:
                progress()
                last_log = now
        flush()
        progress()
    finally:
        ctx.execution_options.preserve_order = old_order


def _shape_text(shape: tuple[int, int] | None) -> str | None:
    """``"HxW"`` of a file's native image (the manifest's ``native_shape``)."""
    return None if shape is None else f"{shape[0]}x{shape[1]}"


def _json_default(o):
    if isinstance(o, float) and np.isnan(o):
        return None
    if isinstance(o, (np.generic,)):
        return o.item()
    if isinstance(o, datetime):
        return o.isoformat()
    return str(o)


def _write_settings(path: str, cfg: IngestConfig, summary: IngestSummary, final: bool) -> None:
    doc = {"settings": cfg.settings(), "config": _cfg_dict(cfg), "complete": final,
           "summary": {**asdict(summary), "samples_per_s": summary.samples_per_s}}
    write_text(path, json.dumps(doc, indent=1, default=str))


def _cfg_dict(cfg: IngestConfig) -> dict:
    d = asdict(cfg)
    d["channels"] = list(cfg.channels)
    return d


__all__ = ["IngestConfig", "IngestError", "IngestSummary", "run_ingest"]
