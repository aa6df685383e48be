"""Objectives: what one training step computes, one module per model family. The generic loop
in :mod:`solarray.train.loop` owns everything else (data, optimiser, schedule, AMP, checkpoints,
Ray Train).

* :mod:`~solarray.train.objectives.base`: the :class:`Objective` protocol and the registry;
* :mod:`~solarray.train.objectives.autoencoder`: ``autoencoder`` (``vit_ae``/``cnn_ae`` alone);
* :mod:`~solarray.train.objectives.contrastive`: ``solarchip`` (SolarCHIP ViT/CNN);
* :mod:`~solarray.train.objectives.mae`: ``mae`` (``mae_vit``);
* :mod:`~solarray.train.objectives.spnet`: ``spnet`` (segmentation);
* :mod:`~solarray.train.objectives.fpnet`: ``fpnet`` (flare forecaster);
* :mod:`~solarray.train.objectives.classifier`: ``ar_classifier`` (Hale/McIntosh classes);
* :mod:`~solarray.train.objectives.sigma_vae`: ``sigma_vae`` (sigma-VAE / β-VAE);
* :mod:`~solarray.train.objectives.simsiam`: ``simsiam`` (SimSiam on AR patches);
* :mod:`~solarray.train.objectives.pix2pix`: ``pix2pix`` (Pix2Pix and the ControlNet-style
  translator: L1, optionally + cGAN in discriminator/generator phases).

Importing this package registers them all, so a fresh process (a Ray Train worker) finds each
by name.
"""

from solarray.train.objectives import (  # noqa: F401  (registration on import)
    ar_gan,
    autoencoder,
    classifier,
    contrastive,
    fpnet,
    mae,
    pix2pix,
    sigma_vae,
    simsiam,
    spnet,
)
from solarray.train.objectives.base import (
    Objective,
    get_objective,
    list_objectives,
    objective_for_model,
    register_objective,
)

__all__ = ["Objective", "get_objective", "list_objectives", "objective_for_model",
           "register_objective"]
