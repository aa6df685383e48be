"""The Ray Data actor of ingest: one batch of samples → preprocessed image stacks and truth masks.

Every channel of a sample is read and preprocessed independently; a channel that cannot be used
is recorded in the sample's ``meta["rejected"]`` (with the manifest's reason) and left NaN, so one
bad file never stops the job.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Sequence

import numpy as np

from solarray.core.features import FEATURE_KINDS, MASK_UNKNOWN
from solarray.data import preprocess as pp
from solarray.data import sources
from solarray.data.sources import RejectError
from solarray.data.truth import resample_masks


class SamplePreprocessor:
    """Ray Data actor: one batch of samples → image stacks ``[B, C, N, N]`` (float32, [-1, 1], NaN
    for missing channels), ``present`` flags, ``meta`` JSON and (optionally) masks
    ``[B, 3, N, N]`` uint8 (:data:`~solarray.core.features.MASK_UNKNOWN` where no truth is known)."""

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
            except RejectError as err:
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
            masks = np.full((len(FEATURE_KINDS), n, n), MASK_UNKNOWN, dtype=np.uint8)
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


__all__ = ["SamplePreprocessor"]
