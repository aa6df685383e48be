"""SEARCH (Chatterjee 2025): reverse image search over AR magnetogram patches.

:mod:`~solarray.search.parameters` (TUF/TPF/TNF/PSEP), :mod:`~solarray.search.patches` (AR
cut-outs as Parquet), :mod:`~solarray.search.index` (exact cosine index),
:mod:`~solarray.search.lut` (Ray Data look-up table of SimSiam latents, the searcher),
:mod:`~solarray.search.directions` (linear-SVM directions in the GAN's latent space),
:mod:`~solarray.search.evaluate` (retrieval quality).
"""

from solarray.search.index import ExactIndex
from solarray.search.parameters import PARAMETERS, parameters

__all__ = ["PARAMETERS", "ExactIndex", "parameters"]
