"""Reading ingested shards for training and inference.

::

    ds = read_shards("data/ml")                       # rows per the ARCHITECTURE shard schema
    splits = split_by_time(ds, val_months=(3,), test_months=(1,), gap_hours=24)
    train = to_training(splits["train"])              # numeric columns only
    for batch in train.iter_torch_batches(batch_size=8):
        batch["image"]  # float32 [B, C, H, W] in [-1, 1], NaN → 0
        batch["present"]  # float32 [B, C]

Channel order is :func:`channels_of`.

The checks of a shard directory a user names (:func:`open_shards`, :func:`require_shards`,
:func:`require_split`, :func:`require_channels`) raise :class:`~solarray.core.errors.UsageError`
naming the flag, the path and the fix; the training entry points run them before Ray starts.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from solarray.core.errors import UsageError
from solarray.core.goes import class_to_flux
from solarray.core.paths import require_dir
from solarray.data.shards import SETTINGS, shard_paths

SPLITS = ("train", "val", "test")
#: Columns of every row :func:`to_training` yields (plus ``masks`` when the shards have them).
TRAINING_COLUMNS = ("image", "present", "t_unix", "flare_m24", "f107", "f30")
#: ``flare_m24`` of samples whose flare label is unknown (no events table at ingest).
LABEL_UNKNOWN = -1
_M1 = class_to_flux("M1.0")


def _shards_or_raise(data_dir: str) -> list[str]:
    paths = shard_paths(os.fspath(data_dir))
    if not paths:
        raise FileNotFoundError(f"no shard_*.parquet files in {data_dir} (run `solarray ingest` first)")
    return paths


def read_shards(data_dir: str | ShardSet):
    """All completed shards of ``data_dir`` as a ``ray.data.Dataset`` (one row per sample).

    Columns: ``t_obs`` (timestamp UTC), ``sample_id``, ``channels``, ``image`` (float32
    ``[C, H, W]``, [-1, 1], NaN where a channel is missing/off-frame), ``present``, ``meta`` (JSON),
    optional ``masks`` (uint8 ``[3, H, W]``: AR, CH, FL; 255 = unknown), ``flare_class_24h``,
    ``f107``, ``f30`` and any user label columns.
    """
    import ray

    if isinstance(data_dir, ShardSet):  # opened (and checked) once by open_shards
        return ray.data.read_parquet(list(data_dir.paths) or _shards_or_raise(data_dir.path))
    return ray.data.read_parquet(_shards_or_raise(data_dir))


def channels_of(data_dir: str) -> list[str]:
    """Channel names of the ``image`` axis 1, in order."""
    chans = _settings_channels(data_dir)
    if chans:
        return chans
    import pyarrow.parquet as pq

    table = pq.read_table(_shards_or_raise(data_dir)[0], columns=["channels"])
    return list(table["channels"][0].as_py())


def _settings(data_dir: str) -> dict:
    """The settings ingest recorded next to its shards (``{}`` when there are none)."""
    settings = os.path.join(os.fspath(data_dir), SETTINGS)
    if os.path.exists(settings):
        with open(settings) as f:
            return dict(json.load(f).get("settings") or {})
    return {}


def _settings_channels(data_dir: str) -> list[str]:
    """The channels ingest recorded in its settings file (``[]`` when there is none)."""
    return list(_settings(data_dir).get("channels") or [])


def _first_image_size(path_or_file) -> int:
    """Width (pixels) of the first stored image of a shard (a path or an open
    ``pyarrow.parquet.ParquetFile``; 0 if it has none)."""
    import pyarrow.parquet as pq

    f = path_or_file if isinstance(path_or_file, pq.ParquetFile) else pq.ParquetFile(path_or_file)
    if f.metadata.num_rows == 0 or "image" not in f.schema_arrow.names:
        return 0
    image = f.read_row_group(0, columns=["image"])["image"].combine_chunks().slice(0, 1)
    return int(image.to_numpy_ndarray().shape[-1]) if len(image) else 0


def image_size_of(data_dir: str | ShardSet) -> int:
    """The shards' image size in pixels (H = W): ingest's recorded ``--size``, else the first
    stored image's width; 0 when it cannot be told (no shards in ingest's layout)."""
    if isinstance(data_dir, ShardSet):
        return data_dir.image_size
    size = _settings(data_dir).get("size")
    if size:
        return int(size)
    paths = shard_paths(os.fspath(data_dir))
    return _first_image_size(paths[0]) if paths else 0


def assign_splits(t_obs: np.ndarray, val_months: Sequence[int] = (3,),
                  test_months: Sequence[int] = (1,), gap_hours: float = 24) -> np.ndarray:
    """Split name per time (``datetime64`` array): ``test`` in ``test_months``, ``val`` in
    ``val_months``, else ``train``; ``gap`` when a time within ±``gap_hours`` belongs to another
    split (those samples are dropped, so no adjacent-time leakage across splits)."""
    overlap = set(val_months) & set(test_months)
    if overlap:
        raise ValueError(f"months {sorted(overlap)} are in both val_months and test_months")
    t = np.asarray(t_obs).astype("datetime64[s]")

    def split_of(times: np.ndarray) -> np.ndarray:
        months = times.astype("datetime64[M]").astype(int) % 12 + 1
        out = np.full(times.shape, "train", dtype=object)
        out[np.isin(months, list(val_months))] = "val"
        out[np.isin(months, list(test_months))] = "test"
        return out

    own = split_of(t)
    gap = np.timedelta64(int(round(gap_hours * 3600)), "s")
    if gap > np.timedelta64(0, "s"):
        # Splits change only at month boundaries, so checking both ends of the window suffices
        # as long as the gap is shorter than a month.
        bad = (split_of(t - gap) != own) | (split_of(t + gap) != own)
        own[bad] = "gap"
    return own


def _keep_split(batch, split: str, val_months, test_months, gap_hours):
    import pyarrow as pa
    import pyarrow.compute as pc

    times = batch["t_obs"]
    if isinstance(times, pa.ChunkedArray):
        times = times.combine_chunks()
    t = pc.cast(times, pa.timestamp("s", tz="UTC")).to_numpy(zero_copy_only=False)
    names = assign_splits(t.astype("datetime64[s]"), val_months, test_months, gap_hours)
    return batch.filter(pa.array(names == split))


def split_by_time(ds, val_months: Sequence[int] = (3,), test_months: Sequence[int] = (1,),
                  gap_hours: float = 24) -> dict:
    """``{"train", "val", "test"}`` → datasets split by calendar month of ``t_obs`` (every
    year), dropping samples within ``gap_hours`` of a boundary with another split."""
    kw = dict(val_months=tuple(val_months), test_months=tuple(test_months), gap_hours=gap_hours)
    assign_splits(np.array([], dtype="datetime64[s]"), **kw)  # validate early
    return {name: ds.map_batches(_keep_split, batch_format="pyarrow", fn_kwargs={"split": name, **kw})
            for name in SPLITS}


def _at_least_m1(goes_class: str) -> bool:
    """True for a GOES class ≥ M1.0; '' (no flare in the window) is below it."""
    s = goes_class.strip()
    return bool(s) and class_to_flux(s) >= _M1 * (1 - 1e-9)


def flare_m24(classes: Sequence[object]) -> np.ndarray:
    """1 if the strongest flare of the next 24 h is ≥ M1.0, 0 if not, -1 when unknown (None)."""
    out = np.empty(len(classes), dtype=np.int64)
    for i, c in enumerate(classes):
        out[i] = LABEL_UNKNOWN if c is None else int(_at_least_m1(str(c)))
    return out


def training_batch(batch: dict) -> dict:
    """One numpy batch of shard rows as :func:`to_training`'s columns (its map function)."""
    image = np.asarray(batch["image"], dtype=np.float32)
    out = {
        "image": np.nan_to_num(image, nan=0.0, posinf=0.0, neginf=0.0),
        "present": np.stack([np.asarray(p, dtype=np.float32) for p in batch["present"]]),
        "t_unix": np.asarray(batch["t_obs"]).astype("datetime64[s]").astype(np.int64),
    }
    if "masks" in batch:
        out["masks"] = np.asarray(batch["masks"], dtype=np.uint8)
    n = len(out["image"])
    out["flare_m24"] = flare_m24(batch["flare_class_24h"]) if "flare_class_24h" in batch \
        else np.full(n, LABEL_UNKNOWN, dtype=np.int64)
    for k in ("f107", "f30"):
        vals = batch.get(k)
        out[k] = np.full(n, np.nan, np.float32) if vals is None else \
            np.array([np.nan if v is None else v for v in vals], dtype=np.float32)
    return out


def to_training(ds, channel_index: Sequence[int] | None = None):
    """Numeric columns only, so ``iter_torch_batches`` works: ``image`` float32 ``[C, H, W]``
    (NaN → 0), ``present`` float32 ``[C]``, ``masks`` uint8 ``[3, H, W]`` (when ingested with
    masks; 255 = unknown), ``flare_m24`` int64 (1 if ``flare_class_24h`` ≥ M1.0, 0 if not, -1
    unknown), ``f107``/``f30`` float32 (sfu, NaN unknown), ``t_unix`` int64 (s since 1970).
    ``channel_index``: keep only these channels of ``image``/``present``, in that order."""
    out = ds.map_batches(training_batch, batch_format="numpy")
    if channel_index is None:
        return out
    idx = [int(i) for i in channel_index]
    return out.map_batches(_keep_channels, batch_format="numpy", fn_kwargs={"index": idx})


def _keep_channels(batch: dict, index: list[int]) -> dict:
    batch["image"] = np.ascontiguousarray(batch["image"][:, index])
    batch["present"] = np.ascontiguousarray(batch["present"][:, index])
    return batch


def channel_index(available: Sequence[str], wanted: Sequence[str], where: str = "the data"
                  ) -> list[int]:
    """Positions of ``wanted`` channels in ``available``; ValueError naming the missing ones."""
    missing = [c for c in wanted if c not in available]
    if missing:
        raise ValueError(f"channels {missing} are not in {where} (it holds {list(available)})")
    return [list(available).index(c) for c in wanted]


# --------------------------------------------------------------------------------------------------
# checks of a shard directory a user names (UsageError: flag, path and fix in one line)
# --------------------------------------------------------------------------------------------------

#: Columns every shard has (ingest's, and `search patches`' patch files).
SHARD_COLUMNS = ("sample_id",)
_INGEST = "run `solarray ingest --out DIR` first"


@dataclass(frozen=True)
class ShardSet:
    """A shard directory opened once (:func:`open_shards`): its shards, every ``sample_id``
    (oldest first) and its channels (``()`` when they cannot be told: ``channels_error`` says
    why). No shards (another Parquet layout, which the data API reports on) → all empty."""

    path: str
    paths: tuple[str, ...] = ()
    sample_ids: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    channels_error: str = ""
    image_size: int = 0  # pixels (H = W); 0 when it cannot be told
    columns: tuple[str, ...] = ()  # the first shard's columns

    @property
    def training_columns(self) -> tuple[str, ...]:
        """The columns :func:`to_training` gives these shards' rows (``masks`` when ingested)."""
        return TRAINING_COLUMNS + (("masks",) if "masks" in self.columns else ())


def _one_line(err: BaseException, n: int) -> str:
    return " ".join(str(err).split())[:n]


def _shard_files(flag: str, path: str) -> list[str]:
    require_dir(flag, path)
    paths = shard_paths(path)
    if not paths and next(Path(path).rglob("*.parquet"), None) is None:
        raise UsageError(f"{flag}: {path} has no shard_*.parquet files; {_INGEST}")
    return paths


def _unreadable(flag: str, p: str, err: BaseException) -> UsageError:
    return UsageError(f"{flag}: shard {p} is unreadable ({_one_line(err, 120)}); delete it and "
                      "re-run `solarray ingest` with the same --out (it resumes)")


def _check_columns(flag: str, p: str, names) -> None:
    missing = [c for c in SHARD_COLUMNS if c not in set(names)]
    if missing:
        raise UsageError(f"{flag}: {p} is not an ingest shard (no column "
                         f"{', '.join(missing)}); {_INGEST}")


def require_shards(flag: str, path: str) -> list[str]:
    """``path`` is an ingest output with at least one shard, and every shard's Parquet footer
    reads with the shard columns; → the shard paths. A truncated or foreign file is named.
    A directory with Parquet files in another layout (e.g. Ray Data's ``write_parquet``) → ``[]``:
    the data API reads it and reports what it lacks."""
    import pyarrow.parquet as pq

    paths = _shard_files(flag, path)
    for p in paths:
        try:
            names = pq.read_schema(p).names
        except Exception as err:  # pyarrow raises ArrowInvalid/OSError for a damaged footer
            raise _unreadable(flag, p, err) from None
        _check_columns(flag, p, names)
    return paths


def open_shards(flag: str, path: str) -> ShardSet:
    """:func:`require_shards` and, in the same pass over the files, every ``sample_id`` and the
    channels: what the training entry points check and then read, without opening the shards
    again."""
    import pyarrow.parquet as pq

    paths = _shard_files(flag, path)
    ids: set[str] = set()
    channels: tuple[str, ...] = ()
    why, size, columns = "", int(_settings(path).get("size") or 0), ()
    for i, p in enumerate(paths):
        try:
            f = pq.ParquetFile(p)
            _check_columns(flag, p, f.schema_arrow.names)
            ids.update(f.read(columns=list(SHARD_COLUMNS))["sample_id"].to_pylist())
        except UsageError:
            raise
        except Exception as err:  # pyarrow raises ArrowInvalid/OSError for a damaged file
            raise _unreadable(flag, p, err) from None
        if i == 0:
            try:
                channels = tuple(_settings_channels(path) or
                                 f.read_row_group(0, columns=["channels"])["channels"][0].as_py())
            except (OSError, ValueError, KeyError, IndexError) as err:
                why = _one_line(err, 160)
            size = size or _first_image_size(f)  # the file already open
            columns = tuple(f.schema_arrow.names)
        f.close()
    return ShardSet(os.fspath(path), tuple(paths), tuple(sorted(ids)), channels, why, size,
                    columns)


def shard_channels(flag: str, path: str | ShardSet) -> list[str]:
    """The channels of the shards in ``path`` (checked with :func:`require_shards`)."""
    if isinstance(path, ShardSet):
        if path.channels:
            return list(path.channels)
        why, path = path.channels_error, path.path
    else:
        require_shards(flag, path)
        try:
            return list(channels_of(path))
        except (OSError, ValueError, KeyError) as err:
            why = _one_line(err, 160)
    raise UsageError(f"{flag}: cannot tell the channels of {path} ({why}); {_INGEST}")


def require_split(flag: str, path: str | ShardSet, split: str = "train", fix: str = "",
                  val_months: Sequence[int] = (3,), test_months: Sequence[int] = (1,)) -> None:
    """At least one sample of the shards in ``path`` falls in ``split`` of the time split
    (:func:`assign_splits`); else name where they fall and ``fix``."""
    shards = path if isinstance(path, ShardSet) else open_shards(flag, path)
    if not shards.paths:
        return  # not ingest's layout: the data API applies the split
    ids = shards.sample_ids
    splits = assign_splits(np.array(ids, dtype="datetime64[s]"), val_months, test_months)
    if (splits == split).any():
        return
    counts = ", ".join(f"{k} {int((splits == k).sum())}" for k in ("train", "val", "test", "gap")
                       if (splits == k).any()) or "none"
    months = (f"test = month(s) {','.join(map(str, test_months))}, validation = month(s) "
              f"{','.join(map(str, val_months))}, 24-h gaps between splits")
    word = {"train": "training", "val": "validation"}.get(split, split)
    raise UsageError(f"{flag}: none of the {len(ids)} samples in {shards.path} is in the {word} "
                     f"split (they fall in: {counts}; {months}); "
                     + (fix or "add data from other months"))


def require_channels(flag: str, wanted: Sequence[str], available: Sequence[str],
                     where: str, fix: str = "") -> None:
    """Every channel in ``wanted`` is in ``available`` (the data's channels at ``where``)."""
    lacking = [c for c in wanted if c not in available]
    if lacking:
        raise UsageError(f"{flag}: needs channel(s) {', '.join(lacking)} that {where} lacks (it "
                         f"has {', '.join(available) or 'none'}); "
                         + (fix or "ingest those channels or use a model trained on these"))


__all__ = ["LABEL_UNKNOWN", "SHARD_COLUMNS", "SPLITS", "TRAINING_COLUMNS", "ShardSet", "assign_splits", "channel_index",
           "channels_of", "flare_m24", "image_size_of", "open_shards", "read_shards", "require_channels",
           "require_shards", "require_split", "shard_channels", "split_by_time", "to_training",
           "training_batch"]
