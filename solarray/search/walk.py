"""One walk through the AR GAN's latent space along a physical parameter's direction
(``solarray search generate``): the generated patches in gauss and their parameters."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from solarray.core.errors import UsageError
from solarray.models.registry import load_checkpoint
from solarray.search import directions as D
from solarray.search.parameters import PARAMETERS, parameter_table


def generate_walk(gan_path: str, param: str, delta: float, n: int, directions: str | None,
                  pixel_size_mm: float, seed: int = 0) -> dict:
    """``{"deltas", "z", "patches" (G), "parameters", "direction", "directions_file"}`` of one
    walk of ``n`` steps from ``-delta`` to ``+delta`` along ``param``'s direction. The directions
    are read from ``directions`` (default ``<gan>.directions.json``), fitted and saved there when
    missing. Bad values are UsageErrors naming the flag."""
    if param not in PARAMETERS:
        raise UsageError(f"--param: unknown parameter {param!r}; expected one of "
                         f"{', '.join(PARAMETERS)}")
    if n < 1:
        raise UsageError(f"--n must be ≥ 1, got {n}")
    gan = load_checkpoint("--gan", gan_path, "ar_gan")
    dpath = Path(directions or f"{Path(gan_path).with_suffix('')}.directions.json")
    if dpath.exists():
        record = D.load_directions(dpath, gan.config.latent_dim)
    else:
        record = D.learn_directions(gan, pixel_size_mm)
        D.save_directions(record, dpath)
    try:
        direction = D.direction_of(record, param)
    except ValueError as err:
        raise UsageError(f"--param: {err}") from None
    deltas = np.linspace(-delta, delta, n) if n > 1 else np.array([delta])
    z0 = np.random.default_rng(seed).standard_normal((1, gan.config.latent_dim))
    z = D.walk(z0, direction["normal"], deltas)[:, 0]
    gauss = D.to_gauss(D.generate(gan, z), gan.config.channels)
    params = parameter_table(gauss[:, 0], record["pixel_size_mm"])
    return {"deltas": deltas, "z": z, "patches": gauss, "parameters": params,
            "direction": direction, "directions_file": str(dpath)}


__all__ = ["generate_walk"]
