"""Model families of solarray (backbones, heads) and the model registry."""
