"""IATools: entities, coordinates, magnetic parameters, classes, flares and flare index.

Modules (pure functions over numpy arrays and sunpy maps; units via astropy):

* :mod:`~solarray.analysis.coords`: per-pixel Stonyhurst/Carrington coordinates, μ, areas (MSH).
* :mod:`~solarray.analysis.regions`: AR (DBSCAN), CH and FL (connectivity) entities and tables.
* :mod:`~solarray.analysis.magnetic`: fluxes, Schrijver R, polarity separation.
* :mod:`~solarray.analysis.tracking`: differential rotation and stable entity numbers.
* :mod:`~solarray.analysis.crops`: AR magnetogram crops for the Hale/McIntosh classifier
  (:mod:`solarray.models.classifier`).
* :mod:`~solarray.analysis.flares`: NOAA/SEPC flare detection on GOES XRS, localisation.
* :mod:`~solarray.analysis.flare_index`: the 24 h flare index (SA-AI 2025 counts; re-exported by
  ``flares``), one rule for serving and training tables.

Submodules are imported on use (torch only in ``crops``).
"""
