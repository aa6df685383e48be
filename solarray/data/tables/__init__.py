"""Table sources: one reader per source, each returning a documented pandas table.

* :mod:`~solarray.data.tables.goes_xrs` — GOES XRS 1–8 / 0.5–4 Å flux (the real GOES FITS/netCDF
  files through sunpy's ``TimeSeries``, or a ``time, xrsa, xrsb`` table): :func:`read_xrs` →
  1-minute ``xrsa``/``xrsb`` (W m⁻²) on a naive-UTC ``DatetimeIndex``;
* :mod:`~solarray.data.tables.srs` — NOAA Solar Region Summaries (``sunpy.io.special.srs``), Mag
  Type normalised: :func:`read_srs_table` → :data:`SRS_COLUMNS`;
* :mod:`~solarray.data.tables.events` — flare event lists: :func:`read_flare_events` → ``start``,
  ``peak``, ``end`` (naive UTC), ``goes_class``, ``peak_flux`` (W m⁻²), ``hgs_lon``/``hgs_lat``;
* :mod:`~solarray.data.tables.indices` — daily F10.7/F30 (sfu): :func:`read_indices` (by
  ``date``) and :func:`read_index_series` (one index, ``datetime64[D]``);
* :mod:`~solarray.data.tables.truth` — the synthetic Sun's ``tables/`` and user label CSVs that
  ingest joins to samples;
* :mod:`~solarray.data.tables.table` — the one Parquet/CSV reader under all of them
  (:func:`read_table`, errors :class:`TableError` naming the file and what was expected).

Every reader's module docstring lists its columns, units, time scale and index. Sources are read
here; what is computed from them (flare detection, the flare index, region matching) is not.
FITS images are :mod:`solarray.data.sources`.
"""

from solarray.data.tables.events import read_flare_events
from solarray.data.tables.goes_xrs import XRSData, XRSReadError, clean_xrs, read_xrs
from solarray.data.tables.indices import INDEX_COLUMNS, read_index_series, read_indices
from solarray.data.tables.srs import SRS_COLUMNS, SRSReadError, read_srs_dir, read_srs_table
from solarray.data.tables.table import TableError, find_table, naive_utc, read_table
from solarray.data.tables.truth import read_truth_events, read_truth_indices, read_user_labels

__all__ = ["INDEX_COLUMNS", "SRS_COLUMNS", "SRSReadError", "TableError", "XRSData", "XRSReadError",
           "clean_xrs", "find_table", "naive_utc", "read_flare_events", "read_index_series",
           "read_indices", "read_srs_dir", "read_srs_table", "read_table", "read_truth_events",
           "read_truth_indices", "read_user_labels", "read_xrs"]
