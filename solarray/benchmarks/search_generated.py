"""SEARCH's generated-query search (Chatterjee 2025, Fig. 5): GAN patches as queries, their top-1
real match in the trained SimSiam LUT, and how well the physical parameters agree.

The GAN makes ``gan_size``-px patches; when SimSiam reads larger patches, a generated query is
centred in a patch of quiet-Sun noise (Gaussian, ``noise_gauss`` G) of SimSiam's size, and every
real patch's parameters are computed on its central ``gan_size`` px, so query and match are
measured over the same area. Per parameter: Spearman and Pearson correlation between query and
match with p-values (``scipy.stats``), the same for randomly paired real patches (the control),
and a two-sample KS test of the queries' marginal against the real patches' marginal (are the
generated regions in the real regions' physical domain?).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import stats

from solarray.core import channels as chans
from solarray.search import directions as D
from solarray.search.index import ExactIndex
from solarray.search.parameters import PARAMETERS, parameter_table


def centre(x: np.ndarray, size: int) -> np.ndarray:
    """Central ``size × size`` px of patches ``[N, C, S, S]``."""
    s = x.shape[-1]
    a = (s - size) // 2
    return x[..., a:a + size, a:a + size]


def embed_query(gq: np.ndarray, size: int, noise_gauss: float, seed: int) -> np.ndarray:
    """Generated patches ``[N, 1, g, g]`` (scaled hmi_m) centred in ``size``-px noise patches."""
    n, c, g, _ = gq.shape
    if g == size:
        return gq
    hmi = chans.get("hmi_m")
    rng = np.random.default_rng(seed)
    out = (noise_gauss / hmi.b_max * rng.standard_normal((n, c, size, size))).astype(np.float32)
    centre(out, g)[...] = gq
    return out


def pair_stats(query: np.ndarray, match: np.ndarray) -> dict[str, float]:
    """Spearman ρ and Pearson r with p-values over the finite pairs."""
    ok = np.isfinite(query) & np.isfinite(match)
    if ok.sum() < 3:
        return {"n": int(ok.sum())}
    s, p = stats.spearmanr(query[ok], match[ok]), stats.pearsonr(query[ok], match[ok])
    return {"spearman": float(s.statistic), "spearman_p": float(s.pvalue),
            "pearson": float(p.statistic), "pearson_p": float(p.pvalue), "n": int(ok.sum())}


def generated_search(gan, embed: Callable[[np.ndarray], np.ndarray], x: np.ndarray,
                     pixel_size_mm: float, n: int, seed: int, noise_gauss: float = 10.0
                     ) -> dict[str, dict]:
    """Per parameter: query↔match and query↔random statistics, and the KS test of marginals.

    ``gan``: a trained ``ar_gan``; ``embed``: scaled patches ``[N, 1, S, S]`` → latents; ``x``:
    every real patch (the LUT), scaled hmi_m ``[N, 1, S, S]``.
    """
    g = int(gan.config.image_size)
    real = parameter_table(chans.get("hmi_m").unscale(centre(x, g)[:, 0]), pixel_size_mm)
    zq = np.random.default_rng(100 + seed).standard_normal((n, gan.config.latent_dim))
    zq = zq.astype(np.float32)
    gq = D.generate(gan, zq)
    qp = D.patch_parameters(gan, zq, pixel_size_mm)
    ids, _ = ExactIndex(embed(x)).query(embed(embed_query(gq, x.shape[-1], noise_gauss, seed)), 1)
    rnd = np.random.default_rng(seed).integers(0, len(x), n)
    out: dict[str, dict] = {}
    for p in PARAMETERS:
        q, r = qp[p], real[p]
        ks = stats.ks_2samp(q[np.isfinite(q)], r[np.isfinite(r)])
        out[p] = {"match": pair_stats(q, r[ids[:, 0]]), "random": pair_stats(q, r[rnd]),
                  "ks_vs_real": {"statistic": float(ks.statistic), "p": float(ks.pvalue)},
                  "query_median": float(np.nanmedian(q)), "real_median": float(np.nanmedian(r))}
    return out


__all__ = ["centre", "embed_query", "generated_search", "pair_stats"]
