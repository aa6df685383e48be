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

import glob
import json
import os
import re
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np

from solarray.core import channels as chans
from solarray.core.goes import class_to_flux
from solarray.data import preprocess as pp
from solarray.data import sources
from solarray.data.sources import FileRecord

SHARD_PREFIX = "shard_"
MANIFEST = "manifest.csv"
SETTINGS = "ingest.json"
MASK_NAMES = ("AR", "CH", "FL")
#: Fill value of ``masks`` for samples with no truth mask within the tolerance ("unknown").
MASK_UNKNOWN = 255
_EPOCH = datetime(2000, 1, 1)


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
class Sample:
    """One observation time: the chosen file per channel (``files``) and its joined truth."""

    sample_id: str
    t_obs: datetime
    files: dict[str, str]
    mask_file: str = ""
    labels: dict[str, object] = field(default_factory=dict)


@dataclass
class IngestSummary:
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


def reason_kind(reason: str) -> str:
    """The category of a reject reason (the text before the first colon / parenthesis)."""
    return re.split(r"[:(]", reason, maxsplit=1)[0].strip()


# --------------------------------------------------------------------------------------------------
# Scanning and grouping (driver side, pure)
# --------------------------------------------------------------------------------------------------


def _scan_batch(batch: dict[str, np.ndarray], wanted: Sequence[str]) -> dict[str, np.ndarray]:
    recs = [scan_with_warnings_off(str(p), wanted) for p in batch["path"]]
    return {"record": np.array([json.dumps(r.to_dict(), default=str) for r in recs], dtype=object)}


def scan_with_warnings_off(path: str, wanted: Sequence[str] | None) -> FileRecord:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sources.scan_file(path, wanted)


def scan_inputs(paths: Sequence[str], channels: Sequence[str], use_ray: bool | None = None,
                threads: int = 8) -> list[FileRecord]:
    """Header scan of every path. Large lists use Ray Data tasks (headers are read where the
    workers are); small ones a local thread pool (no Ray start-up cost)."""
    if use_ray is None:
        use_ray = len(paths) > 512
    if use_ray:
        import ray

        ds = ray.data.from_items([{"path": p} for p in paths]).map_batches(
            _scan_batch, fn_kwargs={"wanted": list(channels)}, batch_size=128)
        return [FileRecord.from_dict(json.loads(r["record"])) for r in ds.take_all()]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(lambda p: scan_with_warnings_off(p, channels), paths))


def estimate_cadence(records: Iterable[FileRecord], default_minutes: float = 12.0) -> float:
    """Cadence in minutes: the largest per-channel median spacing of distinct times (so the grid
    follows the slowest channel); ``default_minutes`` when no channel has two times."""
    by_channel: dict[str, set[datetime]] = {}
    for r in records:
        if r.reason is None and r.channel and r.t_obs:
            by_channel.setdefault(r.channel, set()).add(r.t_obs)
    spacings = []
    for times in by_channel.values():
        t = np.array(sorted(times), dtype="datetime64[ms]")
        if len(t) > 1:
            spacings.append(float(np.median(np.diff(t).astype(np.float64))) / 60000.0)
    if not spacings:
        return default_minutes
    return max(round(max(spacings) * 60.0) / 60.0, 1.0 / 60.0)  # whole seconds, ≥ 1 s


def group_samples(records: Sequence[FileRecord], channels: Sequence[str],
                  cadence_minutes: float, tolerance_minutes: float = 6.0,
                  start: datetime | None = None, end: datetime | None = None,
                  allow_mixed_sizes: bool = False) -> tuple[list[Sample], list[FileRecord]]:
    """Group scanned files into samples on a time grid of ``cadence_minutes`` (epoch 2000-01-01).

    Each file goes to its nearest grid time if within ``tolerance_minutes``; per grid time and
    channel the file closest in time wins. Returns ``(samples sorted by time, rejected records
    with reasons)``. Rejected: scan rejects, time outside [start, end), not within tolerance of
    a grid time, duplicates (another file of the channel is closer), image size different from
    the channel's most common size (unless ``allow_mixed_sizes``).
    """
    cadence = timedelta(minutes=cadence_minutes)
    tol = timedelta(minutes=tolerance_minutes)
    rejects: list[FileRecord] = []
    good: list[FileRecord] = []
    for r in records:
        if r.reason is not None:
            rejects.append(r)
        elif r.channel not in channels:
            r.reason = f"channel not requested: {r.channel}"
            rejects.append(r)
        elif (start and r.t_obs < start) or (end and r.t_obs >= end):
            r.reason = f"time outside range: {r.t_obs.isoformat()} not in [{start}, {end})"
            rejects.append(r)
        else:
            good.append(r)

    if not allow_mixed_sizes:
        majority = {}
        for ch in {r.channel for r in good}:
            majority[ch] = Counter(r.shape for r in good if r.channel == ch).most_common(1)[0][0]
        kept = []
        for r in good:
            want = majority[r.channel]
            if r.shape != want:
                r.reason = (f"mixed image sizes: {r.shape[0]}x{r.shape[1]} differs from the run's "
                            f"{want[0]}x{want[1]} for {r.channel}")
                rejects.append(r)
            else:
                kept.append(r)
        good = kept

    chosen: dict[tuple[int, str], FileRecord] = {}
    for r in sorted(good, key=lambda r: (r.t_obs, r.path)):
        k = round((r.t_obs - _EPOCH) / cadence)
        grid_t = _EPOCH + k * cadence
        dt = abs(r.t_obs - grid_t)
        if dt > tol:
            r.reason = f"no sample time within ±{tolerance_minutes:g} min (nearest {grid_t.isoformat()})"
            rejects.append(r)
            continue
        prev = chosen.get((k, r.channel))
        if prev is None:
            chosen[(k, r.channel)] = r
            continue
        if abs(prev.t_obs - grid_t) <= dt:
            loser, winner = r, prev
        else:
            loser, winner = prev, r
            chosen[(k, r.channel)] = r
        loser.reason = f"duplicate: {winner.path} is closer to sample time {grid_t.isoformat()}"
        rejects.append(loser)

    by_key: dict[int, dict[str, str]] = {}
    for (k, ch), r in chosen.items():
        by_key.setdefault(k, {})[ch] = r.path
    samples = []
    for k in sorted(by_key):
        t = _EPOCH + k * cadence
        samples.append(Sample(sample_id=sample_id_of(t), t_obs=t, files=by_key[k]))
    return samples, rejects


def sample_id_of(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S")


# --------------------------------------------------------------------------------------------------
# Truth: masks and labels
# --------------------------------------------------------------------------------------------------


_MASK_RE = re.compile(r"masks_(\d{8}T\d{6})")


def index_masks(masks_dir: str) -> list[tuple[datetime, str]]:
    """``[(time, path)]`` of ``masks_<YYYYmmddTHHMMSS>.fits`` files, sorted by time."""
    out = []
    for p in glob.glob(os.path.join(masks_dir, "*.fits*")):
        m = _MASK_RE.search(os.path.basename(p))
        if m:
            out.append((datetime.strptime(m.group(1), "%Y%m%dT%H%M%S"), p))
    return sorted(out)


def nearest(index: Sequence[tuple[datetime, str]], t: datetime, tol: timedelta) -> str:
    """Path of the entry nearest to ``t`` within ``tol`` ('' if none)."""
    if not index:
        return ""
    times = np.array([x[0] for x in index], dtype="datetime64[us]")
    i = int(np.argmin(np.abs(times - np.datetime64(t, "us"))))
    return index[i][1] if abs(index[i][0] - t) <= tol else ""


def goes_flux(goes_class: str) -> float:
    """Peak 1–8 Å flux (W m⁻²) of a GOES class string ('M2.5' → 2.5e-5; '' → 0)."""
    s = str(goes_class or "").strip()
    return class_to_flux(s if len(s) > 1 else s + "1") if s else 0.0


class Truth:
    """Label tables joined to samples: flares from ``events.parquet`` (or .csv), daily indices
    from ``indices.parquet``, and an optional user CSV of labels with a time column."""

    def __init__(self, tables_dir: str | None = None, labels_csv: str | None = None,
                 tolerance: timedelta = timedelta(minutes=6)) -> None:
        import pandas as pd

        self.events = self.indices = self.user = None
        self.tolerance = tolerance
        if tables_dir:
            ev = _read_table(tables_dir, "events")
            if ev is not None:
                ev = ev.copy()
                ev["start"] = pd.to_datetime(ev["start"], utc=True).dt.tz_localize(None)
                if "peak_flux" not in ev:
                    ev["peak_flux"] = ev["goes_class"].map(goes_flux)
                self.events = ev.sort_values("start").reset_index(drop=True)
            ix = _read_table(tables_dir, "indices")
            if ix is not None:
                ix = ix.copy()
                ix["date"] = pd.to_datetime(ix["date"]).dt.date
                self.indices = ix.set_index("date")
        if labels_csv:
            user = pd.read_csv(labels_csv)
            tcol = next((c for c in ("time", "t_obs", "date", "datetime") if c in user.columns), None)
            if tcol is None:
                raise ValueError(f"{labels_csv}: no time column (expected one of time, t_obs, date)")
            user["_t"] = pd.to_datetime(user[tcol], utc=True).dt.tz_localize(None)
            self.user = user.drop(columns=[tcol]).sort_values("_t").reset_index(drop=True)

    @property
    def user_columns(self) -> list[str]:
        return [] if self.user is None else [c for c in self.user.columns if c != "_t"]

    def labels_for(self, t: datetime) -> dict[str, object]:
        """``flare_class_24h`` (strongest flare starting in (t, t+24 h]; '' none; None unknown),
        ``f107``/``f30`` (sfu, NaN unknown) and the user CSV's columns (nearest row in tolerance)."""
        out: dict[str, object] = {"flare_class_24h": None, "f107": float("nan"), "f30": float("nan")}
        if self.events is not None:
            ev = self.events
            sel = ev[(ev["start"] > t) & (ev["start"] <= t + timedelta(hours=24))]
            out["flare_class_24h"] = "" if sel.empty else str(sel.loc[sel["peak_flux"].idxmax(), "goes_class"])
        if self.indices is not None and t.date() in self.indices.index:
            row = self.indices.loc[t.date()]
            for k in ("f107", "f30"):
                if k in row:
                    out[k] = float(row[k])
        if self.user is not None and len(self.user):
            times = self.user["_t"].to_numpy(dtype="datetime64[us]")
            i = int(np.argmin(np.abs(times - np.datetime64(t, "us"))))
            hit = abs(times[i] - np.datetime64(t, "us")) <= np.timedelta64(self.tolerance)
            for c in self.user_columns:
                v = self.user[c].iloc[i] if hit else None
                out[c] = v.item() if isinstance(v, np.generic) else v
        return out


def _read_table(tables_dir: str, name: str):
    import pandas as pd

    for ext, reader in (("parquet", pd.read_parquet), ("csv", pd.read_csv)):
        p = os.path.join(tables_dir, f"{name}.{ext}")
        if os.path.exists(p):
            return reader(p)
    return None


def resample_masks(path: str, size: int, frame: float) -> np.ndarray:
    """Truth masks ``[3, h, w]`` (FITS with a 2-D celestial WCS) → ``[3, size, size]`` uint8 on the
    output grid by nearest neighbour (output pixel → R☉ → mask pixel via the mask's own R☉)."""
    from astropy.io import fits
    from scipy import ndimage

    with fits.open(path, memmap=False) as hdul:
        data = np.asarray(hdul[0].data)
        header = hdul[0].header.copy()
    if data.ndim != 3:
        raise ValueError(f"{path}: masks must be [3, H, W], got shape {data.shape}")
    h2 = header.copy()
    h2["NAXIS"] = 2
    for k in ("NAXIS3", "CTYPE3", "CRPIX3", "CRVAL3", "CDELT3", "CUNIT3"):
        h2.remove(k, ignore_missing=True)
    geom = pp.header_geometry(h2, np.zeros(data.shape[1:], dtype=np.float32))
    s_out = pp.output_scale(geom.rsun, size, frame)
    swap = np.array([[0.0, 1.0], [1.0, 0.0]])
    mat = swap @ np.linalg.inv(np.asarray(geom.matrix)) @ swap * s_out
    c = (size - 1) / 2.0
    offset = np.array([geom.cy, geom.cx]) - mat @ np.array([c, c])
    return np.stack([
        ndimage.affine_transform(plane.astype(np.uint8), mat, offset=offset, output_shape=(size, size),
                                 order=0, mode="constant", cval=0)
        for plane in data
    ]).astype(np.uint8)


# --------------------------------------------------------------------------------------------------
# The Ray Data worker
# --------------------------------------------------------------------------------------------------


class SamplePreprocessor:
    """Ray Data actor: one batch of samples → image stacks ``[B, C, N, N]`` (float32, [-1, 1], NaN
    for missing channels), ``present`` flags, ``meta`` JSON and (optionally) masks."""

    def __init__(self, channels: Sequence[str], preprocess: dict, with_masks: bool) -> None:
        self.channels = list(channels)
        self.cfg = pp.PreprocessConfig(**preprocess)
        self.with_masks = with_masks
        warnings.simplefilter("ignore")  # sunpy/astropy header chatter, in the worker process only

    def one(self, sample_id: str, files: dict[str, str], mask_file: str
            ) -> tuple[np.ndarray, np.ndarray, str, np.ndarray | None]:
        n, cfg = self.cfg.size, self.cfg
        image = np.full((len(self.channels), n, n), np.nan, dtype=np.float32)
        present = np.zeros(len(self.channels), dtype=bool)
        meta: dict[str, object] = {"sample_id": sample_id, "version": cfg.version,
                                   "preprocess": cfg.to_dict(), "channels": {}, "rejected": {}}
        for i, ch in enumerate(self.channels):
            path = files.get(ch)
            if not path:
                continue
            try:
                data, header = sources.read_fits(path)
                t = sources.parse_time(header)
                out = pp.preprocess(data, header, ch, cfg, t_obs=t)
            except pp.RejectError as err:
                meta["rejected"][ch] = {"file": path, "reason": str(err)}
                continue
            except Exception as err:  # noqa: BLE001 - a truncated/corrupt file must not stop the job
                meta["rejected"][ch] = {"file": path,
                                        "reason": f"corrupt file: {type(err).__name__}: {err}"[:300]}
                continue
            image[i] = out.scaled
            present[i] = True
            meta["channels"][ch] = {"file": path, "header": sources.header_meta(header),
                                    "info": out.info}
        masks = None
        if self.with_masks:
            masks = np.full((3, n, n), MASK_UNKNOWN, dtype=np.uint8)
            if mask_file:
                try:
                    masks = resample_masks(mask_file, n, cfg.frame)
                    meta["masks_file"] = mask_file
                except Exception as err:  # noqa: BLE001
                    meta["masks_file"] = f"unreadable: {mask_file}: {err}"[:300]
            else:
                meta["masks_file"] = None
        return image, present, json.dumps(meta, default=str), masks

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        images, presents, metas, masks = [], [], [], []
        for sid, files, mfile in zip(batch["sample_id"], batch["files"], batch["mask_file"],
                                     strict=True):
            img, pres, meta, msk = self.one(str(sid), json.loads(files), str(mfile))
            images.append(img)
            presents.append(pres)
            metas.append(meta)
            masks.append(msk)
        out = {
            "sample_id": np.asarray(batch["sample_id"], dtype=object),
            "t_obs": np.asarray(batch["t_obs"], dtype=object),
            "labels": np.asarray(batch["labels"], dtype=object),
            "image": np.stack(images),
            "present": np.stack(presents),
            "meta": np.array(metas, dtype=object),
        }
        if self.with_masks:
            out["masks"] = np.stack(masks)
        return out


# --------------------------------------------------------------------------------------------------
# Shards
# --------------------------------------------------------------------------------------------------


def shard_paths(out_dir: str) -> list[str]:
    """Completed shards in ``out_dir``, in time order."""
    return sorted(glob.glob(os.path.join(out_dir, f"{SHARD_PREFIX}*.parquet")))


def _compact(t: datetime) -> str:
    return t.strftime("%Y%m%dT%H%M%S")


def write_shard(rows: list[dict], out_dir: str, channels: Sequence[str],
                label_columns: Sequence[str] = ()) -> str:
    """Write ``rows`` as one shard named by its time range (temp file, then atomic rename)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = sorted(rows, key=lambda r: r["t_obs"])
    t0, t1 = rows[0]["t_obs"], rows[-1]["t_obs"]
    cols: dict[str, object] = {
        "t_obs": pa.array([r["t_obs"].replace(tzinfo=UTC) for r in rows], pa.timestamp("us", tz="UTC")),
        "sample_id": pa.array([r["sample_id"] for r in rows], pa.string()),
        "channels": pa.array([list(channels)] * len(rows), pa.list_(pa.string())),
        "image": pa.FixedShapeTensorArray.from_numpy_ndarray(
            np.ascontiguousarray(np.stack([r["image"] for r in rows]).astype(np.float32))),
        "present": pa.array([r["present"].tolist() for r in rows], pa.list_(pa.bool_())),
        "meta": pa.array([r["meta"] for r in rows], pa.string()),
    }
    if rows[0].get("masks") is not None:
        cols["masks"] = pa.FixedShapeTensorArray.from_numpy_ndarray(
            np.ascontiguousarray(np.stack([r["masks"] for r in rows]).astype(np.uint8)))
    labels = [r["labels"] for r in rows]
    cols["flare_class_24h"] = pa.array([lab.get("flare_class_24h") for lab in labels], pa.string())
    for k in ("f107", "f30"):
        cols[k] = pa.array([np.nan if lab.get(k) is None else float(lab[k]) for lab in labels],
                           pa.float64())
    for k in label_columns:
        vals = [lab.get(k) for lab in labels]
        numeric = all(v is None or isinstance(v, (int, float, bool)) for v in vals)
        cols[k] = pa.array([np.nan if v is None else float(v) for v in vals], pa.float64()) if numeric \
            else pa.array([None if v is None else str(v) for v in vals], pa.string())
    table = pa.table(cols)
    name = f"{SHARD_PREFIX}{_compact(t0)}_{_compact(t1)}"
    final = os.path.join(out_dir, name + ".parquet")
    n = 1
    while os.path.exists(final):  # never overwrite a completed shard
        final = os.path.join(out_dir, f"{name}-{n}.parquet")
        n += 1
    tmp = os.path.join(out_dir, f".{os.path.basename(final)}.{os.getpid()}.tmp")
    pq.write_table(table, tmp)
    os.replace(tmp, final)
    return final


def completed_samples(out_dir: str) -> dict[str, tuple[str, dict]]:
    """``{sample_id: (shard path, meta dict)}`` for every sample already in a completed shard."""
    import pyarrow.parquet as pq

    done = {}
    for p in shard_paths(out_dir):
        t = pq.read_table(p, columns=["sample_id", "meta"])
        for sid, meta in zip(t["sample_id"].to_pylist(), t["meta"].to_pylist(), strict=True):
            done[sid] = (p, json.loads(meta))
    return done


def _clean_temp(out_dir: str) -> int:
    stale = glob.glob(os.path.join(out_dir, ".*.tmp"))
    for p in stale:
        os.remove(p)
    return len(stale)


def _write_text(path: str, text: str) -> None:
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def write_manifest(path: str, rows: list[dict]) -> None:
    """CSV, one row per input file: path, channel, t_obs, status (used|rejected), sample_id,
    shard, reason."""
    import csv
    import io

    buf = io.StringIO()
    fields = ["path", "channel", "t_obs", "status", "sample_id", "shard", "reason"]
    w = csv.DictWriter(buf, fieldnames=fields)
    w.writeheader()
    for r in sorted(rows, key=lambda r: (r.get("t_obs") or "", r["path"])):
        w.writerow({k: ("" if r.get(k) is None else r.get(k)) for k in fields})
    _write_text(path, buf.getvalue())


def read_manifest(out_dir: str):
    """The manifest of ``out_dir`` as a pandas DataFrame."""
    import pandas as pd

    return pd.read_csv(os.path.join(out_dir, MANIFEST), keep_default_na=False)


# --------------------------------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------------------------------


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
    if _clean_temp(out_dir):
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

    def fate(sample_id: str, files: dict[str, str], meta: dict, shard: str | None) -> None:
        for ch, path in files.items():
            row = {"path": path, "channel": ch, "t_obs": file_time[path].isoformat(),
                   "sample_id": sample_id}
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
            compute=ray.data.ActorPoolStrategy(min_size=1, max_size=cfg.num_workers),
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
    _write_text(path, json.dumps(doc, indent=1, default=str))


def _cfg_dict(cfg: IngestConfig) -> dict:
    d = asdict(cfg)
    d["channels"] = list(cfg.channels)
    return d


__all__ = [
    "IngestConfig", "IngestError", "IngestSummary", "MASK_UNKNOWN", "Sample", "SamplePreprocessor",
    "Truth", "completed_samples", "estimate_cadence", "goes_flux", "group_samples", "index_masks",
    "read_manifest", "resample_masks", "run_ingest", "scan_inputs", "shard_paths", "write_shard",
]
