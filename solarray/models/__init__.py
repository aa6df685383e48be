"""Models: backbones and heads behind one registry.

``build(name, preset=..., **config)`` builds any registered model, ``list_models()`` names them,
``save_model``/``load_model`` write and read self-describing checkpoints,
:func:`~solarray.models.pretrained.load_encoder` initialises a ViT encoder from a pretrained
checkpoint. Importing this package needs only PyTorch (no Ray).

The family modules import :mod:`solarray.models.registry` and register themselves; importing them
here makes every model known as soon as ``solarray.models`` (or any module in it) is imported.
"""

from solarray.models import (  # noqa: F401  (registration on import)
    ar_gan,
    classifier,
    cnn_ae,
    controlnet,
    fpnet,
    mae,
    pix2pix,
    sigma_vae,
    simsiam,
    solarchip,
    spnet,
    vit,
)
from solarray.models.pretrained import load_encoder
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

__all__ = [
    "build",
    "checkpoint_dict",
    "config_dict",
    "get_model_class",
    "list_models",
    "load_encoder",
    "load_model",
    "make_config",
    "model_from_checkpoint_dict",
    "register",
    "save_model",
]
