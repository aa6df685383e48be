"""One observation on solarray's ML frame, and its view for a model (channel order, size).

Models accept any input size: images are resampled to each model's ``image_size``. Missing
channels are zero planes flagged absent.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from solarray.core import channels as chans
from solarray.core.frame import header_frame
from solarray.forecast.examples import resize


@dataclass
class Sample:
    """One observation time on solarray's ML frame (north up, disk centred, ±``frame`` R☉).

    ``image``: float32 ``[C, H, W]`` (H = W) scaled to [-1, 1] per channel, NaN where unknown;
    ``header``: FITS keywords of the grid (:func:`solarray.core.frame_header.sample_frame_header`: WCS,
    DATE-OBS, observer, FRAME); ``present``: bool ``[C]``; ``b_los``: the LOS magnetogram in G
    ``[H, W]`` when known unclipped (otherwise it is unscaled from the ``hmi_m`` plane, clipped at
    ±1500 G).
    """

    image: np.ndarray
    channels: tuple[str, ...]
    t_obs: datetime
    header: dict[str, Any]
    present: np.ndarray | None = None
    b_los: np.ndarray | None = None
    sample_id: str = ""
    source: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.image = np.asarray(self.image, dtype=np.float32)
        self.channels = chans.resolve(tuple(self.channels))
        if self.image.ndim != 3 or self.image.shape[1] != self.image.shape[2]:
            raise ValueError(f"sample image must be [C, N, N], got {self.image.shape}")
        if self.image.shape[0] != len(self.channels):
            raise ValueError(f"sample has {self.image.shape[0]} planes for "
                             f"{len(self.channels)} channels {self.channels}")
        if self.present is None:
            self.present = np.array([np.isfinite(p).any() for p in self.image], dtype=bool)
        self.present = np.asarray(self.present, dtype=bool)
        if self.b_los is not None and self.b_los.shape != self.image.shape[1:]:
            raise ValueError(f"b_los {self.b_los.shape} does not match the image {self.image.shape}")
        self.header = {k: v for k, v in dict(self.header).items() if k not in ("COMMENT", "HISTORY")}
        if not self.sample_id:
            self.sample_id = self.t_obs.strftime("%Y-%m-%dT%H:%M:%S")

    @property
    def size(self) -> int:
        return int(self.image.shape[-1])

    @property
    def present_channels(self) -> tuple[str, ...]:
        """The channels this observation holds (``present``), in ``channels`` order."""
        return tuple(c for c, p in zip(self.channels, self.present, strict=True) if p)

    @property
    def frame(self) -> float:
        """Half-width of the frame, R☉ (the header's ``FRAME``)."""
        return header_frame(self.header)

    def magnetogram(self) -> np.ndarray | None:
        """LOS field in G ``[H, W]`` (NaN where unknown), or None without ``hmi_m``."""
        if self.b_los is not None:
            return self.b_los
        if "hmi_m" in self.channels and self.present[self.channels.index("hmi_m")]:
            return chans.get("hmi_m").unscale(self.image[self.channels.index("hmi_m")])
        return None

    def grid_map(self):
        """A sunpy map of the sample grid (zeros) carrying the WCS and observer."""
        import sunpy.map

        meta = dict(self.header)
        meta.update(NAXIS=2, NAXIS1=self.size, NAXIS2=self.size)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return sunpy.map.Map(np.zeros((self.size, self.size), np.float32), meta)


def prepare_stack(image: np.ndarray, present: np.ndarray, channels: Sequence[str],
                  model_channels: Sequence[str], size: int) -> tuple[np.ndarray, np.ndarray]:
    """``image [C, H, W]`` → the model's channel order and size: ``([C', size, size], present [C'])``.

    Channels the sample lacks become zero planes with ``present`` 0; NaN → 0 (the scaled
    background); resampling is an area mean when shrinking and bilinear when enlarging.
    """
    channels = list(channels)
    idx = [channels.index(c) if c in channels else -1 for c in model_channels]
    if all(i < 0 or not present[i] for i in idx):
        raise ValueError(f"the model needs one of {', '.join(model_channels)}; the sample has "
                         f"{', '.join(c for c, p in zip(channels, present, strict=True) if p)}")
    h = image.shape[-1]
    out = np.zeros((len(idx), h, h), np.float32)
    pres = np.zeros(len(idx), np.float32)
    for j, i in enumerate(idx):
        if i >= 0 and present[i]:
            out[j] = np.nan_to_num(image[i], nan=0.0, posinf=0.0, neginf=0.0)
            pres[j] = 1.0
    return resize(out[None], size)[0], pres


__all__ = ["Sample", "prepare_stack"]
