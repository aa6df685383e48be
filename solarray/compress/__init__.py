"""Compression with the sigma-VAE (Brown 2023): shards → latents Parquet → FITS, sampling from the
latent prior, and the reconstruction/compression report.

* :mod:`~solarray.compress.codec` — load a ``sigma_vae`` checkpoint (and its short hash), encode
  shards to latents, decode latents to images;
* :mod:`~solarray.compress.latents` — the latents Parquet (``t_obs``, ``sample_id``, ``mu_*``,
  ``logsigma_*``; the model, hash and channels in the file metadata);
* :mod:`~solarray.compress.fits_out` — images to self-describing FITS files and PNG grids;
* :mod:`~solarray.compress.report` — per-channel reconstruction metrics in physical units on the
  disk, the compression table, and samples vs real frames.
"""
