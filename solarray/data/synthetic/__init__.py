"""The synthetic Sun: a seeded sequence of co-temporal AIA + HMI level-1 FITS files with ground truth.

``generate(SynthConfig(...), out_dir)`` writes::

    OUT/fits/<channel>/<JSOC-like name>.fits   level-1 FITS, one per channel and time step
    OUT/masks/masks_<YYYYmmddTHHMMSS>.fits      uint8 [3, H, W] AR, CH, FL on a north-up grid
                                                 centred on the disk spanning ±1.1 R☉
    OUT/tables/ar.parquet                        one row per visible AR per time step
    OUT/tables/events.parquet, events.csv        flares (start, peak, end, class, AR, position)
    OUT/tables/xrs.parquet                       GOES XRS xrsa/xrsb, 1-min, W m⁻²
    OUT/tables/indices.parquet                   daily F10.7 and F30, sfu
    OUT/preview.png                              one panel per channel, masks outlined
    OUT/synth.json                               written last: the set is complete

Tables cover one day before the first and after the last image so that 24-h flare labels and
flare-history features are defined for every time step. No table value describes the Sun after
its time: a flare shows from its start, a day's F10.7/F30 is the Sun at its measurement hour.
AIA files are in DN (divide by EXPTIME), HMI in Gauss with the instrument's ≈180° roll (CROTA2),
exactly as JSOC level-1 data, so the same code reads synthetic and real observations.

Modules: :mod:`~.model` (what the Sun contains), :mod:`~.activity` (what it emits over time:
flares, GOES XRS, F10.7/F30), :mod:`~.render` (fields and intensities on a grid),
:mod:`~.level1` (pointing, headers, noise), :mod:`~.tables`, :mod:`~.preview`,
:mod:`~.generator` (the public API below), :mod:`~.blocks` (per-pixel work in cache-sized row
bands on two threads) and :mod:`~.draws` (a step's random draws made ahead on a thread). Also
here, built on the generator or standing in for it: :mod:`~.toy` (tiny in-memory training
samples), :mod:`~.forecast_set` (several synthetic runs ingested into one multi-month
forecasting set) and :mod:`~.productivity` (where its ≥M flares come from, without rendering).

The generator's names are loaded on first use (PEP 562 ``__getattr__``): importing a light
submodule such as :mod:`~.toy` (``solarray pretrain --toy``) does not pay for the generator's
pandas/astropy imports (≈ 2.5 s of a command's start-up).
"""

import importlib

__all__ = ["SynthConfig", "SynthResult", "check_writable", "generate", "parse_cadence"]


def __getattr__(name: str):
    if name in __all__:
        return getattr(importlib.import_module("solarray.data.synthetic.generator"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
