"""One time step's random draws, made ahead on a background thread while the frames render.

Drawing 4096² standard normals costs ≈ 0.3 s per channel here, and the detector noise of a
step is the only thing that needs them, so a producer thread draws them in exactly the order the
renderer used to (per channel: the frame's fate, then its noise if the frame is not missing) while
the main thread renders; numpy releases the GIL while it fills the arrays. The values are the
ones a sequential loop over the same generator gives.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Sequence

import numpy as np


class StepDraws:
    """Per channel of ``channels``: :meth:`fate` (uniform 0–1), then, if the fate is not below
    ``missing_below``, :meth:`noise` (standard normals ``[*shape]`` float32), from ``rng``."""

    def __init__(self, rng: np.random.Generator, channels: Sequence[str], missing_below: float,
                 shape: tuple[int, int], ahead: int = 2):
        self._q: queue.Queue = queue.Queue(maxsize=ahead)  # bounds memory: 64 MB per 4096² array
        self._thread = threading.Thread(target=self._produce, daemon=True, name="solarray-draws",
                                        args=(rng, len(channels), missing_below, shape))
        self._thread.start()

    def _produce(self, rng, n: int, missing_below: float, shape) -> None:
        try:
            for _ in range(n):
                fate = rng.random()
                self._q.put(fate)
                if fate >= missing_below:
                    self._q.put(rng.standard_normal(shape, dtype=np.float32))
        except BaseException as err:  # hand it to the consumer instead of hanging it
            self._q.put(err)

    def _get(self):
        item = self._q.get()
        if isinstance(item, BaseException):
            raise item
        return item

    def fate(self) -> float:
        return float(self._get())

    def noise(self) -> np.ndarray:
        return self._get()

    def close(self) -> None:
        """Wait for the producer (all draws consumed) so the generator is free again."""
        self._thread.join()


__all__ = ["StepDraws"]
