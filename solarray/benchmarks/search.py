"""SEARCH (Chatterjee 2025) on the benchmark Sun: retrieval, steerable directions, generated queries and
query latency.

* Patches: 32-px cut-outs of ``hmi_m`` around the truth AR masks of the benchmark Sun's shards
  (:func:`solarray.search.patches.patches_from_shards`), split by month (train: Feb/Apr/May,
  test: January). Precision@k (:func:`solarray.search.evaluate.adjacent_precision`) on the test
  patches for trained SimSiam (tiny, the ``simsiam`` objective's step in a plain loop), the same
  network untrained (same initialisation, same seed) and raw pixels; SimSiam with flips and 90°
  rotations as an ablation.
* GAN (tiny ``ar_gan``, the ``ar_gan`` objective's two phases): one LinearSVC direction per
  parameter; Spearman ρ of the parameter against the step along its direction; the Spearman
  correlation between generated queries' parameters and their top-1 retrieved real patches'
  (trained SimSiam LUT of every patch), against randomly paired real patches.
* Latency: :class:`~solarray.search.index.ExactIndex` against brute-force numpy over 10⁵ and 10⁶
  synthetic 64-d latents, interleaved, repeated.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch
from scipy.stats import spearmanr

from solarray.data.dataset import assign_splits
from solarray.metrics.protocol import compare, summarise
from solarray.models import build
from solarray.search import directions as D
from solarray.search.evaluate import adjacent_precision
from solarray.search.index import ExactIndex, brute_force
from solarray.search.parameters import PARAMETERS
from solarray.search.patches import patches_from_shards
from solarray.train.config import TrainConfig
from solarray.train.objectives.ar_gan import ARGANObjective
from solarray.train.objectives.simsiam import SimSiamObjective
from solarray.train.optim import build_optimizers, train_step

SETTINGS = ((1, 0.0), (5, 0.0), (1, 6.0), (5, 6.0))  # (k, held-out window gap_h)


@dataclass
class SearchBenchmarkConfig:
    root: str = ".cache/benchmark_sun"
    seeds: tuple[int, ...] = (0, 1, 2)
    size: int = 32
    simsiam_steps: int = 600
    gan_steps: int = 800
    batch_size: int = 64
    lr: float = 1e-3
    n_generated: int = 128
    latency_sizes: tuple[int, ...] = (100_000, 1_000_000)
    latency_repeats: int = 3


def _metrics(z, reg, t) -> dict[str, float]:
    return {f"p@{k}_gap{int(g)}h": adjacent_precision(z, reg, t, k=k, gap_h=g)["precision_at_k"]
            for k, g in SETTINGS}


def _embed(model, x: np.ndarray) -> np.ndarray:
    model.eval()
    with torch.no_grad():
        return np.concatenate([model(torch.from_numpy(x[i:i + 512]), mode="embed").numpy()
                               for i in range(0, len(x), 512)])


def train_simsiam(x: np.ndarray, seed: int, steps: int, batch: int, lr: float, flips: bool):
    torch.manual_seed(seed)
    model = build("simsiam", preset="tiny")
    untrained = {k: v.clone() for k, v in model.state_dict().items()}
    obj = SimSiamObjective(flips=flips)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    g = torch.Generator().manual_seed(seed)
    xt = torch.from_numpy(x)
    model.train()
    for _ in range(steps):
        loss, _ = obj.step(model, {"image": xt[torch.randint(0, len(xt), (batch,), generator=g)]})
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model, untrained


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


def run(cfg: SearchBenchmarkConfig, log=print) -> dict:
    t0 = time.perf_counter()
    rows = patches_from_shards(f"{cfg.root}/shards", size=cfg.size)
    t = np.array([r["t_obs"] for r in rows], dtype="datetime64[s]")
    split = assign_splits(t)
    x = np.stack([r["image"] for r in rows]).astype(np.float32)
    reg = np.array([r["region"] for r in rows])
    params = {p: np.array([r[p] for r in rows]) for p in PARAMETERS}
    tr, te = split == "train", split == "test"
    info = {"patches": len(rows), "train": int(tr.sum()), "test": int(te.sum()),
            "test_regions": int(len(set(reg[te]))), "patch_px": cfg.size,
            "pixel_size_mm": rows[0]["pixel_size_mm"], "patch_seconds": time.perf_counter() - t0}
    log(f"patches: {info}")
    arms: dict[str, list[dict]] = {a: [] for a in ("simsiam", "untrained", "raw_pixels",
                                                   "simsiam_flips")}
    gen: dict[str, list] = {"rho_direction": [], "corr_generated_vs_match": [],
                            "corr_random_pairs": [], "svm_accuracy": []}
    raw = _metrics(x[te].reshape(te.sum(), -1), reg[te], t[te])
    for seed in cfg.seeds:
        model, init = train_simsiam(x[tr], seed, cfg.simsiam_steps, cfg.batch_size, cfg.lr, False)
        arms["simsiam"].append(_metrics(_embed(model, x[te]), reg[te], t[te]))
        fresh = build("simsiam", preset="tiny")
        fresh.load_state_dict(init)
        arms["untrained"].append(_metrics(_embed(fresh, x[te]), reg[te], t[te]))
        arms["raw_pixels"].append(raw)
        flipped, _ = train_simsiam(x[tr], seed, cfg.simsiam_steps, cfg.batch_size, cfg.lr, True)
        arms["simsiam_flips"].append(_metrics(_embed(flipped, x[te]), reg[te], t[te]))
        log(f"seed {seed}: " + ", ".join(f"{a} {v[-1]}" for a, v in arms.items()))

        gan = train_gan(x[tr], seed, cfg.gan_steps, cfg.batch_size)
        record = D.learn_directions(gan, info["pixel_size_mm"], n=2000, seed=seed)
        dirs = record["directions"]
        gen["svm_accuracy"].append({p: dirs[p]["accuracy"] for p in PARAMETERS})
        gen["rho_direction"].append({p: D.monotonicity(gan, dirs[p], p, info["pixel_size_mm"],
                                                       seed=seed) for p in PARAMETERS})
        # Generated queries → top-1 real match in the LUT of every patch (trained encoder).
        lut = ExactIndex(_embed(model, x))
        zq = np.random.default_rng(100 + seed).standard_normal(
            (cfg.n_generated, gan.config.latent_dim)).astype(np.float32)
        gq = D.generate(gan, zq)
        qp = D.patch_parameters(gan, zq, info["pixel_size_mm"])
        ids, _ = lut.query(_embed(model, gq), 1)
        rnd = np.random.default_rng(seed).integers(0, len(x), cfg.n_generated)

        def corr(a, b):
            ok = np.isfinite(a) & np.isfinite(b)
            return float(spearmanr(a[ok], b[ok]).statistic)

        gen["corr_generated_vs_match"].append({p: corr(qp[p], params[p][ids[:, 0]])
                                               for p in PARAMETERS})
        gen["corr_random_pairs"].append({p: corr(qp[p], params[p][rnd]) for p in PARAMETERS})
        log(f"seed {seed}: directions ρ {gen['rho_direction'][-1]}; generated↔match "
            f"{gen['corr_generated_vs_match'][-1]}")
    keys = list(arms["simsiam"][0])
    summary = {a: {k: summarise([v[k] for v in vals]) for k in keys} for a, vals in arms.items()}
    comparisons = {base: {k: compare([v[k] for v in arms["simsiam"]], [v[k] for v in arms[base]])
                          for k in keys} for base in ("untrained", "raw_pixels", "simsiam_flips")}
    gen_summary = {name: {p: summarise([v[p] for v in vals]) for p in PARAMETERS}
                   for name, vals in gen.items()}
    gen_cmp = {p: compare([v[p] for v in gen["corr_generated_vs_match"]],
                          [v[p] for v in gen["corr_random_pairs"]]) for p in PARAMETERS}
    log("latency …")
    lat = latency(cfg.latency_sizes, cfg.latency_repeats)
    return {"info": info, "per_seed": arms, "summary": summary, "comparisons": comparisons,
            "generative_per_seed": gen, "generative": gen_summary,
            "generated_vs_random": gen_cmp, "latency": lat}


__all__ = ["SearchBenchmarkConfig", "latency", "run", "train_gan", "train_simsiam"]
