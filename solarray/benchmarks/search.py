"""SEARCH (Chatterjee 2025) on the benchmark Sun: does SimSiam retrieval beat raw pixels and the
untrained network; steerable GAN directions; generated queries; query latency.

* Patches: ``size``-px cut-outs of ``hmi_m`` around the truth AR masks of the benchmark Sun's
  shards (:func:`solarray.search.patches.patches_from_shards`), split by month (train: Feb/Apr/May,
  test: January). Retrieval (:mod:`solarray.search.evaluate`) on the test patches at each gap of
  ``gaps_h`` (everything closer in time held out; the partner is the same region at the next
  remaining frame): p@1, p@5 and MRR per query, for
  - ``simsiam``: the ``preset`` SimSiam trained ``simsiam_steps`` steps (the ``simsiam``
    objective's step in a plain loop; augmentations at the magnetogram's noise level);
  - ``untrained``: the same network at its initialisation (same seed);
  - ``raw_pixels``: the patches as stored (B / 1500 G), flattened;
  - ``raw_pixels_softened``: the pixels the network reads (``asinh(B / s)`` when the preset
    softens the field) — raw pixels of the model's own input, the stricter baseline.
  Per seed: the protocol's mean ± std and paired per-seed differences; over queries: paired
  bootstrap 95 % intervals of SimSiam (its per-query outcome averaged over seeds) minus each
  baseline, resampling test *regions* (a region's queries are not independent).
* GAN (tiny ``ar_gan``): one LinearSVC direction per parameter, Spearman ρ of the parameter
  against the step along it; generated queries → top-1 real match
  (:mod:`solarray.benchmarks.search_generated`: correlations with p-values, KS of marginals).
* Latency: :class:`~solarray.search.index.ExactIndex` against brute-force numpy.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import torch

from solarray.benchmarks.search_generated import centre, generated_search
from solarray.core import channels as chans
from solarray.data.dataset import assign_splits
from solarray.metrics.bootstrap import paired_interval
from solarray.metrics.protocol import compare, summarise
from solarray.models import build
from solarray.search import directions as D
from solarray.search.evaluate import outcomes, retrieval_ranks
from solarray.search.index import ExactIndex, brute_force
from solarray.search.parameters import PARAMETERS
from solarray.search.patches import patches_from_shards
from solarray.train.config import TrainConfig
from solarray.train.objectives.ar_gan import ARGANObjective
from solarray.train.objectives.simsiam import SimSiamObjective
from solarray.train.optim import build_optimizers, train_step

ARMS = ("simsiam", "untrained", "raw_pixels", "raw_pixels_softened")
BASELINES = ARMS[1:]
METRICS = ("p@1", "p@5", "mrr")


@dataclass
class SearchBenchmarkConfig:
    root: str = ".cache/benchmark_sun"
    seeds: tuple[int, ...] = (0, 1, 2)
    size: int = 48  # patch side, px of the 128-px frame (12 Mm px)
    preset: str = "resnet_tiny"
    simsiam_steps: int = 600
    batch_size: int = 64
    lr: float = 1e-3
    noise_gauss: float = 10.0  # augmentation noise: the magnetogram's noise level, G
    # Other SimSiamObjective fields: stronger than the objective's mild defaults, measured to
    # retrieve better (BENCHMARKS.md SEARCH): ±8°, ±3 px of 48, ±3 % zoom, ±10 % E-W stretch, ±20 % gain.
    augment: dict = field(default_factory=lambda: dict(max_rotation_deg=8.0, max_shift=0.0625,
                                                       zoom=0.03, squeeze=0.1, jitter=0.2))
    gaps_h: tuple[float, ...] = (6.0, 24.0)
    n_boot: int = 1000
    gan_steps: int = 800
    n_generated: int = 256
    latency_sizes: tuple[int, ...] = (100_000, 1_000_000)
    latency_repeats: int = 3


def embed(model, x: np.ndarray) -> np.ndarray:
    """Latents ``[N, D]`` of scaled patches ``x`` ``[N, C, S, S]`` (eval mode, batches of 512)."""
    model.eval()
    with torch.no_grad():
        return np.concatenate([model(torch.from_numpy(x[i:i + 512]), mode="embed").numpy()
                               for i in range(0, len(x), 512)])


def softened_pixels(model, x: np.ndarray) -> np.ndarray:
    """The pixels the model's encoder reads (its input layer applied when it softens the field)."""
    first = model.encoder[0]
    if type(first).__name__ != "_SoftenedField":
        return x.reshape(len(x), -1)
    with torch.no_grad():
        return first(torch.from_numpy(x)).numpy().reshape(len(x), -1)


def train_simsiam(x: np.ndarray, seed: int, cfg: SearchBenchmarkConfig, log=print):
    """``(trained, untrained)``: the ``cfg.preset`` SimSiam trained on ``x`` and its init."""
    torch.manual_seed(seed)
    model = build("simsiam", preset=cfg.preset, image_size=int(x.shape[-1]))
    untrained = build("simsiam", preset=cfg.preset, image_size=int(x.shape[-1]))
    untrained.load_state_dict(model.state_dict())
    obj = SimSiamObjective(noise=cfg.noise_gauss / chans.get("hmi_m").b_max, **cfg.augment)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, cfg.lr, total_steps=cfg.simsiam_steps,
                                                pct_start=0.1)
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)  # the augmentations draw from the global generator
    xt = torch.from_numpy(x)
    model.train()
    for s in range(cfg.simsiam_steps):
        loss, m = obj.step(model, {"image": xt[torch.randint(0, len(xt), (cfg.batch_size,),
                                                              generator=g)]})
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if s % 200 == 0 or s == cfg.simsiam_steps - 1:
            log(f"  simsiam seed {seed} step {s}: loss {loss.item():.3f}, "
                f"z_std {float(m['z_std']):.3f}")
    return model.eval(), untrained.eval()


def train_gan(x: np.ndarray, seed: int, steps: int, batch: int):
    torch.manual_seed(seed)
    obj = ARGANObjective()
    model = build("ar_gan", preset="tiny")
    cfg = TrainConfig.from_dict({"model": "ar_gan", "channels": ["hmi_m"], "steps": steps,
                                 "batch_size": batch}, source="benchmark")
    opt, _ = build_optimizers(obj, model, cfg, lambda s: 1.0)
    scaler = torch.amp.GradScaler("cpu", enabled=False)
    g = torch.Generator().manual_seed(seed)
    xt = torch.from_numpy(x)
    model.train()
    for s in range(steps):
        b = {"image": xt[torch.randint(0, len(xt), (batch,), generator=g)]}
        train_step(obj, model, b, opt, scaler, 0.0, False, "cpu", f"step {s}")
    return model.eval()


def latency(sizes, repeats: int, dim: int = 64, n_queries: int = 20) -> dict:
    out = {}
    rng = np.random.default_rng(0)
    for n in sizes:
        v = rng.standard_normal((n, dim), dtype=np.float32)
        qs = rng.standard_normal((n_queries, dim), dtype=np.float32)
        index = ExactIndex(v)
        exact, brute = [], []
        for _ in range(repeats):  # interleaved
            t = time.perf_counter()
            for q in qs:
                index.query(q, 10)
            exact.append((time.perf_counter() - t) / n_queries * 1e3)
            t = time.perf_counter()
            for q in qs:
                brute_force(v, q, 10)
            brute.append((time.perf_counter() - t) / n_queries * 1e3)
        same = all(index.query(q, 10)[0].tolist() == brute_force(v, q, 10)[0].tolist()
                   for q in qs[:5])
        out[str(n)] = {"exact_ms": summarise(exact), "brute_force_ms": summarise(brute),
                       "identical_top10": bool(same)}
        del v, index
    return out


def _outcomes(z, reg, t, gaps) -> dict[str, dict[str, np.ndarray]]:
    """``{gap: {metric: per-query outcome [Q]}}`` (the queries are the same for every arm)."""
    out = {}
    for g in gaps:
        _, ranks = retrieval_ranks(z, reg, t, gap_h=g)
        out[f"gap{int(g)}h"] = outcomes(ranks)
    return out


def retrieval_tables(per_query: dict[str, list[dict]], groups: dict[str, np.ndarray],
                     n_boot: int) -> dict:
    """Per-seed summaries, per-seed paired comparisons and region-bootstrap paired intervals of
    ``simsiam`` against each baseline. ``per_query[arm][seed][gap][metric]`` → ``[Q]``."""
    gaps = list(per_query["simsiam"][0])
    per_seed = {a: [{f"{m}_{g}": float(s[g][m].mean()) for g in gaps for m in METRICS}
                    for s in runs] for a, runs in per_query.items()}
    keys = list(per_seed["simsiam"][0])
    summary = {a: {k: summarise([v[k] for v in vals]) for k in keys} for a, vals in per_seed.items()}
    comparisons = {b: {k: compare([v[k] for v in per_seed["simsiam"]], [v[k] for v in per_seed[b]])
                       for k in keys} for b in BASELINES}

    def mean(_y, p):
        return float(np.mean(p))

    intervals = {}
    for b in BASELINES:
        intervals[b] = {}
        for g in gaps:
            for m in METRICS:
                a = np.stack([s[g][m] for s in per_query["simsiam"]])
                c = np.stack([s[g][m] for s in per_query[b]])
                q = a.shape[1]
                intervals[b][f"{m}_{g}"] = paired_interval(mean, np.zeros(q), a, c, groups[g],
                                                           n_boot=n_boot, seed=0)
    return {"per_seed": per_seed, "summary": summary, "comparisons": comparisons,
            "intervals": intervals}


def run(cfg: SearchBenchmarkConfig, log=print, generative: bool = True) -> dict:
    t0 = time.perf_counter()
    rows = patches_from_shards(f"{cfg.root}/shards", size=cfg.size)
    t = np.array([r["t_obs"] for r in rows], dtype="datetime64[s]")
    split = assign_splits(t)
    x = np.stack([r["image"] for r in rows]).astype(np.float32)
    reg = np.array([r["region"] for r in rows])
    tr, te = split == "train", split == "test"
    xte, rte, tte = x[te], reg[te], t[te]
    # The queries (rows with a partner) depend on times and regions only: the same for every arm.
    groups = {f"gap{int(g)}h": rte[retrieval_ranks(np.ones((len(rte), 1)), rte, tte, gap_h=g)[0]]
              for g in cfg.gaps_h}
    info = {"patches": len(rows), "train": int(tr.sum()), "test": int(te.sum()),
            "test_regions": int(len(set(rte))), "patch_px": cfg.size,
            "pixel_size_mm": rows[0]["pixel_size_mm"],
            "queries": {g: int(len(v)) for g, v in groups.items()},
            "patch_seconds": time.perf_counter() - t0}
    log(f"patches: {info}")
    per_query: dict[str, list] = {a: [] for a in ARMS}
    raw = _outcomes(xte.reshape(len(xte), -1), rte, tte, cfg.gaps_h)
    models = []
    for seed in cfg.seeds:
        t1 = time.perf_counter()
        model, init = train_simsiam(x[tr], seed, cfg, log)
        models.append(model)
        per_query["simsiam"].append(_outcomes(embed(model, xte), rte, tte, cfg.gaps_h))
        per_query["untrained"].append(_outcomes(embed(init, xte), rte, tte, cfg.gaps_h))
        per_query["raw_pixels"].append(raw)
        if seed == cfg.seeds[0]:
            soft = _outcomes(softened_pixels(init, xte), rte, tte, cfg.gaps_h)
        per_query["raw_pixels_softened"].append(soft)
        log(f"seed {seed} ({time.perf_counter() - t1:.0f} s): " + "; ".join(
            f"{a} p@1 " + " ".join(f"{g} {v[-1][g]['p@1'].mean():.3f}" for g in v[-1])
            for a, v in per_query.items()))
    out = {"info": info, **retrieval_tables(per_query, groups, cfg.n_boot)}
    if generative:
        gen: dict[str, list] = {"rho_direction": [], "svm_accuracy": [], "generated_search": []}
        for seed, model in zip(cfg.seeds, models, strict=True):
            # The tiny GAN makes 32-px patches: it trains on the patches' central 32 px.
            gan = train_gan(np.ascontiguousarray(centre(x[tr], 32)), seed, cfg.gan_steps,
                            cfg.batch_size)
            record = D.learn_directions(gan, info["pixel_size_mm"], n=2000, seed=seed)
            dirs = record["directions"]
            gen["svm_accuracy"].append({p: dirs[p]["accuracy"] for p in PARAMETERS})
            gen["rho_direction"].append({p: D.monotonicity(gan, dirs[p], p, info["pixel_size_mm"],
                                                           seed=seed) for p in PARAMETERS})
            gen["generated_search"].append(generated_search(
                gan, lambda v, m=model: embed(m, v), x, info["pixel_size_mm"], cfg.n_generated,
                seed, cfg.noise_gauss))
            log(f"seed {seed}: generated↔match ρ " + ", ".join(
                f"{p} {gen['generated_search'][-1][p]['match'].get('spearman', float('nan')):.2f}"
                for p in PARAMETERS))
        out["generative_per_seed"] = gen
        out["generative"] = {
            "rho_direction": {p: summarise([v[p] for v in gen["rho_direction"]])
                              for p in PARAMETERS},
            **{f"{k}_{pair}": {p: summarise([v[p][pair].get(k) for v in gen["generated_search"]])
                               for p in PARAMETERS}
               for k in ("spearman", "spearman_p") for pair in ("match", "random")},
            "ks_vs_real_statistic": {p: summarise([v[p]["ks_vs_real"]["statistic"]
                                                   for v in gen["generated_search"]])
                                     for p in PARAMETERS}}
        log("latency …")
        out["latency"] = latency(cfg.latency_sizes, cfg.latency_repeats)
    return out


__all__ = ["ARMS", "SearchBenchmarkConfig", "embed", "latency", "retrieval_tables", "run",
           "softened_pixels", "train_gan", "train_simsiam"]
