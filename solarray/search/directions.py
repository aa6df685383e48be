"""Physically steerable directions in the GAN's latent space (Chatterjee 2025).

Sample latents ``z``, generate patches, compute their parameters
(:func:`~solarray.search.parameters.parameters` on the unscaled ``hmi_m`` in G), and fit one
linear SVM per parameter separating high from low (split at the median). The unit normal of
its decision boundary is the direction along which that parameter grows; :func:`walk` moves
latents along it and :func:`monotonicity` measures the Spearman ρ of the parameter against the
step along the walk.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
from scipy.stats import spearmanr
from sklearn.svm import LinearSVC

from solarray.core import channels as chans
from solarray.core.atomic import write_text
from solarray.search.parameters import PARAMETERS, check_parameter, parameter_table


def generate(model, z: np.ndarray, batch: int = 256) -> np.ndarray:
    """Scaled patches ``[N, C, S, S]`` of the GAN ``model`` at latents ``z`` ``[N, L]``."""
    model.eval()
    out = []
    with torch.no_grad():
        for i in range(0, len(z), batch):
            out.append(model(z=torch.from_numpy(np.asarray(z[i:i + batch], np.float32)),
                             mode="generate").numpy())
    return np.concatenate(out)


def to_gauss(scaled: np.ndarray, channels) -> np.ndarray:
    """Scaled patches → physical units per channel (G for ``hmi_m``)."""
    return np.stack([chans.get(c).unscale(scaled[:, i]) for i, c in enumerate(channels)], 1)


def patch_parameters(model, z: np.ndarray, pixel_size_mm: float) -> dict[str, np.ndarray]:
    """Parameters of the generated patches at ``z`` (computed on the first channel, hmi_m)."""
    gauss = to_gauss(generate(model, z), model.config.channels)
    return parameter_table(gauss[:, 0], pixel_size_mm)


def fit_directions(z: np.ndarray, params: dict[str, np.ndarray],
                   names: tuple[str, ...] = PARAMETERS, C: float = 1.0) -> dict[str, Any]:
    """``{name: {"normal", "intercept", "median", "accuracy"}}``: one LinearSVC per parameter
    (label: value > median; NaN values left out), normal scaled to unit length. A parameter
    whose generated values do not spread (e.g. no positive flux at all from an untrained
    generator) gets ``{"unavailable": reason}`` instead; ValueError when none spreads."""
    out = {}
    for name in names:
        v = np.asarray(params[check_parameter(name)], dtype=np.float64)
        ok = np.isfinite(v)
        med = float(np.median(v[ok])) if ok.any() else float("nan")
        y = (v[ok] > med).astype(int)
        if not ok.any() or y.min() == y.max():
            out[name] = {"unavailable": f"parameter {name}: no spread among the "
                                        f"{len(v)} generated patches, so no latent direction"}
            continue
        svm = LinearSVC(C=C, dual="auto", max_iter=5000).fit(z[ok], y)
        w = svm.coef_[0]
        norm = float(np.linalg.norm(w))
        out[name] = {"normal": (w / norm).tolist(), "intercept": float(svm.intercept_[0] / norm),
                     "median": med, "accuracy": float(svm.score(z[ok], y))}
    if all("unavailable" in d for d in out.values()):
        raise ValueError("no parameter spreads among the generated patches: the GAN generates "
                         "no usable magnetograms (is it trained?)")
    return out


def direction_of(record: dict[str, Any], name: str) -> dict[str, Any]:
    """The direction of parameter ``name`` in a directions record; ValueError naming why when
    the generator gave it none."""
    d = record["directions"][check_parameter(name)]
    if "unavailable" in d:
        raise ValueError(d["unavailable"])
    return d


def walk(z0: np.ndarray, normal, deltas) -> np.ndarray:
    """Latents ``z0 + δ·n`` for each δ: ``[len(deltas), N, L]`` (``z0`` ``[N, L]``)."""
    n = np.asarray(normal, dtype=np.float32)
    return np.stack([np.asarray(z0, np.float32) + float(d) * n for d in deltas])


def monotonicity(model, direction: dict[str, Any], name: str, pixel_size_mm: float,
                 n_start: int = 32, deltas=(-3, -2, -1, 0, 1, 2, 3), seed: int = 0) -> float:
    """Mean over ``n_start`` random starts of Spearman ρ(δ, parameter) along the walk."""
    deltas = np.asarray(deltas, dtype=np.float64)
    z0 = np.random.default_rng(seed).standard_normal(
        (n_start, model.config.latent_dim)).astype(np.float32)
    zs = walk(z0, direction["normal"], deltas)
    vals = patch_parameters(model, zs.reshape(-1, zs.shape[-1]), pixel_size_mm)[name]
    vals = vals.reshape(len(deltas), n_start)
    rhos = [spearmanr(deltas, vals[:, j]).statistic for j in range(n_start)
            if np.isfinite(vals[:, j]).all() and np.ptp(vals[:, j]) > 0]
    return float(np.mean(rhos)) if rhos else float("nan")


def learn_directions(model, pixel_size_mm: float, n: int = 2000, seed: int = 0
                     ) -> dict[str, Any]:
    """Sample ``n`` latents, generate, fit every parameter's direction → a directions record."""
    z = np.random.default_rng(seed).standard_normal((n, model.config.latent_dim)).astype(np.float32)
    dirs = fit_directions(z, patch_parameters(model, z, pixel_size_mm))
    return {"pixel_size_mm": float(pixel_size_mm), "latent_dim": model.config.latent_dim,
            "n_samples": n, "seed": seed, "directions": dirs}


def save_directions(record: dict[str, Any], path: str | os.PathLike) -> Path:
    return write_text(Path(path), json.dumps(record, indent=1))


def load_directions(path: str | os.PathLike, latent_dim: int) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"directions file not found: {path}")
    record = json.loads(path.read_text())
    if record.get("latent_dim") != latent_dim:
        raise ValueError(f"{path}: directions for a {record.get('latent_dim')}-d latent space, "
                         f"the GAN's is {latent_dim}-d")
    return record


__all__ = ["direction_of", "fit_directions", "generate", "learn_directions", "load_directions", "monotonicity",
           "patch_parameters", "save_directions", "to_gauss", "walk"]
