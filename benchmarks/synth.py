"""Seconds per full-channel time step of the synthetic Sun, against the I/O floor, interleaved.

    python benchmarks/synth.py [--sizes 4096] [--steps 2] [--repeats 3] [--out docs/results/synth.json]

Arms, rounds in rotated order (:mod:`solarray.benchmarks.arms`), each round one call per arm:

- ``banded``: the shipped renderer (row bands of :data:`~solarray.data.synthetic.blocks.
  BLOCK_PIXELS`, :data:`~solarray.data.synthetic.blocks.THREADS` band threads, noise drawn ahead
  on a thread);
- ``one_band``: the same code with one band per frame and one band thread: the whole-frame
  arithmetic the renderer did before, so ``one_band / banded`` is what banding and band threads buy;
- ``io_floor``: writing the same number of float32 FITS files (channels + masks) of random data.

Outputs of the two render arms are identical (tests/test_synthetic.py).
"""

from __future__ import annotations

import os
import tempfile
import warnings
from pathlib import Path

import numpy as np
from astropy.io import fits

from solarray.benchmarks.arms import format_spread, interleave, ratio, summary
from solarray.benchmarks.script import Bench
from solarray.core import channels as chans
from solarray.data.synthetic import SynthConfig, blocks, generate

BENCH = Bench("synth", "benchmarks/synth.py", __doc__)


def io_floor(size: int, n_files: int, where: Path) -> None:
    data = np.random.default_rng(0).random((size, size), dtype=np.float32)
    for i in range(n_files):
        fits.PrimaryHDU(data).writeto(where / f"floor{i}.fits", overwrite=True)


def render(cfg: SynthConfig, where: Path, block_pixels: int, threads: int) -> None:
    old = blocks.BLOCK_PIXELS, blocks.THREADS
    blocks.BLOCK_PIXELS, blocks.THREADS = block_pixels, threads
    try:
        generate(cfg, where)
    finally:
        blocks.BLOCK_PIXELS, blocks.THREADS = old


def main(argv: list[str] | None = None) -> int:
    args = BENCH.parse(argv, {"--sizes": "4096", "--steps": 2, "--repeats": 3})
    warnings.simplefilter("ignore")
    n_ch = len(chans.DEFAULT_CHANNELS)
    results: dict = {"load_average_start": os.getloadavg(), "threads": blocks.THREADS,
                     "block_pixels": blocks.BLOCK_PIXELS}
    with tempfile.TemporaryDirectory() as tmp:
        where = Path(tmp)
        generate(SynthConfig(hours=0, size=32, preview=False), where / "warm")
        for size in [int(s) for s in args.sizes.split(",")]:
            cfg = SynthConfig(hours=(args.steps - 1) * 0.2, cadence_minutes=12, size=size,
                              preview=False)
            n_files = cfg.n_steps * (n_ch + 1)
            arms = {
                "banded": lambda c=cfg: render(c, where / "a", blocks.BLOCK_PIXELS, blocks.THREADS),
                "one_band": lambda c=cfg: render(c, where / "b", 1 << 40, 1),
                "io_floor": lambda s=size, n=n_files: io_floor(s, n, where),
            }
            times = interleave(arms, repeats=args.repeats, progress=print)
            per_step = {k: [t / cfg.n_steps for t in v] for k, v in times.items()}
            results[str(size)] = {
                "seconds_per_step": {k: summary(v) for k, v in per_step.items()},
                "rounds": per_step,
                "banded/io_floor": ratio(per_step["banded"], per_step["io_floor"]),
                "one_band/banded": ratio(per_step["one_band"], per_step["banded"]),
            }
            r = results[str(size)]
            print(f"{size}²: " + "; ".join(f"{k} {format_spread(s, 's/step', 2)}"
                                             for k, s in r["seconds_per_step"].items()))
            print(f"  banded/io_floor {format_spread(r['banded/io_floor'], '×', 1)}; "
                  f"one_band/banded {format_spread(r['one_band/banded'], '×', 2)}")
    results["load_average_end"] = os.getloadavg()
    BENCH.finish(vars(args), results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
