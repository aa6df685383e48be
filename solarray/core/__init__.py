"""Shared vocabulary of every solarray room; imports nothing else from solarray.

* :mod:`~solarray.core.channels` — the channel catalogue (names, wavelengths, scaling);
* :mod:`~solarray.core.features` — the feature kinds AR/CH/FL (mask plane order) and their colours;
* :mod:`~solarray.core.classes` — the Hale and McIntosh class vocabularies and their encoding;
* :mod:`~solarray.core.frame` — the ML frame: half-width in R☉, disk mask, radius grid;
* :mod:`~solarray.core.frame_header` — the frame's FITS header (WCS, observer);
* :mod:`~solarray.core.geometry` — Sun–observer geometry of pixel grids (one :class:`DiskGeometry`);
* :mod:`~solarray.core.goes` — GOES class ↔ peak flux;
* :mod:`~solarray.core.atomic` — atomic writes (temporary file, then rename);
* :mod:`~solarray.core.ray_connect` — starting or joining Ray;
* :mod:`~solarray.core.checkpoints` — checkpoint file names and the default checkpoint directory;
* :mod:`~solarray.core.errors` — :class:`UsageError`.
"""
