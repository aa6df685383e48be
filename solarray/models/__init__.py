"""Models: backbones and heads behind one registry.

``build(name, preset=..., **config)`` builds any registered model, ``list_models()`` names them,
``save_model``/``load_model`` write and read self-describing checkpoints. Importing this package
needs only PyTorch (no Ray).
"""

from solarray.models.registry import (
    build,
    checkpoint_dict,
    config_dict,
    get_model_class,
    list_models,
    load_model,
    make_config,
    model_from_checkpoint_dict,
    register,
    save_model,
)

# Importing the family modules registers their models.
from solarray.models import cnn_ae, fpnet, mae, solarchip, spnet, vit  # noqa: E402,F401  isort: skip

__all__ = [
    "build",
    "checkpoint_dict",
    "config_dict",
    "get_model_class",
    "list_models",
    "load_model",
    "make_config",
    "model_from_checkpoint_dict",
    "register",
    "save_model",
]
