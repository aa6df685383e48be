"""The Solar Activity AI Forecaster as a service: one perception → analysis → forecast cycle.

* :mod:`solarray.serve.cycle` — the cycle as a library (no Ray): :func:`~solarray.serve.cycle.run_cycle`
  on one :class:`~solarray.serve.cycle.Sample`, with timings per stage (``solarray demo`` reuses it).
* :mod:`solarray.serve.models` — loading the checkpoints each stage needs (paths or fsspec URIs,
  ``torch.load(weights_only=True)``), with the fallbacks below.
* :mod:`solarray.serve.uploads` — uploaded FITS bytes / a dataset sample → a validated sample.
* :mod:`solarray.serve.render` — the situational-awareness map PNG and the HTML page.
* :mod:`solarray.serve.app` — Ray Serve deployments ``SPNet``, ``IATools``, ``FPNet`` and the FastAPI
  ingress ``Forecaster``; ``serve/app.py`` at the repository root is the thin import path.

Checkpoints: each deployment loads the paths given in its ``user_config`` (``serve/config.yaml``).
When none is configured it looks in :data:`DEFAULT_CHECKPOINT_DIR` (where ``solarray demo`` leaves
its checkpoints, file names in :data:`CHECKPOINT_FILES`), and when that has none it builds *tiny
untrained* models, logs a loud warning, and every response says ``"untrained"`` in its model
versions. A configured checkpoint that fails to load is never replaced: the stage reports the
error and ``/v1/health`` fails.
"""

from __future__ import annotations

import os
from pathlib import Path

#: Environment variable that overrides :data:`DEFAULT_CHECKPOINT_DIR`.
CHECKPOINT_DIR_ENV = "SOLARRAY_CHECKPOINT_DIR"

#: Where ``solarray demo`` writes the checkpoints the service uses when none is configured.
DEFAULT_CHECKPOINT_DIR = Path("~/.solarray/demo/checkpoints")

#: File names inside the checkpoint directory, per role.
CHECKPOINT_FILES: dict[str, str] = {
    "spnet": "spnet.pt",  # solarray.models checkpoint of model "spnet"
    "fpnet_full_disk": "fpnet_full_disk.pt",  # "fpnet", mode full_disk
    "fpnet_ar": "fpnet_ar.pt",  # "fpnet", mode ar
    "hale": "hale.pt",  # solarray.analysis.classify.DualClassifier checkpoint
    "mcintosh": "mcintosh.pt",
}

#: Marker that appears in the model version of every model that was not trained.
UNTRAINED = "untrained"


def default_checkpoint_dir() -> Path:
    """:data:`DEFAULT_CHECKPOINT_DIR` (or ``$SOLARRAY_CHECKPOINT_DIR``), user-expanded."""
    return Path(os.environ.get(CHECKPOINT_DIR_ENV) or DEFAULT_CHECKPOINT_DIR).expanduser()


__all__ = ["CHECKPOINT_DIR_ENV", "CHECKPOINT_FILES", "DEFAULT_CHECKPOINT_DIR", "UNTRAINED",
           "default_checkpoint_dir"]
