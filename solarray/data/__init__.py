"""Data: FITS sources, preprocessing, the Ray Data ingest pipeline, shards, training datasets,
the synthetic Sun and versioned label sets.

* :mod:`~solarray.data.sources` — list, read and validate FITS files;
  :mod:`~solarray.data.tiled_fits` — RICE tile decoding straight from bytes;
* :mod:`~solarray.data.download` — download real SDO data (sunpy Fido/drms), its network faults
  in one line (:mod:`~solarray.data.download_faults`);
* :mod:`~solarray.data.tables` — table sources, one reader each: GOES XRS, NOAA SRS, flare event
  lists, F10.7/F30 indices, the synthetic Sun's truth tables;
* preprocessing of one image: :mod:`~solarray.data.calibration` (exposure, degradation),
  :mod:`~solarray.data.warp` (where the Sun is, the warp onto the ML frame),
  :mod:`~solarray.data.preprocess` (the steps in order, off-limb, scaling),
  :mod:`~solarray.data.quality` (limb and centre checks);
* ingest: :mod:`~solarray.data.grouping` (co-temporal files → samples), :mod:`~solarray.data.truth`
  (truth masks and label tables), :mod:`~solarray.data.ingest_worker` (the Ray Data actor),
  :mod:`~solarray.data.shards` (Parquet shards, manifest), :mod:`~solarray.data.ingest` (the run);
* :mod:`~solarray.data.dataset` — shards → Ray Datasets for training and inference;
* :mod:`~solarray.data.synthetic` — the synthetic Sun, toy samples, the synthetic forecasting set;
* :mod:`~solarray.data.labels` — versioned label sets (SPNet's label cycle).
"""
