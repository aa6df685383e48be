"""Seconds per full-channel time step of the synthetic Sun at 4096² (and smaller sizes).

Baseline in the same run: the cost of only writing the same number of 4096² float32 FITS files
(the I/O floor), so the ratio says how much of a step is rendering.

    python benchmarks/synth.py [--sizes 512,1024,4096] [--steps 2]
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
from astropy.io import fits

from solarray.core import channels as chans
from solarray.data.synthetic import SynthConfig, generate


def io_floor(size: int, n_files: int, where: Path) -> float:
    data = np.random.default_rng(0).random((size, size), dtype=np.float32)
    t = time.perf_counter()
    for i in range(n_files):
        fits.PrimaryHDU(data).writeto(where / f"floor{i}.fits", overwrite=True)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="512,1024,4096")
    ap.add_argument("--steps", type=int, default=2)
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    n_ch = len(chans.DEFAULT_CHANNELS)
    print(f"{'size':>6} {'s/step':>8} {'io floor s/step':>16} {'render/io':>10}")
    for size in [int(s) for s in args.sizes.split(",")]:
        with tempfile.TemporaryDirectory() as tmp:
            cfg = SynthConfig(hours=(args.steps - 1) * 0.2, cadence_minutes=12, size=size,
                              preview=False)
            generate(SynthConfig(hours=0, size=32, preview=False), Path(tmp) / "warm")
            t = time.perf_counter()
            generate(cfg, Path(tmp) / "run")
            per_step = (time.perf_counter() - t) / cfg.n_steps
            floor = io_floor(size, n_ch + 1, Path(tmp)) # channels + masks
        print(f"{size:>6} {per_step:>8.2f} {floor:>16.2f} {per_step / floor:>10.1f}")


if __name__ == "__main__":
    main()
